"""One broken plugin breaks only its own names; strict mode; the plugin-API handshake."""

from __future__ import annotations

import sys

import pytest
from lamina import plugins
from lamina.errors import PluginLoadError, PluginNotFoundError, PluginVersionError
from plugin_factory import Sandbox, classes_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


@pytest.fixture
def broken_and_healthy(sandbox):
    sandbox.dist("lamina-broken", entry_points={"lamina.layers": {
        "Broken": "lamina_broken.mod:Broken", "AlsoBroken": "lamina_broken.mod:AlsoBroken"}},
        modules={"lamina_broken.mod": "COUNT = 0\nraise ZeroDivisionError('boom at import')\n"})
    sandbox.dist("lamina-healthy", entry_points={"lamina.layers": {"Healthy": "lamina_healthy:Healthy"}},
                 modules={"lamina_healthy": classes_module("Healthy")})
    return sandbox


def test_import_error_is_kept_chained_and_raised_on_every_use(broken_and_healthy):
    for _ in range(2):
        with pytest.raises(PluginLoadError) as info:
            plugins.resolve("lamina.layers", "Broken")
        assert isinstance(info.value.__cause__, ZeroDivisionError)
        assert "boom at import" in str(info.value)
        assert "lamina-broken 1.0" in str(info.value)
        assert not isinstance(info.value, AttributeError)


def test_the_failing_module_is_imported_once(broken_and_healthy, monkeypatch):
    import importlib

    calls = []
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: calls.append(name) or real(name, *a))
    for name in ("Broken", "AlsoBroken", "Broken"):
        with pytest.raises(PluginLoadError):
            plugins.resolve("lamina.layers", name)
    assert calls == ["lamina_broken.mod"]


def test_other_plugins_keep_working(broken_and_healthy):
    with pytest.raises(PluginLoadError):
        plugins.resolve("lamina.layers", "Broken")
    assert plugins.resolve("lamina.layers", "Healthy").__name__ == "Healthy"
    assert plugins.names("lamina.layers") == ["AlsoBroken", "Broken", "Healthy"]


def test_load_error_through_a_namespace_is_not_an_attribute_error(broken_and_healthy):
    import types

    ns = types.ModuleType("lamina_iso_ns")
    ns.__getattr__, ns.__dir__ = plugins.namespace(("lamina.layers",), "lamina_iso_ns")
    with pytest.raises(PluginLoadError):
        hasattr(ns, "Broken")  # hasattr swallows AttributeError only
    assert hasattr(ns, "Healthy")


def test_failure_shown_in_status(broken_and_healthy):
    records = {d.name: d for d in plugins.status(load=True)}
    states = {n.name: (n.state, n.reason) for n in records["lamina-broken"].names}
    assert states["Broken"][0] == "failed" and "ZeroDivisionError: boom at import" in states["Broken"][1]
    assert states["AlsoBroken"][0] == "failed"
    assert [n.state for n in records["lamina-healthy"].names] == ["loaded"]


def test_missing_attribute_is_a_load_error(sandbox):
    sandbox.dist("lamina-typo", entry_points={"lamina.layers": {"Typo": "lamina_typo:Tpyo"}},
                 modules={"lamina_typo": classes_module("Typo")})
    with pytest.raises(PluginLoadError, match="module 'lamina_typo' has no attribute 'Tpyo'") as info:
        plugins.resolve("lamina.layers", "Typo")
    assert isinstance(info.value.__cause__, AttributeError)


def test_strict_mode_raises_on_first_scan(broken_and_healthy):
    broken_and_healthy.env(LAMINA_STRICT_PLUGINS="1")
    with pytest.raises(PluginLoadError, match="LAMINA_STRICT_PLUGINS=1 and 2 plugin problem") as info:
        plugins.resolve("lamina.layers", "Healthy")  # a healthy name: strict fails fast anyway
    assert isinstance(info.value.__cause__, PluginLoadError)
    assert isinstance(info.value.__cause__.__cause__, ZeroDivisionError)
    with pytest.raises(PluginLoadError):  # and keeps failing
        plugins.names("lamina.layers")


def test_strict_mode_passes_when_everything_loads(sandbox):
    sandbox.dist("lamina-healthy", entry_points={"lamina.layers": {"Healthy": "lamina_healthy:Healthy"}},
                 modules={"lamina_healthy": classes_module("Healthy")})
    sandbox.env(LAMINA_STRICT_PLUGINS="true")
    plugins.names("lamina.layers")
    assert "lamina_healthy" in sys.modules  # strict loads every entry at the first scan


def test_strict_mode_rejects_look_alikes(sandbox):
    sandbox.dist("acme-layers", entry_points={"lamina.layers": {"Linear": "acme_sandbox_layers:Linear"}},
                 modules={"acme_sandbox_layers": classes_module("Linear")})
    sandbox.env(LAMINA_STRICT_PLUGINS="1")
    with pytest.raises(PluginLoadError, match="reserved for first-party"):
        plugins.names("lamina.layers")


@pytest.mark.parametrize("declared", ["2.0", "0.9"])
def test_major_version_mismatch_is_refused(sandbox, declared):
    sandbox.dist("acme-old", "3.1", entry_points={"lamina.layers": {"acme.Old": "acme_old:Old"}},
                 modules={"acme_old": classes_module("Old", api=declared)})
    with pytest.raises(PluginVersionError) as info:
        plugins.resolve("lamina.layers", "acme.Old")
    message = str(info.value)
    assert f"plugin API {declared}" in message and "plugin API 1.0" in message
    assert "acme-old 3.1" in message
    with pytest.raises(PluginVersionError):
        plugins.resolve("lamina.layers", "acme.Old")


def test_minor_difference_and_undeclared_are_accepted(sandbox):
    sandbox.dist("acme-new", entry_points={"lamina.layers": {"acme.New": "acme_new:New"}},
                 modules={"acme_new": classes_module("New", api="1.7")})
    sandbox.dist("acme-bare", entry_points={"lamina.layers": {"acme.Bare": "acme_bare:Bare"}},
                 modules={"acme_bare": classes_module("Bare", api=None)})
    assert plugins.resolve("lamina.layers", "acme.New").__name__ == "New"
    assert plugins.resolve("lamina.layers", "acme.Bare").__name__ == "Bare"
    apis = {d.name: d.plugin_api for d in plugins.status()}
    assert apis == {"acme-bare": "undeclared", "acme-new": "1.7"}


def test_unreadable_version_declaration_is_refused(sandbox):
    sandbox.dist("acme-odd", entry_points={"lamina.layers": {"acme.Odd": "acme_odd:Odd"}},
                 modules={"acme_odd": "__lamina_plugin_api__ = 1\nclass Odd:\n    pass\n"})
    with pytest.raises(PluginVersionError, match="expected a version string"):
        plugins.resolve("lamina.layers", "acme.Odd")


def test_malformed_entry_point_is_skipped_and_reported(sandbox):
    sandbox.dist("lamina-odd",
                 entry_points={"lamina.layers": {"Good": "lamina_odd:Good", "Bad": "not valid!"}},
                 modules={"lamina_odd": classes_module("Good")})
    assert plugins.names("lamina.layers") == ["Good"]
    assert any("malformed entry point 'Bad'" in p for p in plugins.problems())
    with pytest.raises(PluginNotFoundError):
        plugins.resolve("lamina.layers", "Bad")


def test_entry_point_extras_are_ignored_when_loading(sandbox):
    sandbox.dist("lamina-extra", entry_points={"lamina.layers": {"Extra": "lamina_extra:Extra [fast]"}},
                 modules={"lamina_extra": classes_module("Extra")})
    assert plugins.resolve("lamina.layers", "Extra").__name__ == "Extra"
