"""The records the index is made of: one per distribution, one per entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

from ._api import IN_PROCESS
from ._settings import is_first_party, normalize

# Named groups: a name is served by one entry (conflicts, preferences, naming rules apply).
NAMED_GROUPS = (
    "lamina.layers", "lamina.losses", "lamina.functional", "lamina.init", "lamina.optim",
    "lamina.lr_scheduler", "lamina.namespaces", "lamina.cli", "lamina.functions", "lamina.tensor_methods",
    "lamina.compilers",
)
# Collections: every entry is used (hooks plugins, kernel packs, conformance records); names are
# labels (often the distribution name), so two distributions may share one and no naming rule applies.
COLLECTION_GROUPS = ("lamina.hooks", "lamina.testing")
FAMILIES = ("lamina.backends.", "lamina.kernels.")  # + <device_type>; kernels are collections


def is_collection(group: str) -> bool:
    return group in COLLECTION_GROUPS or group.startswith("lamina.kernels.")


def is_known_group(group: str) -> bool:
    return (group in NAMED_GROUPS or group in COLLECTION_GROUPS
            or any(group.startswith(p) and len(group) > len(p) for p in FAMILIES))


@dataclass(eq=False)
class Dist:
    """A distribution that offers entry points in a ``lamina.*`` group."""

    name: str
    version: str
    location: str | None = None
    editable: bool = False
    source: str | None = None  # PEP 610 direct URL (an editable checkout, a VCS URL)
    blocked_by: str | None = None  # the environment variable that blocks it
    duplicates: list[str] = field(default_factory=list)  # same name+version seen again: merged
    shadowed: list[str] = field(default_factory=list)  # same name, other version, later on sys.path

    @property
    def key(self) -> str:
        return normalize(self.name) if self.name != IN_PROCESS else IN_PROCESS

    @property
    def first_party(self) -> bool:
        return self.name != IN_PROCESS and is_first_party(self.name)

    def label(self) -> str:
        return self.name if self.name == IN_PROCESS else f"{self.name} {self.version}"


IN_PROCESS_DIST = Dist(name=IN_PROCESS, version="")


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


UNSET = _Unset()


@dataclass(eq=False)
class Failure:
    """A kept load error: ``kind`` is "load" (re-raised as PluginLoadError chained from ``cause``)
    or "version" (re-raised as PluginVersionError)."""

    kind: str
    message: str
    cause: BaseException | None = None


@dataclass(eq=False)
class Entry:
    """One entry point (or one in-process registration) and what happened when it was loaded."""

    group: str
    name: str
    dist: Dist
    value: str  # "module:attr" as written in entry_points.txt, or a repr for in-process objects
    obj: object = UNSET  # the loaded object (in-process entries have it from the start)
    failure: Failure | None = None
    ignored: str | None = None  # why the index refuses this entry (look-alike bare name, ...)
    warning: str | None = None  # allowed, but shown by `lamina plugins`
    api: str | None = None  # declared __lamina_plugin_api__ of the module, once loaded
    replace: bool = False  # in-process only: shadow installed entries of the same name

    @property
    def module(self) -> str | None:
        if self.dist is IN_PROCESS_DIST:
            return None
        return self._target().partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self._target().partition(":")[2].strip()

    def _target(self) -> str:
        return self.value.partition("[")[0]  # drop "[extra1,extra2]"

    @property
    def loaded(self) -> bool:
        return self.obj is not UNSET

    @property
    def active(self) -> bool:
        return self.dist.blocked_by is None and self.ignored is None

    def describe(self) -> str:
        if self.dist is IN_PROCESS_DIST:
            return IN_PROCESS
        return f"{self.dist.label()} ({self.value})"


@dataclass(eq=False)
class Index:
    """Everything one entry-point scan found."""

    dists: dict[str, Dist] = field(default_factory=dict)  # normalised name -> Dist
    groups: dict[str, dict[str, list[Entry]]] = field(default_factory=dict)  # group -> name -> entries
    problems: list[str] = field(default_factory=list)  # scan-level warnings, shown by `lamina plugins`

    def add(self, entry: Entry) -> None:
        self.groups.setdefault(entry.group, {}).setdefault(entry.name, []).append(entry)

    def entries(self, group: str | None = None):
        groups = self.groups.values() if group is None else [self.groups.get(group, {})]
        for by_name in groups:
            for entries in by_name.values():
                yield from entries
