"""Backends, kernel packs and other groups whose entries are all used."""

from __future__ import annotations

from .._base.errors import PluginError, PluginLoadError, PluginNotFoundError
from . import _load, _registry
from ._records import UNSET, Failure
from ._settings import ENV_BACKENDS

_backend_cache: dict[str, list[tuple[str, object]]] = {}
_registry.on_invalidate(_backend_cache.clear)


def probe_backend(cls: object) -> tuple[bool, str]:
    """Call ``cls.probe()`` and return ``(ok, reason)``; never raises."""
    probe = getattr(cls, "probe", None)
    if not callable(probe):
        return False, f"{getattr(cls, '__name__', cls)!r} has no probe() method"
    try:
        result = probe()
    except Exception as exc:  # a probe must never break discovery
        return False, f"probe() raised {type(exc).__name__}: {exc}"
    if not (isinstance(result, tuple) and len(result) == 2):
        return False, f"probe() returned {result!r}; expected (ok: bool, reason: str)"
    return bool(result[0]), str(result[1])


def _order(group: str, names: list[str]) -> list[str]:
    idx = _registry.index()

    def first_party(name: str) -> bool:
        return any(e.dist.first_party for e in idx.groups.get(group, {}).get(name, ()))

    return sorted(names, key=lambda n: (not first_party(n), n))


def load_backend_classes(device_type: str) -> list[tuple[str, type | BaseException]]:
    """The backends of ``device_type`` as ``(name, class or load error)``: the one LAMINA_BACKENDS
    chooses for this device type first (its PluginNotFoundError if it is not installed), then
    first-party ones, then the rest by name. Blocked distributions are left out; a name offered by
    two distributions follows prefer()/LAMINA_PREFER (else its PluginConflictError is listed).
    Cached until refresh(); under LAMINA_STRICT_PLUGINS=1 the first error raises instead.
    """
    cached = _backend_cache.get(device_type)
    if cached is not None:
        return list(cached)
    group = f"lamina.backends.{device_type}"
    s = _registry.settings()
    available = _registry.names(group)
    chosen = s.backends.get(device_type)
    out: list[tuple[str, object]] = []
    if chosen is not None and chosen not in available:
        err = PluginNotFoundError(
            f"{ENV_BACKENDS} asks for backend {chosen!r} for device type {device_type!r}, but no plugin "
            f"provides it in group {group!r}; available: {available or 'none'}")
        err.name = chosen
        if s.strict:
            raise err
        out.append((chosen, err))
    ordered = _order(group, available)
    if chosen in ordered:
        ordered.remove(chosen)
        ordered.insert(0, chosen)
    for name in ordered:
        try:
            cls = _registry.resolve(group, name)
            if not isinstance(cls, type):
                raise PluginLoadError(f"backend {name!r} (group {group}) is {cls!r}, not a Backend class")
        except PluginError as exc:
            if s.strict:
                raise
            cls = exc
        out.append((name, cls))
    _backend_cache[device_type] = out
    return list(out)


def load_collection(group: str) -> list[tuple[_registry.EntryInfo, object]]:
    """Load every usable entry of ``group``; failures are kept (shown by `lamina plugins`) and
    skipped, or raised under LAMINA_STRICT_PLUGINS=1."""
    s = _registry.settings()
    out = []
    for entry in _registry.active_entries(group):
        try:
            obj = _load.load(entry, trace_on=s.trace)
        except PluginError:
            if s.strict:
                raise
            continue
        out.append((_registry._info(entry), obj))
    return out


def mark_failed(info: _registry.EntryInfo, exc: BaseException) -> None:
    """Record that a loaded entry could not be used (e.g. pluggy refused to register it)."""
    for entry in _registry.active_entries(info.group):
        if entry.name == info.name and entry.dist.name == info.distribution:
            message = (f"plugin {info.name!r} (group {info.group}) from {info.distribution} could not be "
                       f"used: {type(exc).__name__}: {exc}")
            entry.failure = Failure("load", message, exc)
            entry.obj = UNSET


def kernel_packs(device_type: str) -> list:
    """The loaded ``register(kernel_registry)`` callables of group ``lamina.kernels.<device_type>``."""
    group = f"lamina.kernels.{device_type}"
    packs = []
    for info, obj in load_collection(group):
        if not callable(obj):
            message = f"kernel pack {info.name!r} from {info.distribution} is {obj!r}, not callable"
            mark_failed(info, TypeError(message))
            if _registry.settings().strict:
                raise PluginLoadError(message)
            continue
        packs.append(obj)
    return packs
