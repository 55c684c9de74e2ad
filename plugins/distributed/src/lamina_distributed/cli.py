"""``lamina run``: the subcommand this distribution adds to the ``lamina`` command line (entry point
``run = "lamina_distributed.cli:command"`` in the group ``lamina.cli``); usage in :mod:`lamina_distributed.run`."""

from __future__ import annotations

import argparse

from lamina.cli import Command

from .run import configure, run_command


def _run(args: argparse.Namespace) -> int:
    return run_command(args, "lamina run")


command = Command("run", help="run a program here as python would, or as N MPI ranks (--nproc-per-node N)",
                  configure=configure, run=_run)
