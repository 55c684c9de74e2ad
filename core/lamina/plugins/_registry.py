"""The process-wide plugin index: one lazy scan, in-process registrations, preferences, caches."""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from .._base.errors import PluginConfigError, PluginConflictError, PluginError, PluginLoadError, PluginNotFoundError
from . import _caches, _load, _messages, _scan
from ._records import (
    COLLECTION_GROUPS,
    FAMILIES,
    IN_PROCESS_DIST,
    NAMED_GROUPS,
    Entry,
    Index,
    is_collection,
    is_known_group,
)
from ._settings import ENV_STRICT, Settings, normalize

_lock = threading.RLock()
_settings: Settings | None = None
_index: Index | None = None
_registered: dict[tuple[str, str], Entry] = {}
_api_prefer: dict[str, str] = {}  # name -> normalised distribution, from prefer()
_objects: dict[tuple[str, str], object] = {}  # resolve() cache
_invalidate_callbacks: list[Callable[[], None]] = []
scan_count = 0  # how many entry-point scans this process did (tests check `import lamina` did none)


@dataclass(frozen=True)
class EntryInfo:
    """A public, read-only view of one entry point."""

    group: str
    name: str
    distribution: str
    version: str
    value: str
    first_party: bool


def _info(entry: Entry) -> EntryInfo:
    return EntryInfo(entry.group, entry.name, entry.dist.name, entry.dist.version, entry.value,
                     entry.dist.first_party)


def settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = Settings.from_env()
    return _settings


def on_invalidate(callback: Callable[[], None]) -> None:
    _invalidate_callbacks.append(callback)


def index_built() -> bool:
    return _index is not None


def _invalidate() -> None:
    _objects.clear()
    _caches.clear_caches()
    for callback in _invalidate_callbacks:
        callback()


def index() -> Index:
    """The name index, built by one scan at first use."""
    global _index, scan_count
    idx = _index
    if idx is not None:
        return idx
    with _lock:
        if _index is not None:
            return _index
        s = settings()
        idx = _scan.scan(s)
        scan_count += 1
        _index = idx
        if s.strict:
            try:
                _check_strict(idx, s)
            except PluginError:
                _index = None
                raise
        for callback in _caches.on_index:
            callback()
        return idx


def _check_strict(idx: Index, s: Settings) -> None:
    """LAMINA_STRICT_PLUGINS=1: load every allowed entry now and raise on the first scan if anything
    is wrong, instead of recording it."""
    failures: list[PluginError] = []
    for entry in list(idx.entries()):
        if entry.active:
            try:
                _load.load(entry, trace_on=s.trace)
            except PluginError as exc:
                failures.append(exc)
    problems = idx.problems + [str(f) for f in failures]
    if problems:
        listing = "\n  - ".join(problems)
        message = f"{ENV_STRICT}=1 and {len(problems)} plugin problem(s) were found:\n  - {listing}"
        raise PluginLoadError(message) from (failures[0] if failures else None)


def preferences() -> dict[str, str]:
    return {**settings().prefer, **_api_prefer}


def _found(groups: tuple[str, ...], name: str) -> tuple[list[Entry], list[Entry]]:
    """(usable candidates, blocked or ignored entries) for ``name`` over ``groups``."""
    idx = index()
    registered = [_registered[(g, name)] for g in groups if (g, name) in _registered]
    installed = [e for g in groups for e in idx.groups.get(g, {}).get(name, ())]
    if len(registered) == 1 and registered[0].replace:
        return registered, []
    return registered + [e for e in installed if e.active], [e for e in installed if not e.active]


def select(groups: tuple[str, ...], name: str, where: str, *, module: bool = False) -> Entry:
    """The one entry that serves ``name``; raises PluginNotFoundError or PluginConflictError.
    ``where`` names a namespace module (``module=True``) or a group, for messages."""
    candidates, inactive = _found(groups, name)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise _messages.not_found(groups, name, where, index(), settings(), inactive, names_in(groups),
                                  module=module)
    preferred = preferences().get(name)
    chosen = [e for e in candidates if e.dist.key == preferred]
    if len(chosen) == 1:
        return chosen[0]
    raise _messages.conflict(name, where, candidates, preferred)


def lookup(groups: tuple[str, ...], name: str, where: str, *, module: bool = False) -> object:
    with _lock:
        entry = select(groups, name, where, module=module)
        return _load.load(entry, trace_on=settings().trace)


def resolve(group: str, name: str) -> object:
    """Load (importing only the module that provides it), cache and return ``name`` of ``group``."""
    key = (group, name)
    try:
        return _objects[key]
    except KeyError:
        pass
    obj = lookup((group,), name, group)
    _objects[key] = obj
    return obj


def names_in(groups: tuple[str, ...]) -> list[str]:
    idx = index()
    out = {name for g in groups for name, found in idx.groups.get(g, {}).items()
           if any(e.active for e in found)}
    out.update(name for (g, name) in _registered if g in groups)
    return sorted(out)


def names(group: str) -> list[str]:
    """The names offered in ``group``, from metadata only (nothing is imported)."""
    return names_in((group,))


def entries(group: str | None = None, *, distribution: str | None = None) -> list[EntryInfo]:
    """Every usable entry (not blocked, not ignored), optionally of one group or one distribution."""
    want = None if distribution is None else normalize(distribution)
    found = [e for e in index().entries(group) if e.active]
    found += [e for (g, _), e in _registered.items() if group is None or g == group]
    return [_info(e) for e in found if want is None or e.dist.key == want]


def active_entries(group: str) -> list[Entry]:
    """Internal: the usable Entry records of a collection group, in a stable order."""
    found = [e for e in index().entries(group) if e.active]
    found.sort(key=lambda e: (not e.dist.first_party, e.dist.key, e.name))
    return found + [e for (g, _), e in _registered.items() if g == group]


def registered_entries() -> list[Entry]:
    return list(_registered.values())


def _check_group(group: str) -> None:
    if not is_known_group(group):
        valid = [*NAMED_GROUPS, *COLLECTION_GROUPS, *(f"{p}<device_type>" for p in FAMILIES)]
        raise PluginConfigError(f"unknown plugin group {group!r}; expected one of {valid}")


def register(group: str, name: str, obj: object, *, replace: bool = False) -> None:
    """Register ``obj`` as ``name`` in ``group`` for this process (shown as "<in-process>")."""
    _check_group(group)
    if not _scan._NAME.fullmatch(name):
        raise PluginConfigError(f"plugin name must be an identifier or a dotted name like 'acme.GatedConv', "
                                f"got {name!r}")
    with _lock:
        key = (group, name)
        if key in _registered and not replace:
            raise PluginConflictError(f"{name!r} is already registered in-process in group {group!r}; pass "
                                      f"replace=True to replace it")
        if _index is not None and not replace and not is_collection(group):
            installed = [e for e in _index.groups.get(group, {}).get(name, ()) if e.active]
            if installed:
                raise PluginConflictError(
                    f"{name!r} in group {group!r} is already offered by {installed[0].describe()}; pass "
                    f"replace=True to shadow it in this process")
        _registered[key] = Entry(group=group, name=name, dist=IN_PROCESS_DIST, value=_describe(obj),
                                 obj=obj, replace=replace)
        _invalidate()


def _describe(obj: object) -> str:
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None) or type(obj).__name__
    return f"{getattr(obj, '__module__', '?')}:{qualname}"


def unregister(group: str, name: str) -> None:
    """Remove an in-process registration."""
    with _lock:
        if _registered.pop((group, name), None) is None:
            err = PluginNotFoundError(f"{name!r} is not registered in-process in group {group!r}")
            err.name = name
            raise err
        _invalidate()


def prefer(name: str, distribution: str | None) -> None:
    """Let ``distribution`` serve ``name`` when several offer it (None forgets the preference)."""
    with _lock:
        if distribution is None:
            _api_prefer.pop(name, None)
        else:
            _api_prefer[name] = normalize(distribution)
        _invalidate()


def refresh(*, clear_registered: bool = False) -> None:
    """Forget the scan, the loaded objects, kept failures and the environment settings (read again at
    next use). In-process registrations and prefer() calls survive unless ``clear_registered``."""
    global _settings, _index
    with _lock:
        _settings = None
        _index = None
        if clear_registered:
            _registered.clear()
            _api_prefer.clear()
        _load.forget_module_failures()
        _invalidate()
        importlib.invalidate_caches()
        md = sys.modules.get("importlib_metadata")
        if md is not None:
            md.MetadataPathFinder.invalidate_caches()
        hooks = sys.modules.get("lamina.hooks")
        if hooks is not None:
            hooks._reset(clear_registered=clear_registered)
