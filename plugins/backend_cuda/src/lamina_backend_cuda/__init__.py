"""lamina's CUDA backend (device type ``cuda``, array namespace ``cupy``).

Importing this package imports neither CuPy nor a CUDA library: the backend class lives in
``backend.py`` and imports CuPy when it is instantiated, after ``probe()`` said the device answers.
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"
