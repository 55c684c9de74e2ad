"""Modules provided by plugins: ``lamina.<namespace>`` served by a module that a distribution names
in the entry-point group ``lamina.namespaces`` (DESIGN.md §3, the group for namespaces)::

    [project.entry-points."lamina.namespaces"]
    testing = "lamina_testkit"          # import lamina.testing  ->  the module lamina_testkit
    "nn.parallel" = "lamina_distributed.parallel"    # dotted: lamina.nn.parallel

Rules and decisions
-------------------
* A namespace may lie under another plugin's (``utils.data.distributed`` under ``utils.data``): the
  outer module's own submodules win, then the index is asked.
* The core's own modules always win: the index is consulted only for a ``lamina.*`` name that no
  other finder (the core's files, nn.utils' own submodule finder) provides, so ``import lamina`` and
  ``import lamina.nn`` read no entry point.
* The providing module is imported on first use (``import lamina.testing``, ``from lamina import
  testing`` or the attribute ``lamina.testing``) and ALIASED, not copied: ``lamina.testing is
  lamina_testkit`` and ``lamina.testing.records is lamina_testkit.records`` (one module object
  under two names; classes keep their own ``__module__``, so pickles name the real module).
* Index rules apply as to any named group: LAMINA_PLUGINS / LAMINA_DISABLE_PLUGINS, conflicts and
  preferences, the plugin-API handshake, broken modules kept and re-raised chained
  (PluginLoadError), ``lamina plugins`` lists the entries.
* A namespace that the first-party table knows, or that a blocked distribution offers, but that
  nothing installed serves raises NamespaceNotFoundError: a ModuleNotFoundError (so ``except
  ImportError`` works) and a PluginError, naming the distribution and the pip command. Any other
  unknown name gets Python's plain ModuleNotFoundError.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from collections.abc import Callable

from .._base.errors import NamespaceNotFoundError, PluginError, PluginLoadError

GROUP = "lamina.namespaces"
PACKAGE = "lamina"
_PREFIX = PACKAGE + "."

_lock = threading.RLock()
_aliases: dict[str, str] = {}  # "lamina.testing" -> "lamina_testkit": names under the key are served from the value


def _aliased(fullname: str) -> str | None:
    """The real module name behind ``fullname`` when it lies under an aliased namespace."""
    for alias, real in _aliases.items():
        if fullname.startswith(alias + "."):
            return real + fullname[len(alias):]
    return None


def _alias(fullname: str, module: types.ModuleType) -> None:
    """Record ``fullname`` as another name of ``module`` and of its submodules imported so far (so that
    importing one of those under the alias finds it in sys.modules and does not re-bind its parent's
    attribute, which may be a function of the same name: lamina.testing.gradcheck)."""
    real = module.__name__
    with _lock:
        if fullname != real and _aliased(fullname) is None:
            _aliases[fullname] = real
        for name, sub in list(sys.modules.items()):
            if name.startswith(real + ".") and sub is not None:
                sys.modules.setdefault(fullname + name[len(real):], sub)


class _AliasLoader(importlib.abc.Loader):
    """Hands the import system an already-imported module under another name."""

    def __init__(self, fullname: str, load: Callable[[], types.ModuleType], real: str | None = None) -> None:
        self._fullname = fullname
        self._load = load
        self._real = real
        self._real_spec = None

    def get_code(self, fullname: str):
        """The real module's code, for ``python -m lamina.<alias>.<module>`` (runpy runs it as __main__)."""
        spec = importlib.util.find_spec(self._real) if self._real is not None else None
        get_code = getattr(spec.loader, "get_code", None) if spec is not None else None
        if get_code is None:
            raise ImportError(f"no code object for {fullname!r}", name=fullname)
        return get_code(self._real)

    def create_module(self, spec):
        module = self._load()
        self._real_spec = module.__spec__  # the import system overwrites __spec__ next: exec_module puts it back
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        module.__spec__ = self._real_spec  # (a module whose __spec__.parent differs from __package__ warns)
        _alias(self._fullname, module)


class NamespaceFinder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path`` (so that submodules of an alias are never imported twice); answers
    only for ``lamina.*`` names, and for those only after every other finder had its say."""

    def find_spec(self, fullname: str, path=None, target=None):
        if not fullname.startswith(_PREFIX):
            return None
        real = _aliased(fullname)
        if real is not None:  # under a served namespace: its own submodule, else another plugin's namespace
            return _child_spec(fullname, real) or _plugin_spec(fullname)
        for finder in sys.meta_path:
            if finder is self or isinstance(finder, NamespaceFinder):
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find is not None else None
            if spec is not None:
                return spec  # the core (or another finder) has it
        return _plugin_spec(fullname)


def _child_spec(fullname: str, real: str):
    if real not in sys.modules and importlib.util.find_spec(real) is None:
        return None
    return importlib.machinery.ModuleSpec(fullname, _AliasLoader(fullname, lambda: importlib.import_module(real), real))


def _plugin_spec(fullname: str):
    """A spec serving ``fullname`` from the plugin index, None when nothing knows the name."""
    from . import _first_party, _messages, _registry

    name = fullname[len(_PREFIX):]
    candidates, inactive = _registry._found((GROUP,), name)
    if not candidates:
        if not inactive and _first_party.provider((GROUP,), name) is None:
            return None
        found = _messages.not_found((GROUP,), name, GROUP, _registry.index(), _registry.settings(), inactive,
                                    _registry.names_in((GROUP,)), head=f"No module named {fullname!r}")
        raise NamespaceNotFoundError(str(found), name=fullname)
    entry = _registry.select((GROUP,), name, GROUP)  # one candidate, or the stated preference; else a conflict

    def load() -> types.ModuleType:
        from . import _load

        with _registry._lock:
            module = _load.load(entry, trace_on=_registry.settings().trace)
        if not isinstance(module, types.ModuleType):
            raise PluginLoadError(f"namespace {name!r} (group {GROUP}) from {entry.dist.label()} is {module!r}, "
                                  f"not a module (entry point {entry.value!r})")
        return module

    return importlib.machinery.ModuleSpec(fullname, _AliasLoader(fullname, load))


def install_finder() -> NamespaceFinder:
    """Put the finder first on ``sys.meta_path`` (once per process); ``lamina/__init__.py`` calls this."""
    for finder in sys.meta_path:
        if isinstance(finder, NamespaceFinder):
            return finder
    finder = NamespaceFinder()
    sys.meta_path.insert(0, finder)
    return finder


def provided_module(package: str, name: str) -> types.ModuleType | None:
    """``<package>.<name>`` when a plugin provides it, for a package's PEP 562 ``__getattr__``: imported
    now (NamespaceNotFoundError or PluginLoadError when it is known but unavailable); None when no
    module of that name exists."""
    fullname = f"{package}.{name}"
    module = sys.modules.get(fullname)
    if module is not None:
        return module
    if not name.isidentifier() or name.startswith("_"):
        return None
    try:
        return importlib.import_module(fullname)
    except ModuleNotFoundError as exc:
        if exc.name == fullname and not isinstance(exc, PluginError):
            return None
        raise
