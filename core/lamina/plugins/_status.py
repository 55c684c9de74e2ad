"""What `lamina plugins` shows: per distribution, per name, its state."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .._base.errors import PluginError
from . import _load, _registry
from ._backends import probe_backend
from ._records import IN_PROCESS_DIST, Dist, Entry, is_collection

STATES = ("available", "loaded", "failed", "blocked", "conflicting", "shadowed", "ignored")


@dataclass
class NameStatus:
    """One name of one distribution: ``state`` is one of STATES; ``reason`` explains any state but
    available/loaded, or carries a warning."""

    group: str
    name: str
    value: str
    state: str
    reason: str | None = None
    api: str | None = None  # declared __lamina_plugin_api__ once loaded
    probe: tuple[bool, str] | None = None  # backends only: probe() result


@dataclass
class DistributionStatus:
    name: str
    version: str
    location: str | None
    editable: bool
    source: str | None
    first_party: bool
    blocked_by: str | None
    plugin_api: str  # "1.0", "undeclared", "1.0, undeclared", or "not loaded"
    names: list[NameStatus] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _is_backend(group: str) -> bool:
    return group.startswith("lamina.backends.")


def _competition(entry: Entry) -> tuple[str, str | None] | None:
    """(state, reason) when other entries compete for the entry's name, else None."""
    if is_collection(entry.group):
        return None
    others, _ = _registry._found((entry.group,), entry.name)
    if entry not in others:  # an in-process replace=True registration shadows it
        return "shadowed", f"replaced by an in-process registration of {entry.name!r}"
    others = [e for e in others if e is not entry]
    if not others:
        return None
    rivals = ", ".join(e.dist.label() for e in others)
    preferred = _registry.preferences().get(entry.name)
    if preferred == entry.dist.key:
        return ("loaded" if entry.loaded else "available"), f"preferred over {rivals}"
    if any(e.dist.key == preferred for e in others):
        return "shadowed", f"{entry.name!r} is served by {preferred} (stated preference)"
    return "conflicting", f"also offered by {rivals}; choose with lamina.plugins.prefer() or LAMINA_PREFER"


def _name_status(entry: Entry, load: bool) -> NameStatus:
    ns = NameStatus(entry.group, entry.name, entry.value, "available")
    if entry.dist.blocked_by is not None:
        ns.state, ns.reason = "blocked", f"blocked by {entry.dist.blocked_by}"
        return ns
    if entry.ignored is not None:
        ns.state, ns.reason = "ignored", entry.ignored
        return ns
    if (load or _is_backend(entry.group)) and not entry.loaded and entry.failure is None:
        try:
            _load.load(entry)
        except PluginError:
            pass  # kept in entry.failure
    ns.api = entry.api
    if entry.failure is not None:
        ns.state, ns.reason = "failed", entry.failure.message
        return ns
    ns.state = "loaded" if entry.loaded else "available"
    competition = _competition(entry)
    if competition is not None:
        ns.state, ns.reason = competition
    if entry.warning is not None:
        ns.reason = f"{ns.reason}; {entry.warning}" if ns.reason else entry.warning
    if _is_backend(entry.group) and entry.loaded:
        ns.probe = probe_backend(entry.obj)
    return ns


def _api_summary(entries: list[Entry]) -> str:
    loaded = [e for e in entries if e.loaded and e.dist is not IN_PROCESS_DIST]
    if not loaded:
        return "not loaded"
    declared = sorted({e.api for e in loaded if e.api is not None})
    if any(e.api is None for e in loaded):
        declared.append("undeclared")
    return ", ".join(declared)


def _inside_source(location: str, source: str | None) -> bool:
    """An editable checkout's own build metadata (src/*.egg-info) is not worth a note."""
    if not source or not source.startswith("file://"):
        return False
    from urllib.parse import unquote, urlparse

    root = os.path.realpath(unquote(urlparse(source).path))
    here = os.path.realpath(location)
    return here == root or here.startswith(root.rstrip(os.sep) + os.sep)


def _dist_status(dist: Dist, entries: list[Entry], load: bool) -> DistributionStatus:
    names = [_name_status(e, load) for e in entries]
    notes = [f"same distribution also found at {loc} (merged)" for loc in dist.duplicates
             if not _inside_source(loc, dist.source)]
    notes += [f"another version is shadowed: {what}" for what in dist.shadowed]
    return DistributionStatus(
        name=dist.name, version=dist.version, location=dist.location, editable=dist.editable,
        source=dist.source, first_party=dist.first_party, blocked_by=dist.blocked_by,
        plugin_api=_api_summary(entries), names=names, notes=notes)


def status(*, load: bool = False) -> list[DistributionStatus]:
    """One record per plugin distribution (first-party first). Backends are always loaded and
    probed (they are light by contract); other names are imported only when ``load`` is true.
    Never raises for a plugin's failure: failures are states."""
    idx = _registry.index()
    by_dist: dict[str, list[Entry]] = {key: [] for key in idx.dists}
    for entry in idx.entries():
        by_dist[entry.dist.key].append(entry)
    out = [_dist_status(idx.dists[key], entries, load) for key, entries in by_dist.items()]
    registered = _registry.registered_entries()
    if registered:
        out.append(_dist_status(IN_PROCESS_DIST, registered, load))
    for record in out:
        record.names.sort(key=lambda n: (n.group, n.name))
    out.sort(key=lambda d: (d.name == IN_PROCESS_DIST.name, not d.first_party, d.name.lower()))
    return out


def problems() -> list[str]:
    """Scan-level warnings: malformed entry points, look-alike names that were ignored, functions and
    Tensor methods that the core's own names shadow, ..."""
    from . import _functions

    shadowed = [f"{entry} is never used: the core has a name {entry.partition(':')[2]!r} of its own"
                for entry in _functions.shadowed()]
    return list(_registry.index().problems) + shadowed
