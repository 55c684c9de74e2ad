"""Conflicts are never silent; bare names belong to first-party plugins."""

from __future__ import annotations

import pytest
from lamina import plugins
from lamina.errors import PluginConflictError, PluginNotFoundError
from plugin_factory import Sandbox, classes_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


def offer(sandbox, dist, module, name="Gate", group="lamina.layers", version="1.0", **kw):
    cls = name.split(".")[-1]
    return sandbox.dist(dist, version, entry_points={group: {name: f"{module}:{cls}"}},
                        modules={module: classes_module(cls, body=f"ORIGIN = {dist!r}\n")}, **kw)


@pytest.fixture
def two_offers(sandbox):
    offer(sandbox, "lamina-gate-a", "lamina_gate_a")
    offer(sandbox, "lamina-gate-b", "lamina_gate_b")
    return sandbox


def origin(cls):
    import sys

    return sys.modules[cls.__module__].ORIGIN


def test_conflict_names_both_distributions_and_the_remedy(two_offers):
    with pytest.raises(PluginConflictError) as info:
        plugins.resolve("lamina.layers", "Gate")
    message = str(info.value)
    assert "lamina-gate-a 1.0" in message and "lamina-gate-b 1.0" in message
    assert "lamina.plugins.prefer('Gate'" in message
    assert "LAMINA_PREFER='Gate=" in message


def test_conflict_resolved_by_prefer(two_offers):
    plugins.prefer("Gate", "lamina_gate.B")  # normalised like pip does
    assert origin(plugins.resolve("lamina.layers", "Gate")) == "lamina-gate-b"
    plugins.prefer("Gate", "lamina-gate-a")  # a new preference takes effect at once
    assert origin(plugins.resolve("lamina.layers", "Gate")) == "lamina-gate-a"
    plugins.prefer("Gate", None)
    with pytest.raises(PluginConflictError):
        plugins.resolve("lamina.layers", "Gate")


def test_conflict_resolved_by_env(two_offers):
    two_offers.env(LAMINA_PREFER="Other=x, Gate=lamina-gate-b")
    assert origin(plugins.resolve("lamina.layers", "Gate")) == "lamina-gate-b"


def test_preference_for_an_absent_distribution_is_reported(two_offers):
    two_offers.env(LAMINA_PREFER="Gate=lamina-gate-zzz")
    with pytest.raises(PluginConflictError, match="preference 'lamina-gate-zzz' matches none of them"):
        plugins.resolve("lamina.layers", "Gate")


def test_conflicting_name_is_listed_and_flagged(two_offers):
    assert plugins.names("lamina.layers") == ["Gate"]
    states = {(d.name, n.name): n.state for d in plugins.status() for n in d.names}
    assert states == {("lamina-gate-a", "Gate"): "conflicting", ("lamina-gate-b", "Gate"): "conflicting"}


def test_same_distribution_twice_is_merged(sandbox):
    root = offer(sandbox, "lamina-gate-a", "lamina_gate_a")
    copy = sandbox.base / "copy"
    import shutil

    shutil.copytree(root, copy)
    sandbox.put_on_path(copy)
    assert origin(plugins.resolve("lamina.layers", "Gate")) == "lamina-gate-a"
    (record,) = plugins.status()
    assert record.notes == [f"same distribution also found at {root} (merged)"]


def test_other_version_of_the_same_distribution_is_shadowed(sandbox):
    offer(sandbox, "lamina-gate-a", "lamina_gate_a", version="1.0")
    offer(sandbox, "lamina-gate-a", "lamina_gate_a2", version="2.0")  # later prepend: first on sys.path
    assert plugins.resolve("lamina.layers", "Gate").__module__ == "lamina_gate_a2"
    (record,) = plugins.status()
    assert record.version == "2.0"
    assert record.notes[0].startswith("another version is shadowed: 1.0 at ")


def test_look_alike_cannot_take_a_first_party_bare_name(sandbox):
    # the module name must not be a real plugin's: that one may already be imported by other tests
    offer(sandbox, "lamina-layers-basic", "lamina_sandbox_layers_basic", name="Linear")
    offer(sandbox, "laminа-layers-basic", "evil_linear", name="Linear")  # Cyrillic 'а': third party
    cls = plugins.resolve("lamina.layers", "Linear")
    assert cls.__module__ == "lamina_sandbox_layers_basic"
    ignored = [n for d in plugins.status() for n in d.names if n.state == "ignored"]
    assert len(ignored) == 1 and "reserved for first-party" in ignored[0].reason
    assert any("reserved for first-party" in p for p in plugins.problems())


def test_third_party_bare_first_party_name_is_ignored_even_alone(sandbox):
    offer(sandbox, "acme-layers", "acme_sandbox_layers", name="Linear")
    with pytest.raises(PluginNotFoundError) as info:
        plugins.resolve("lamina.layers", "Linear")
    message = str(info.value)
    assert "ignored: third-party distribution acme-layers 1.0 offers the bare name 'Linear'" in message
    assert "'acme.Linear'" in message
    assert "pip install lamina-layers-basic" in message


def test_third_party_bare_name_outside_the_table_is_allowed_with_a_warning(sandbox):
    offer(sandbox, "acme-layers", "acme_sandbox_layers", name="Gizmo")
    assert plugins.resolve("lamina.layers", "Gizmo").__name__ == "Gizmo"
    (name,) = plugins.status()[0].names
    assert name.state == "loaded" and "should use a dotted prefix" in name.reason


def test_third_party_bare_name_yields_to_a_first_party_offer(sandbox):
    offer(sandbox, "acme-layers", "acme_sandbox_layers", name="Gizmo")
    offer(sandbox, "lamina-gizmos", "lamina_gizmos", name="Gizmo")
    assert plugins.resolve("lamina.layers", "Gizmo").__module__ == "lamina_gizmos"


def test_dotted_names_from_two_third_parties_conflict(sandbox):
    offer(sandbox, "acme-layers", "acme_sandbox_layers", name="acme.Gate")
    offer(sandbox, "acme-fork", "acme_fork", name="acme.Gate")
    with pytest.raises(PluginConflictError) as info:
        plugins.resolve("lamina.layers", "acme.Gate")
    assert "acme-layers 1.0" in str(info.value) and "acme-fork 1.0" in str(info.value)


def test_lamina_prefix_is_reserved(sandbox):
    offer(sandbox, "acme-layers", "acme_sandbox_layers", name="lamina.Gate")
    assert plugins.names("lamina.layers") == []


def test_unowned_prefix_is_a_warning(sandbox):
    offer(sandbox, "acme-layers", "acme_sandbox_layers", name="other.Gate")
    assert plugins.names("lamina.layers") == ["other.Gate"]
    (name,) = plugins.status()[0].names
    assert "prefix 'other' matches neither" in name.reason
