"""The plugin index: layers, losses, optimizers, backends, ... are entry points (DESIGN.md §3).

Metadata first, code later: importing this package reads no metadata. The first question about
a plugin name does ONE scan of the installed distributions' entry points (``lamina.*`` groups)
and builds a name index; resolving a name imports only the module that provides it.

Public API (other parts of lamina code against these names)::

    PLUGIN_API_VERSION                         "1.0"; plugins declare __lamina_plugin_api__
    resolve(group, name) -> object             load (lazily), cache, return
    names(group) -> list[str]                  from metadata only
    entries(group=None, *, distribution=None) -> list[EntryInfo]
    namespace(groups, module_name) -> (__getattr__, __dir__)     PEP 562 helpers
    load_backend_classes(device_type) -> [(name, class | error)]
    kernel_packs(device_type) -> [register callables]
    probe_backend(cls) -> (ok, reason)         never raises
    register(group, name, obj, *, replace=False) / unregister(group, name)
    prefer(name, distribution)                 also LAMINA_PREFER="Name=dist,Other=dist2"
    refresh(*, clear_registered=False)         forget the scan and caches, re-read the environment
    status(*, load=False) -> [DistributionStatus];  problems() -> [str]

Rules and decisions
-------------------
* First party = a distribution whose PEP 503 name is ``lamina`` or starts with ``lamina-``.
  Bare names (no dot) belong to first-party plugins; a third party uses a dotted prefix it owns
  (``acme.GatedConv``, reached as ``getattr(lamina.nn, "acme.GatedConv")`` or ``resolve``).
* A third-party distribution offering a bare name that is in the first-party table
  (``_first_party.py``), or that an installed first-party distribution offers in the same group, is
  IGNORED (state "ignored", listed by ``lamina plugins``): a look-alike cannot take ``Linear``.
* Decision: a third-party bare name that no first-party plugin uses is ALLOWED with a warning
  shown by ``lamina plugins`` (it breaks nobody today); as soon as a first-party distribution
  offers that name, the third-party entry is ignored (first party wins, no conflict error).
  Third-party dotted names with the reserved prefix ``lamina.`` are ignored; a prefix that matches
  neither the distribution name nor its top-level module only earns a warning.
* A first-party distribution may offer another one's first-party name (an alternative
  implementation); both installed is a conflict like any other, and the name carries a warning.
* The same distribution found twice on sys.path (same name and version) is merged; a second copy
  with another version is shadowed by the first (as Python's import would) and noted.
  Two different distributions offering one name in one group raise PluginConflictError naming
  both, until ``prefer(name, dist)`` or ``LAMINA_PREFER`` chooses. An in-process ``register`` of
  an installed name needs ``replace=True`` (or a preference for "<in-process>").
* Groups ``lamina.hooks``, ``lamina.testing`` and ``lamina.kernels.<device_type>`` are
  collections: every entry is used, names are labels (``lamina.testing`` entries are usually
  named after their distribution), no naming rule or conflict applies. Use
  ``entries(group, distribution=...)`` to find them.
* Group ``lamina.namespaces`` serves modules as ``lamina.<name>`` (dotted: ``nn.parallel``), aliased
  on first import by the finder in ``_modules`` (``lamina.testing`` is lamina-testkit's
  ``lamina_testkit``); group ``lamina.cli`` adds subcommands to the ``lamina`` command line. Both are
  named groups like the component groups.
* Failures are kept: a plugin module that raises at import breaks only its own names; every use
  raises a fresh PluginLoadError chained from the original (never an AttributeError). A plugin
  declaring another MAJOR plugin-API version is refused with PluginVersionError (minor differences
  and an undeclared version are accepted; ``lamina plugins`` shows "undeclared").
* Environment controls are read at first use and again after ``refresh()``:
  ``LAMINA_PLUGINS`` (allow-list of distributions; others are "blocked"; the core distribution
  ``lamina`` is never blocked by it), ``LAMINA_DISABLE_PLUGINS`` (block-list),
  ``LAMINA_PREFER``, ``LAMINA_BACKENDS`` ("cpu=numpy": that backend comes first for cpu; the
  core's ``set_backend`` filters the list itself, so an API choice can still override the variable),
  ``LAMINA_TRACE_PLUGINS=1`` (each scan and load, with timing, on stderr).
* Decision, ``LAMINA_PLUGIN_AUTOLOAD=0``: no entry-point scan at all. Only in-process
  registrations and the distributions named in ``LAMINA_PLUGINS`` (looked up by name, all their
  groups, backends included) are used. So with autoload off, backends too are discovered ONLY
  when their distribution is listed: ``LAMINA_PLUGIN_AUTOLOAD=0 LAMINA_PLUGINS=lamina-backend-cpu``.
* Decision, ``LAMINA_STRICT_PLUGINS=1``: the first scan loads every allowed entry and raises
  PluginLoadError listing every failure and scan problem (look-alike names, malformed entry
  points, unknown LAMINA_PLUGINS names); the scan is then not kept, so every later use raises
  again. Backends, kernel packs and hooks plugins raise instead of being skipped.
"""

from __future__ import annotations

import importlib

from ._api import IN_PROCESS, PLUGIN_API_VERSION
from ._namespace import namespace

# Everything else loads on first use (PEP 562): `import lamina.nn` pays only for namespace().
_LAZY = {
    "resolve": "_registry", "names": "_registry", "entries": "_registry", "register": "_registry",
    "unregister": "_registry", "prefer": "_registry", "refresh": "_registry", "EntryInfo": "_registry",
    "load_backend_classes": "_backends", "kernel_packs": "_backends", "probe_backend": "_backends",
    "status": "_status", "problems": "_status", "DistributionStatus": "_status", "NameStatus": "_status",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "PLUGIN_API_VERSION",
    "IN_PROCESS",
    "EntryInfo",
    "DistributionStatus",
    "NameStatus",
    "resolve",
    "names",
    "entries",
    "namespace",
    "load_backend_classes",
    "kernel_packs",
    "probe_backend",
    "register",
    "unregister",
    "prefer",
    "refresh",
    "status",
    "problems",
]
