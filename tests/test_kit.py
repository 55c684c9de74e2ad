"""The conformance kit over installed distributions: what strict mode fails, and that every
distribution of this repository is run through the kit exactly once (by pytest items)."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
import tomllib
from lamina import plugins
from lamina.plugins import _scan
from lamina.testing import check_plugin, parametrize_plugin, run_check
from lamina.testing.runner import GAP_CHECK, UNCHECKED_GROUPS
from plugin_factory import Sandbox

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


@pytest.mark.parametrize(("entry_points", "name", "ok", "last_line"), [
    # a data-set package: no lamina entry point at all, nothing to check, passes even in strict mode
    ({"console_scripts": {"fetch-digits": "kit_sandbox_data:main"}}, "kit-sandbox-data", True,
     "kit-sandbox-data: PASS — nothing to check (it registers no lamina entry points)"),
    # a namespace-only package (like lamina-testkit itself): the kit has no checks for namespaces
    ({"lamina.namespaces": {"kitns": "kit_sandbox_data"}}, "kit-sandbox-data", True,
     "kit-sandbox-data: PASS — nothing to check (it registers only lamina.namespaces entry points"),
    # declares a lamina entry point but gives the kit no component and no record: a strict failure
    ({"lamina.hooks": {"ema": "kit_sandbox_data"}}, "kit-sandbox-data", False, "kit-sandbox-data: FAIL — 0 passed"),
    # a name that is not installed is never "nothing to check"
    (None, "kit-sandbox-missing", False, "kit-sandbox-missing: FAIL — 0 passed"),
], ids=["no-entry-points", "namespaces-only", "entry-points-without-records", "not-installed"])
def test_strict_check_of_a_distribution_without_components(sandbox, entry_points, name, ok, last_line):
    if entry_points is not None:
        sandbox.dist("kit-sandbox-data", entry_points=entry_points,
                     modules={"kit_sandbox_data": "__lamina_plugin_api__ = '1.0'\ndef main():\n    pass\n"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = check_plugin(name, strict=True, raise_on_failure=False)
    assert report.ok is ok, report.table()
    assert report.table().splitlines()[-1].startswith(last_line), report.table()
    assert bool(report.warnings) is not ok


def _with_installed(box: Sandbox) -> None:
    """Index the installed distributions too (the CPU backend runs the checks) besides the sandbox's."""
    box.monkeypatch.setattr(_scan, "restrict_to_paths", None)
    plugins.refresh()


def _items(decorator) -> dict:
    """The pytest params of a parametrize decorator, by id."""
    return {p.id: p for p in decorator.mark.args[1]}


def test_parametrize_plugin_fails_a_component_without_an_info_record(sandbox):
    sandbox.dist("lamina-kitgap", entry_points={"lamina.layers": {"KitGap": "lamina_kitgap:KitGap"}},
                 modules={"lamina_kitgap": "__lamina_plugin_api__ = '1.0'\nfrom lamina import nn\n\n\n"
                                           "class KitGap(nn.Module):\n    def forward(self, x):\n        return x\n"})
    _with_installed(sandbox)
    items = _items(parametrize_plugin("lamina-kitgap"))
    gap = items["lamina-kitgap::KitGap::info_record"]
    case, check = gap.values
    assert check is GAP_CHECK and not gap.marks
    with pytest.raises(AssertionError, match="'KitGap' has no info record"):
        run_check(case, check)
    assert any(i.startswith("lamina-kitgap::KitGap[cpu-float32]::") for i in items)  # the generic checks
    lenient = _items(parametrize_plugin("lamina-kitgap", strict=False))["lamina-kitgap::KitGap::info_record"]
    assert [m.name for m in lenient.marks] == ["skip"]


def test_parametrize_plugin_fails_a_distribution_that_is_not_installed(sandbox):
    items = _items(parametrize_plugin("lamina-kit-not-installed"))
    assert list(items) == ["lamina-kit-not-installed::lamina-kit-not-installed::installed"]


def test_parametrize_plugin_makes_expected_failures_strict(sandbox):
    records = ("def records():\n    from lamina.testing import ModuleInfo\n    from lamina_kitx import KitX\n"
               "    return [ModuleInfo(cls=KitX, expected_failures={'repr': 'claimed broken'})]\n")
    sandbox.dist("lamina-kitx", entry_points={"lamina.layers": {"KitX": "lamina_kitx:KitX"},
                                              "lamina.testing": {"lamina-kitx": "lamina_kitx.records:records"}},
                 modules={"lamina_kitx.__init__": "__lamina_plugin_api__ = '1.0'\nfrom lamina import nn\n\n\n"
                                                  "class KitX(nn.Module):\n    pass\n",
                          "lamina_kitx.records": records})
    _with_installed(sandbox)
    items = _items(parametrize_plugin("lamina-kitx"))
    (xfail,) = items["lamina-kitx::KitX[cpu-float32]::repr"].marks
    assert xfail.name == "xfail" and xfail.kwargs["strict"] is True
    assert not any(i.endswith("::info_record") for i in items)


def _distributions():
    """(name, folder, lamina groups) of every distribution in the tree (plugins and examples)."""
    out = []
    for path in sorted(ROOT.glob("plugins/*/pyproject.toml")) + sorted(ROOT.glob("examples/*/pyproject.toml")):
        project = tomllib.loads(path.read_text())["project"]
        groups = {g for g in project.get("entry-points", {}) if g.startswith("lamina.")}
        out.append(pytest.param(project["name"], path.parent, groups, id=project["name"]))
    return out


@pytest.mark.parametrize(("name", "folder", "groups"), _distributions())
def test_every_distribution_runs_the_kit_once_as_pytest_items(name, folder, groups):
    """Each distribution with components is run through the kit by exactly one strict
    ``parametrize_plugin`` in its own tests/ (so `make test` runs every check once, in parallel
    under xdist), and nothing there runs it a second time."""
    sources = {p: p.read_text() for p in sorted((folder / "tests").glob("*.py"))}
    runs = [p.name for p, text in sources.items() for _ in re.finditer(rf"parametrize_plugin\(\"{name}\"\)", text)]
    if groups <= UNCHECKED_GROUPS:
        assert not runs, f"{name} has no components, yet {runs} run the kit on it"
        return
    assert len(runs) == 1, f"{name}: expected one parametrize_plugin(\"{name}\") in {folder / 'tests'}, found {runs}"
    again = [p.name for p, text in sources.items() if re.search(r"\b(check_plugin|parametrize_with_checks)\(", text)]
    assert not again, f"{name}: {again} run the kit again over the distribution's records"


def test_the_tree_is_found():
    names = {p.values[0] for p in _distributions()}
    assert {"lamina-layers-basic", "lamina-testkit", "acme-lamina-layers"} <= names

