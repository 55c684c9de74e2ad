"""One pass over installed metadata that builds the name index (no plugin code is imported)."""

from __future__ import annotations

import os
import re
import time

from . import _first_party
from ._records import Dist, Entry, Index, is_collection
from ._settings import ENV_ALLOW, Settings, normalize, trace

# Entry-point names: identifiers, dotted (acme.GatedConv) or, as labels, with dashes (lamina-backend-cpu).
_NAME = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*")
_VALUE = re.compile(r"[A-Za-z_][\w.]*\s*(:\s*[A-Za-z_][\w.]*)?\s*(\[[^\]]*\])?")

# Test seam: when set, only distributions whose metadata lies under one of these folders are
# indexed (discovery still goes through sys.path). Lets tests ignore plugins installed for real.
restrict_to_paths: tuple[str, ...] | None = None


def _metadata():
    import importlib_metadata  # deferred: `import lamina` must not pay for it

    return importlib_metadata


def _location(dist) -> str | None:
    try:
        return os.fspath(dist.locate_file(""))
    except (NotImplementedError, AttributeError, TypeError):
        return None


def _direct_url(dist) -> tuple[bool, str | None]:
    """(editable, url) from PEP 610 ``direct_url.json``; (False, None) when absent or unreadable."""
    import json

    try:
        text = dist.read_text("direct_url.json")
        if not text:
            return False, None
        info = json.loads(text)
        return bool(info.get("dir_info", {}).get("editable", False)), info.get("url")
    except (ValueError, OSError, AttributeError):
        return False, None


def _within(location: str | None, roots: tuple[str, ...]) -> bool:
    if location is None:
        return False
    here = os.path.realpath(location)
    return any(here == r or here.startswith(r.rstrip(os.sep) + os.sep)
               for r in (os.path.realpath(p) for p in roots))


def _candidates(settings: Settings, index: Index) -> list:
    md = _metadata()
    if settings.autoload:
        return list(md.distributions())
    found = []
    for name in sorted(settings.allow or ()):
        try:
            found.append(md.distribution(name))
        except md.PackageNotFoundError:
            index.problems.append(f"{ENV_ALLOW} names {name!r}, which is not installed")
    return found


def scan(settings: Settings) -> Index:
    """Read the entry points of every distribution (or, with autoload off, of those listed in
    LAMINA_PLUGINS) and index the ``lamina.*`` groups."""
    start = time.perf_counter()
    index = Index()
    seen = 0
    for md_dist in _candidates(settings, index):
        seen += 1
        try:
            text = md_dist.read_text("entry_points.txt")
            if not text or "lamina." not in text:
                continue  # most distributions: skip parsing their entry points at all
            eps = [ep for ep in md_dist.entry_points if ep.group.startswith("lamina.")]
        except Exception as exc:  # broken metadata of one distribution must not break the scan
            index.problems.append(f"unreadable entry points in {_location(md_dist)}: {exc}")
            continue
        if not eps:
            continue
        location = _location(md_dist)
        if restrict_to_paths is not None and not _within(location, restrict_to_paths):
            continue
        _add_distribution(index, settings, md_dist, eps, location)
    _apply_naming_rules(index)
    if settings.trace:
        n_entries = sum(1 for _ in index.entries())
        trace(f"scanned {seen} distributions: {len(index.dists)} offer {n_entries} lamina entry points "
              f"in {(time.perf_counter() - start) * 1e3:.1f} ms")
    return index


def _name_version(md_dist) -> tuple[str | None, str | None]:
    """Name and Version from the metadata headers.

    Read directly: ``dist.metadata`` imports and runs the email parser, which costs more than the
    rest of the scan. Falls back to it when the headers are not where they usually are.
    """
    text = md_dist.read_text("METADATA") or md_dist.read_text("PKG-INFO") or ""
    name = version = None
    for line in text.splitlines():
        if not line.strip():
            break  # end of the headers
        key, _, value = line.partition(":")
        if key == "Name" and name is None:
            name = value.strip()
        elif key == "Version" and version is None:
            version = value.strip()
    if name is None or version is None:
        return md_dist.metadata["Name"], md_dist.version
    return name, version


def _add_distribution(index: Index, settings: Settings, md_dist, eps, location: str | None) -> None:
    try:
        name, version = _name_version(md_dist)
    except Exception as exc:
        index.problems.append(f"unreadable metadata in {location}: {exc}")
        return
    if not name:
        index.problems.append(f"distribution without a Name in {location}: its entry points are ignored")
        return
    key = normalize(name)
    known = index.dists.get(key)
    if known is not None:  # a second copy later on sys.path: Python imports the first one
        if known.version == version:
            known.duplicates.append(location or "?")
        else:
            known.shadowed.append(f"{version} at {location}")
        return
    editable, source = _direct_url(md_dist)
    dist = Dist(name=name, version=version or "?", location=location, editable=editable, source=source,
                blocked_by=settings.blocked_by(name))
    index.dists[key] = dist
    seen_here: set[tuple[str, str]] = set()
    for ep in eps:
        if not _NAME.fullmatch(ep.name) or not _VALUE.fullmatch(ep.value.strip()):
            index.problems.append(f"{dist.label()}: malformed entry point {ep.name!r} = {ep.value!r} "
                                  f"in group {ep.group!r}: ignored")
            continue
        if (ep.group, ep.name) in seen_here:
            index.problems.append(f"{dist.label()}: entry point {ep.name!r} appears twice in group "
                                  f"{ep.group!r}; the first one is used")
            continue
        seen_here.add((ep.group, ep.name))
        index.add(Entry(group=ep.group, name=ep.name, dist=dist, value=ep.value.strip()))


def _owns_prefix(entry: Entry, prefix: str) -> bool:
    p = normalize(prefix)
    top = normalize((entry.module or "").split(".")[0])
    return any(k == p or k.startswith(p + "-") for k in (entry.dist.key, top))


def _apply_naming_rules(index: Index) -> None:
    """Bare names belong to first-party distributions; see the package docstring."""
    for group, by_name in index.groups.items():
        if is_collection(group):
            continue
        for name, entries in by_name.items():
            first_party_offers = any(e.dist.first_party for e in entries)
            owner = _first_party.FIRST_PARTY.get(group, {}).get(name)
            for entry in entries:
                _classify(entry, owner, first_party_offers, index)


def _classify(entry: Entry, owner: str | None, first_party_offers: bool, index: Index) -> None:
    name, dist = entry.name, entry.dist
    prefix, dot, _ = name.partition(".")
    if dist.first_party:
        if not dot and owner is not None and owner != dist.key:
            entry.warning = f"offers first-party name {name!r}, which {owner} normally provides"
        return
    suggestion = f"'{dist.key.split('-')[0]}.{name}'"
    if not dot:
        reserved = name in _first_party.ALL_NAMES or first_party_offers
        if reserved:
            entry.ignored = (f"third-party distribution {dist.label()} offers the bare name {name!r}, which "
                             f"is reserved for first-party lamina plugins; it must use a dotted prefix it "
                             f"owns, e.g. {suggestion}")
            index.problems.append(f"{entry.group} {name!r}: {entry.ignored}")
        else:
            entry.warning = (f"bare name from a third-party distribution: allowed while no first-party "
                             f"plugin uses it, but it should use a dotted prefix it owns, e.g. {suggestion}")
    elif normalize(prefix) == "lamina":
        entry.ignored = f"the prefix 'lamina.' is reserved for first-party plugins ({dist.label()} used it)"
        index.problems.append(f"{entry.group} {name!r}: {entry.ignored}")
    elif not _owns_prefix(entry, prefix):
        entry.warning = (f"prefix {prefix!r} matches neither the distribution name {dist.name!r} nor its "
                         f"top-level module")
