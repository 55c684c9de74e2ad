"""``python -m lamina`` runs the command line."""

from lamina.cli import main

raise SystemExit(main())
