"""Utilities: ``lamina.utils.summary``; ``lamina.utils.data`` comes from the ``lamina-data`` plugin.

Submodules (and plugin-served ones) are imported on first attribute access, so ``import lamina``
stays light.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any


def __getattr__(name: str) -> Any:
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
