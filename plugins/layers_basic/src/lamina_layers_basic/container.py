"""``nn.Container``: PyTorch's deprecated module holder (every keyword argument becomes a child module)."""

from __future__ import annotations

import warnings
from typing import Any

from lamina.nn import Module

from . import __lamina_plugin_api__  # noqa: F401


class Container(Module):
    """Deprecated (warns, as PyTorch does): ``Container(a=m1, b=m2)`` is a Module with children a and b.

    No forward of its own. Shape: none (a holder of modules).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        warnings.warn("`nn.Container` is deprecated. All of its functionality is now implemented in `nn.Module`. "
                      "Subclass that instead.", FutureWarning, stacklevel=2)
        for key, value in kwargs.items():
            self.add_module(key, value)
