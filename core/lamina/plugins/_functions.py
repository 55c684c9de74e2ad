"""Top-level functions and ``Tensor`` methods provided by plugins (DESIGN.md §3)::

    [project.entry-points."lamina.functions"]
    erfinv = "lamina_special.erf:erfinv"          # lamina.erfinv
    [project.entry-points."lamina.tensor_methods"]
    erfinv = "lamina_special.erf:erfinv"          # x.erfinv(), lamina.Tensor.erfinv

Rules and decisions
-------------------
* Served lazily, like ``nn.X``: ``lamina.<name>`` asks the index only when the core has no such
  name (``lamina.__getattr__``), and a tensor method only when the class has none (``Tensor``'s
  ``__getattr__`` and its metaclass's): the core's own names always win, and a plugin cannot
  shadow them (``lamina plugins`` and tests/test_plugins_functions.py flag a first-party entry that
  the core already serves).
* A method entry is a function whose first argument is the tensor, or a ``property``; on first use
  it is set on the Tensor class, so later calls cost what a core method costs. Index changes
  (refresh, register, prefer) take the installed methods off again.
* Index rules apply as to any named group: conflicts, preferences, LAMINA_PLUGINS, kept load errors.
  A name the first-party table knows but nothing installed serves raises PluginNotFoundError (an
  AttributeError) naming the distribution and the pip command; any other unknown name gets the
  plain AttributeError Python would give.
"""

from __future__ import annotations

from .._base.errors import PluginNotFoundError
from . import _caches, _first_party

# `import lamina` imports this module (serve) but not the index: _registry is imported at first use.

FUNCTIONS = "lamina.functions"
TENSOR_METHODS = "lamina.tensor_methods"

_functions: dict[str, object] = {}
_caches.caches.append(_functions)
_installed: dict[type, set[str]] = {}  # class -> method names set on it from the index


def _known(group: str, name: str) -> bool:
    """Whether the index or the first-party table has ``name`` in ``group`` (installed or not)."""
    from . import _registry

    if _first_party.provider((group,), name) is not None:
        return True
    idx = _registry.index()
    return bool(idx.groups.get(group, {}).get(name)) or (group, name) in _registry._registered


def function(name: str) -> object:
    """``lamina.<name>`` from the entry-point group ``lamina.functions``."""
    try:
        return _functions[name]
    except KeyError:
        pass
    if name.startswith("_") or not _known(FUNCTIONS, name):
        raise AttributeError(f"module 'lamina' has no attribute {name!r}")
    from . import _registry

    obj = _registry.lookup((FUNCTIONS,), name, "lamina", module=True)
    _functions[name] = obj
    return obj


class _LazyMethod:
    """A method of the Tensor class that a plugin provides: on first access (instance or class) it
    loads the entry point and puts the real object in its own place on the class."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, cls: type | None = None) -> object:
        owner = cls if cls is not None else type(obj)
        real = _load_method(self.name)
        for klass in owner.__mro__:  # set it where this placeholder sits (the assembled Tensor)
            if vars(klass).get(self.name) is self:
                setattr(klass, self.name, real)
                _installed.setdefault(klass, set()).add(self.name)
                break
        return real.__get__(obj, owner) if hasattr(real, "__get__") else real


def _load_method(name: str) -> object:
    from . import _registry

    try:
        return _registry.lookup((TENSOR_METHODS,), name, "lamina.Tensor", module=True)
    except PluginNotFoundError as exc:
        exc.args = (str(exc).replace("module 'lamina.Tensor' has no attribute", "'Tensor' object has no attribute",
                                     1),)
        raise


_tensor_cls: list[type] = []
_core: list[object] = []  # the lamina package, handed down by lamina/__init__ (the plugin layer is below it)


def serve(core_module: object, tensor_cls: type) -> None:
    """Called once by ``lamina/__init__``: remember the package and put the first-party placeholders on
    the assembled Tensor."""
    _core[:] = [core_module]
    install_methods(tensor_cls)
    _caches.on_clear.append(uninstall)
    _caches.on_index.append(on_index)


def install_methods(tensor_cls: type, names: object = None) -> None:
    """Put a placeholder on ``tensor_cls`` for each method name the first-party table knows (at import:
    no entry point is read) or, with ``names``, for those names (the index's, once it is built).
    Names the class already has are left alone: the core's methods win."""
    if not _tensor_cls:
        _tensor_cls.append(tensor_cls)
    wanted = _first_party.table_names((TENSOR_METHODS,)) if names is None else names
    for name in wanted:
        if not any(name in vars(klass) for klass in tensor_cls.__mro__):
            setattr(tensor_cls, name, _LazyMethod(name))


def uninstall() -> None:
    """Put the placeholders back (the index changed: refresh, register, prefer)."""
    from . import _registry

    for cls, names in _installed.items():
        for name in names:
            setattr(cls, name, _LazyMethod(name))
    _installed.clear()
    if _tensor_cls:  # in-process registrations are served at once
        install_methods(_tensor_cls[0], [n for (g, n) in _registry._registered if g == TENSOR_METHODS])
        if _registry.index_built():
            on_index()


def on_index() -> None:
    """Placeholders for every method name of the index (third-party ones included). The index is
    built at the first tensor creation (the backend lookup), so they are there before any tensor."""
    from . import _registry

    if _tensor_cls:
        install_methods(_tensor_cls[0], _registry.names(TENSOR_METHODS))


def shadowed() -> list[str]:
    """Entries of the two groups that the core already serves (so the plugin's object is never used)."""
    from . import _registry

    if not _core:
        return []
    core_module, tensor_cls = _core[0], _tensor_cls[0]
    out = [f"{FUNCTIONS}:{n}" for n in _registry.names(FUNCTIONS) if n in vars(core_module)]
    core_methods = {n for klass in tensor_cls.__mro__ for n, v in vars(klass).items()
                    if not isinstance(v, _LazyMethod)} - {n for names in _installed.values() for n in names}
    out += [f"{TENSOR_METHODS}:{n}" for n in _registry.names(TENSOR_METHODS) if n in core_methods]
    return out
