"""Which first-party distribution provides which name (used for "not installed" messages and to
stop third-party packages from taking bare names).

The table itself is generated from the plugins' pyproject.toml files into ``_first_party_names``
(``python .ci/first_party_table.py``; a test fails when it drifts).
"""

from __future__ import annotations

from ._first_party_names import TABLE as _TABLE

# group -> name -> distribution
FIRST_PARTY: dict[str, dict[str, str]] = {}
for _dist, _groups in _TABLE.items():
    for _group, _names in _groups.items():
        for _name in _names.split():
            FIRST_PARTY.setdefault(_group, {})[_name] = _dist
del _dist, _groups, _group, _names, _name

ALL_NAMES: frozenset[str] = frozenset(n for names in FIRST_PARTY.values() for n in names)


def provider(groups: tuple[str, ...], name: str) -> str | None:
    """The first-party distribution that provides ``name`` in one of ``groups``, if any."""
    for group in groups:
        dist = FIRST_PARTY.get(group, {}).get(name)
        if dist is not None:
            return dist
    return None


def table_names(groups: tuple[str, ...]) -> set[str]:
    """Every first-party name of ``groups`` (installed or not)."""
    return {n for g in groups for n in FIRST_PARTY.get(g, {})}


def checkout_path(distribution: str) -> str:
    """Where a first-party distribution lives in a checkout: lamina-layers-basic -> plugins/layers_basic."""
    return "plugins/" + distribution.removeprefix("lamina-").replace("-", "_")


def install_hint(distribution: str) -> str:
    return (f"pip install {distribution} "
            f"(from a lamina checkout: pip install -e {checkout_path(distribution)})")


def provider_any(name: str) -> str | None:
    """The first-party distribution providing ``name`` in any group."""
    return next((names[name] for names in FIRST_PARTY.values() if name in names), None)
