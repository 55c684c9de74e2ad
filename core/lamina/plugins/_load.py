"""Import one entry point, check its plugin-API declaration, keep its failure."""

from __future__ import annotations

import importlib
import time

from .._base.errors import PluginLoadError, PluginVersionError
from ._api import API_ATTRIBUTE, PLUGIN_API_VERSION
from ._records import Entry, Failure
from ._settings import trace

# A module that raised at import is never imported again in this process (Python would run its
# top level again); every entry that names it gets the kept error.
_module_failures: dict[str, BaseException] = {}


def _major(version: object) -> str | None:
    if not isinstance(version, str) or not version.strip():
        return None
    major = version.strip().split(".")[0]
    return major if major.isdigit() else None


def raise_failure(failure: Failure) -> None:
    """Raise a fresh exception for a kept failure (never the same instance twice: tracebacks grow)."""
    if failure.kind == "version":
        raise PluginVersionError(failure.message) from failure.cause
    raise PluginLoadError(failure.message) from failure.cause


def _what(entry: Entry) -> str:
    return f"plugin {entry.name!r} (group {entry.group}) from {entry.dist.label()}"


def _check_api(entry: Entry, module) -> Failure | None:
    declared = getattr(module, API_ATTRIBUTE, None)
    entry.api = None if declared is None else str(declared)
    if declared is None:
        return None
    if _major(declared) is None:
        return Failure("version", f"{_what(entry)} declares {API_ATTRIBUTE} = {declared!r}; expected a "
                                  f"version string like {PLUGIN_API_VERSION!r}")
    if _major(declared) != _major(PLUGIN_API_VERSION):
        return Failure("version", f"{_what(entry)} was built for lamina plugin API {declared}, but this "
                                  f"lamina provides plugin API {PLUGIN_API_VERSION} (major versions differ); "
                                  f"install a release of {entry.dist.name} built for plugin API "
                                  f"{_major(PLUGIN_API_VERSION)}.x")
    return None


def _import(entry: Entry):
    module_name = entry.module
    kept = _module_failures.get(module_name)
    if kept is not None:
        raise kept
    try:
        return importlib.import_module(module_name)
    except Exception as exc:
        _module_failures[module_name] = exc
        raise


def load(entry: Entry, *, trace_on: bool = False) -> object:
    """The object ``entry`` names; raises PluginLoadError / PluginVersionError (kept and re-raised)."""
    if entry.loaded:
        return entry.obj
    if entry.failure is not None:
        raise_failure(entry.failure)
    start = time.perf_counter()
    try:
        module = _import(entry)
    except Exception as exc:
        entry.failure = Failure("load", f"{_what(entry)} failed to load: importing {entry.module!r} raised "
                                        f"{type(exc).__name__}: {exc}", exc)
    else:
        entry.failure = _check_api(entry, module)
        if entry.failure is None:
            try:
                obj = module
                for part in filter(None, entry.attr.split(".")):
                    obj = getattr(obj, part)
            except AttributeError as exc:
                message = (f"{_what(entry)} failed to load: module {entry.module!r} has no attribute "
                           f"{entry.attr!r} (entry point {entry.value!r})")
                entry.failure = Failure("load", message, exc)
            else:
                entry.obj = obj
    if trace_on:
        outcome = "ok" if entry.failure is None else f"FAILED ({entry.failure.message})"
        trace(f"loaded {entry.group}:{entry.name} from {entry.dist.label()} [{entry.value}] in "
              f"{(time.perf_counter() - start) * 1e3:.1f} ms: {outcome}")
    if entry.failure is not None:
        raise_failure(entry.failure)
    return entry.obj


def forget_module_failures() -> None:
    """Forget kept import errors (refresh): a fixed plugin may be imported again."""
    _module_failures.clear()
