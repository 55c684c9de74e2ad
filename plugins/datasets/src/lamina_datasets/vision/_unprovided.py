"""Modules of torchvision that lamina-datasets does not provide: importable, every name refused loudly."""

from __future__ import annotations

from typing import NoReturn

__all__ = ["refuse"]


def refuse(module: str, what: str):
    """A module ``__getattr__`` that raises ``NotImplementedError`` naming ``module.<name>`` and ``what``.

    Dunder names raise ``AttributeError`` so that import machinery, pickling and ``hasattr`` probes of
    module metadata behave as for any module.
    """
    def __getattr__(name: str) -> NoReturn:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        raise NotImplementedError(f"{module}.{name}: lamina-datasets does not provide {what}; only "
                                  "torchvision.datasets, torchvision.transforms and torchvision.utils are provided")
    return __getattr__
