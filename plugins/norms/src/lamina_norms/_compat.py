"""``Module`` and ``Parameter`` from ``lamina.nn``.

While ``lamina.nn`` has no ``__init__`` re-exporting them (the package is being finished), they
are taken from the modules that define them; drop the fallback once ``lamina.nn`` exports them.
"""

from __future__ import annotations

try:
    from lamina.nn import Module, Parameter
except ImportError:  # pragma: no cover - depends on the core's state
    from lamina.nn.module import Module
    from lamina.nn.parameter import Parameter

__all__ = ["Module", "Parameter"]
