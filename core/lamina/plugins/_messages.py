"""Actionable messages for names that are missing or offered twice."""

from __future__ import annotations

from .._base.errors import PluginConflictError, PluginNotFoundError
from . import _first_party
from ._api import IN_PROCESS
from ._records import Entry, Index
from ._settings import ENV_ALLOW, ENV_AUTOLOAD, ENV_BLOCK, ENV_PREFER, Settings

_MAX_LISTED = 40


def _unblock_hint(entry: Entry) -> str:
    if entry.dist.blocked_by == ENV_BLOCK:
        return f"remove {entry.dist.name} from {ENV_BLOCK} to use it"
    return f"add {entry.dist.name} to {ENV_ALLOW} to use it"


def _first_party_hint(dist_name: str, name: str, index: Index, settings: Settings) -> str | None:
    installed = index.dists.get(dist_name)
    if installed is not None:
        if installed.blocked_by is not None:
            return None  # the blocked entry already explains it
        return (f"{name!r} is provided by the first-party distribution {dist_name}; version "
                f"{installed.version} is installed but does not offer it: upgrade it "
                f"(pip install -U {dist_name})")
    if not settings.autoload:
        return (f"{name!r} is provided by the first-party distribution {dist_name}, but plugin autoloading "
                f"is off ({ENV_AUTOLOAD}=0) and {ENV_ALLOW} does not list it: add {dist_name} to {ENV_ALLOW} "
                f"(if it is not installed: {_first_party.install_hint(dist_name)})")
    return (f"{name!r} is provided by the first-party distribution {dist_name}, which is not installed. "
            f"Install it: {_first_party.install_hint(dist_name)}")


def _suggestions(name: str, pool: set[str], available: list[str]) -> str | None:
    import difflib  # deferred: only error paths need it

    same_case = [n for n in sorted(pool) if n.lower() == name.lower() and n != name]
    close = same_case + [n for n in difflib.get_close_matches(name, sorted(pool), n=5, cutoff=0.6)
                         if n not in same_case]
    if not close:
        return None
    close.sort(key=lambda n: n not in available)  # installed names first (stable sort)
    shown = []
    for n in close[:5]:
        if n in available:
            shown.append(repr(n))
        else:
            shown.append(f"{n!r} (not installed; provided by {_first_party.provider_any(n)})")
    return "Did you mean " + ", ".join(shown) + "?"


def not_found(groups: tuple[str, ...], name: str, where: str, index: Index, settings: Settings,
              inactive: list[Entry], available: list[str], *, module: bool = False,
              head: str | None = None) -> PluginNotFoundError:
    """``where`` is a module name (lamina.nn, ``module=True``) or a group; ``available`` the names
    usable there; ``head`` replaces the message's first sentence."""
    if head is None:
        head = (f"module {where!r} has no attribute {name!r}" if module
                else f"no plugin provides {name!r} in group {where!r}")
    parts: list[str] = []
    for entry in inactive:
        if entry.dist.blocked_by is not None:
            parts.append(f"{entry.dist.label()} offers it but is blocked by {entry.dist.blocked_by}: "
                         f"{_unblock_hint(entry)}")
        elif entry.ignored is not None:
            parts.append(f"ignored: {entry.ignored}")
    owner = _first_party.provider(groups, name)
    if owner is not None:
        hint = _first_party_hint(owner, name, index, settings)
        if hint is not None:
            parts.append(hint)
    else:
        hint = _suggestions(name, set(available) | _first_party.table_names(groups), available)
        if hint is not None:
            parts.append(hint)
        if available:
            listed = ", ".join(available[:_MAX_LISTED])
            more = len(available) - _MAX_LISTED
            parts.append(f"Available in {where}: {listed}" + (f", ... and {more} more" if more > 0 else ""))
        else:
            parts.append(f"No installed plugin offers names in {where}; `lamina plugins` lists what is "
                         f"installed")
        if not settings.autoload:
            parts.append(f"(plugin autoloading is off: {ENV_AUTOLOAD}=0)")
    sentences = [p if p.endswith((".", "?", ")")) else p + "." for p in parts]
    err = PluginNotFoundError(head + (". " + " ".join(sentences) if sentences else ""))
    err.name = name
    return err


def conflict(name: str, where: str, candidates: list[Entry], preferred: str | None) -> PluginConflictError:
    offers = "; ".join(e.describe() for e in candidates)
    example = next((e.dist.name for e in candidates if e.dist.name != IN_PROCESS), candidates[0].dist.name)
    text = (f"{name!r} in {where} is offered by {len(candidates)} distributions: {offers}. Choose one with "
            f"lamina.plugins.prefer({name!r}, {example!r}) or the environment variable "
            f"{ENV_PREFER}='{name}={example}'")
    if preferred is not None:
        text += f" (the stated preference {preferred!r} matches none of them)"
    if any(e.dist.name == IN_PROCESS for e in candidates):
        text += "; or register the in-process object with replace=True"
    return PluginConflictError(text)
