"""``lamina.nn.init``: weight-initialisation schemes, all provided by plugins (group ``lamina.init``).

PyTorch code often calls the private helpers ``_calculate_fan_in_and_fan_out`` and
``_calculate_correct_fan``; the namespace hides underscore names, so they are forwarded explicitly.
"""

from __future__ import annotations

from typing import Any

from .. import plugins as _plugins

__getattr__, __dir__ = _plugins.namespace(("lamina.init",), __name__)


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    return _plugins.resolve("lamina.init", "_calculate_fan_in_and_fan_out")(tensor)


def _calculate_correct_fan(tensor: Any, mode: str) -> int:
    return _plugins.resolve("lamina.init", "_calculate_correct_fan")(tensor, mode)
