"""``Module`` and ``Parameter``, from the public ``lamina.nn``."""

from __future__ import annotations

from lamina.nn import Module, Parameter

__all__ = ["Module", "Parameter"]
