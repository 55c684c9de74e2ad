"""PEP 562 ``__getattr__`` / ``__dir__`` for the namespace modules (lamina.nn, lamina.optim, ...)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from typing import Any

# Light on purpose: lamina.nn & co. call namespace() at import; the index loads at first lookup.
from ._caches import caches as _caches


def _submodule(module_name: str, name: str):
    """A submodule of the namespace package (``from lamina.nn import functional``) found without a scan."""
    full = f"{module_name}.{name}"
    if full in sys.modules:
        return sys.modules[full]
    parent = sys.modules.get(module_name)
    if parent is None or getattr(parent, "__path__", None) is None or not name.isidentifier():
        return None
    if importlib.util.find_spec(full) is None:
        return None
    return importlib.import_module(full)


def namespace(
    groups: tuple[str, ...], module_name: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` serving the plugin names of ``groups`` as attributes of ``module_name``.

    Usage, in ``lamina/nn/__init__.py``::

        __getattr__, __dir__ = _plugins.namespace(("lamina.layers", "lamina.losses"), __name__)
    """
    groups = tuple(groups)
    cache: dict[str, object] = {}
    _caches.append(cache)

    def __getattr__(name: str) -> Any:
        try:
            return cache[name]
        except KeyError:
            pass
        if name.startswith("_"):
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        sub = _submodule(module_name, name)
        if sub is not None:
            return sub
        from . import _registry

        obj = _registry.lookup(groups, name, module_name, module=True)
        cache[name] = obj
        return obj

    def __dir__() -> list[str]:
        from . import _registry

        module = sys.modules.get(module_name)
        own = set(vars(module)) if module is not None else set()
        return sorted(own | {n for n in _registry.names_in(groups) if not n.startswith("_")})

    __getattr__.__qualname__ = f"{module_name}.__getattr__"
    __dir__.__qualname__ = f"{module_name}.__dir__"
    return __getattr__, __dir__
