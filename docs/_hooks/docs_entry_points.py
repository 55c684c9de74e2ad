"""The first-party plugin index as the documentation site sees it: every ``lamina.*`` entry point of
every installed first-party distribution, read from package metadata (importlib.metadata) at build
time, so a new plugin's names appear in the API reference and the compatibility table without an
edit to the docs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.metadata import distributions

# entry-point group -> the lamina namespace that serves its names (which mirrors torch's)
COMPONENT_GROUPS: dict[str, str] = {
    "lamina.layers": "lamina.nn",
    "lamina.losses": "lamina.nn",
    "lamina.functional": "lamina.nn.functional",
    "lamina.init": "lamina.nn.init",
    "lamina.optim": "lamina.optim",
    "lamina.lr_scheduler": "lamina.optim.lr_scheduler",
}
# what a group's entries are, for headings
GROUP_TITLES: dict[str, str] = {
    "lamina.layers": "Layers",
    "lamina.losses": "Losses",
    "lamina.functional": "Functional",
    "lamina.init": "Initialisation",
    "lamina.optim": "Optimizers",
    "lamina.lr_scheduler": "Learning-rate schedulers",
    "lamina.namespaces": "Namespaces",
    "lamina.cli": "Command-line subcommands",
}
# groups whose entries are labels of collections, not names a user asks for (no API entry of their own)
COLLECTION_GROUPS = ("lamina.hooks", "lamina.testing")
COLLECTION_PREFIXES = ("lamina.kernels.",)
BACKEND_PREFIX = "lamina.backends."


@dataclass(frozen=True)
class Entry:
    """One entry point: ``name = "module:attr"`` in ``group``, declared by ``distribution``."""

    distribution: str
    group: str
    name: str
    value: str

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    @property
    def attr(self) -> str:
        return self.value.partition(":")[2].strip()

    @property
    def target(self) -> str:
        """The dotted path of the object the entry point names (``pkg.mod.Obj`` or ``pkg.mod``)."""
        return f"{self.module}.{self.attr}" if self.attr else self.module

    @property
    def public_name(self) -> str:
        """How users reach it: ``lamina.nn.Linear``, ``lamina.distributed``, ``lamina run``, ..."""
        if self.group in COMPONENT_GROUPS:
            return f"{COMPONENT_GROUPS[self.group]}.{self.name}"
        if self.group == "lamina.namespaces":
            return f"lamina.{self.name}"
        if self.group == "lamina.cli":
            return f"lamina {self.name}"
        if self.group.startswith(BACKEND_PREFIX):
            return f'{self.attr or self.module} (backend "{self.name}" of device "{self.group[len(BACKEND_PREFIX):]}")'
        return f"{self.group}: {self.name}"

    @property
    def documented(self) -> bool:
        """Whether the entry gets an API entry of its own (collections' labels do not)."""
        return self.group not in COLLECTION_GROUPS and not self.group.startswith(COLLECTION_PREFIXES)


def is_first_party(distribution: str) -> bool:
    """The core's rule: PEP 503 name ``lamina`` or ``lamina-*``."""
    key = re.sub(r"[-_.]+", "-", distribution).lower()
    return key == "lamina" or key.startswith("lamina-")


def first_party_entries() -> dict[str, list[Entry]]:
    """distribution -> its ``lamina.*`` entries (sorted by group, then name), distributions sorted.

    A distribution found twice on ``sys.path`` (an editable install's egg-info beside its dist-info)
    is read once: the first copy, as Python's import would.
    """
    out: dict[str, list[Entry]] = {}
    seen: set[str] = set()
    for dist in distributions():
        name = dist.metadata["Name"]
        key = re.sub(r"[-_.]+", "-", name or "").lower()
        if not name or key in seen or not is_first_party(name):
            continue
        seen.add(key)
        entries = [Entry(name, ep.group, ep.name, ep.value) for ep in dist.entry_points
                   if ep.group.startswith("lamina.")]
        if entries:
            out[name] = entries
    return {d: sorted(es, key=lambda e: (e.group, e.name.lower())) for d, es in sorted(out.items())}


def summary(distribution: str) -> str:
    """The distribution's one-line summary from its metadata ('' if none)."""
    from importlib.metadata import metadata

    return (metadata(distribution).get("Summary") or "").strip()


def slug(text: str) -> str:
    """A file-name and anchor slug: lower case, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
