"""The first-party name table (core/lamina/plugins/_first_party_names.py) is generated from the
plugins' pyproject.toml files by .ci/first_party_table.py; it must not drift from them."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

import pytest
from lamina.plugins import _first_party, _first_party_names

pytest.importorskip("tomllib")
ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location("first_party_table", ROOT / ".ci" / "first_party_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_table_matches_the_pyproject_files():
    generator = _generator()
    committed = Path(_first_party_names.__file__).read_text()
    expected = generator.render()
    diff = "".join(difflib.unified_diff(committed.splitlines(True), expected.splitlines(True),
                                        "committed", "from pyproject.toml files"))
    assert committed == expected, f"run `python .ci/first_party_table.py`:\n{diff}"


def test_the_generator_reads_every_entry_point_group_but_the_collections(tmp_path):
    plugin = tmp_path / "plugins" / "demo"
    plugin.mkdir(parents=True)
    (plugin / "pyproject.toml").write_text(
        '[project]\nname = "lamina-demo"\n'
        '[project.entry-points."lamina.layers"]\nDemo = "d:Demo"\nDemo2 = "d:Demo2"\n'
        '[project.entry-points."lamina.namespaces"]\n"nn.demo" = "d"\n'
        '[project.entry-points."lamina.testing"]\nlamina-demo = "d:records"\n'
        '[project.entry-points."lamina.kernels.cpu"]\nlamina-demo = "d:register"\n'
        '[project.entry-points."console_scripts"]\ndemo = "d:main"\n')
    other = tmp_path / "plugins" / "acme"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "acme-demo"\n'
                                          '[project.entry-points."lamina.layers"]\n"acme.X" = "a:X"\n')
    table = _generator().table(tmp_path)
    assert table == {"lamina-demo": {"lamina.layers": ["Demo", "Demo2"], "lamina.namespaces": ["nn.demo"]}}


def test_the_table_knows_what_the_plugins_provide_and_nothing_the_core_does():
    assert _first_party.provider(("lamina.layers",), "Fold") == "lamina-layers-basic"
    assert _first_party.provider(("lamina.functional",), "channel_shuffle") == "lamina-layers-basic"
    assert _first_party.provider(("lamina.layers",), "UpsamplingBilinear2d") == "lamina-layers-basic"
    assert _first_party.provider(("lamina.namespaces",), "testing") == "lamina-testkit"
    assert _first_party.provider(("lamina.cli",), "check") == "lamina-testkit"
    assert _first_party.provider(("lamina.layers",), "Identity") is None  # lamina.nn.Identity is the core's
    assert _first_party.provider(("lamina.functional",), "softmin") is None
