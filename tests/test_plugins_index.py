"""The name index: lazy resolution, names and dir() from metadata, namespaces, in-process registration."""

from __future__ import annotations

import sys
import types

import pytest
from lamina import plugins
from lamina.errors import PluginConfigError, PluginConflictError, PluginNotFoundError
from lamina.plugins import _registry
from plugin_factory import Sandbox, classes_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


@pytest.fixture
def two_layer_modules(sandbox):
    sandbox.dist("lamina-fake-layers", entry_points={
        "lamina.layers": {"FakeConv": "lamina_fake_layers.conv:FakeConv",
                          "FakePool": "lamina_fake_layers.pool:FakePool"},
        "lamina.functional": {"fake_conv": "lamina_fake_layers.conv:fake_conv"},
    }, modules={
        "lamina_fake_layers.conv": classes_module("FakeConv", body="def fake_conv(x):\n    return x\n"),
        "lamina_fake_layers.pool": classes_module("FakePool"),
    })
    return sandbox


def make_namespace(groups, name="lamina_test_ns"):
    module = types.ModuleType(name)
    module.existing_global = 1
    module.__getattr__, module.__dir__ = plugins.namespace(groups, name)
    sys.modules[name] = module
    return module


@pytest.fixture
def nn(two_layer_modules):
    module = make_namespace(("lamina.layers", "lamina.losses"))
    yield module
    del sys.modules[module.__name__]


def test_resolve_imports_only_the_providing_module(two_layer_modules):
    cls = plugins.resolve("lamina.layers", "FakeConv")
    assert cls.__name__ == "FakeConv"
    assert "lamina_fake_layers.conv" in sys.modules
    assert "lamina_fake_layers.pool" not in sys.modules


def test_resolve_caches_the_object(two_layer_modules):
    first = plugins.resolve("lamina.layers", "FakeConv")
    assert plugins.resolve("lamina.layers", "FakeConv") is first
    assert plugins.resolve("lamina.functional", "fake_conv")(3) == 3


def test_one_scan_serves_every_group(two_layer_modules):
    before = _registry.scan_count
    plugins.names("lamina.layers")
    plugins.names("lamina.functional")
    plugins.resolve("lamina.layers", "FakePool")
    assert _registry.scan_count == before + 1


def test_names_come_from_metadata_without_import(two_layer_modules):
    assert plugins.names("lamina.layers") == ["FakeConv", "FakePool"]
    assert plugins.names("lamina.functional") == ["fake_conv"]
    assert plugins.names("lamina.optim") == []
    assert "lamina_fake_layers" not in sys.modules


def test_namespace_getattr_and_dir(nn):
    listing = dir(nn)
    assert {"FakeConv", "FakePool", "existing_global"} <= set(listing)
    assert "fake_conv" not in listing  # a functional name is not in lamina.nn
    assert "lamina_fake_layers" not in sys.modules  # dir() imported nothing
    assert nn.FakePool.__name__ == "FakePool"
    assert "lamina_fake_layers.conv" not in sys.modules


def test_namespace_underscore_names_fail_fast_without_scan(nn):
    before = _registry.scan_count
    with pytest.raises(AttributeError) as info:
        nn.__wrapped__  # noqa: B018
    assert type(info.value) is AttributeError
    assert not hasattr(nn, "_private")
    assert _registry.scan_count == before


def test_namespace_missing_name_is_attribute_error(nn):
    assert not hasattr(nn, "NoSuchLayer")
    with pytest.raises(PluginNotFoundError, match="module 'lamina_test_ns' has no attribute 'NoSuchLayer'"):
        nn.NoSuchLayer  # noqa: B018


def test_namespace_serves_submodules_without_scan(tmp_path, monkeypatch, sandbox):
    pkg = tmp_path / "nspkg_for_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from lamina import plugins\n"
        "__getattr__, __dir__ = plugins.namespace(('lamina.layers',), __name__)\n")
    (pkg / "functional.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    sandbox.top_modules.add("nspkg_for_test")
    before = _registry.scan_count
    from nspkg_for_test import functional

    assert functional.VALUE == 42
    assert _registry.scan_count == before


def test_dotted_names_reached_with_getattr(sandbox):
    sandbox.dist("acme-layers", entry_points={"lamina.layers": {"acme.GatedConv": "acme_sandbox_layers:GatedConv"}},
                 modules={"acme_sandbox_layers": classes_module("GatedConv")})
    nn = make_namespace(("lamina.layers",), "lamina_test_ns_dotted")
    try:
        assert getattr(nn, "acme.GatedConv").__name__ == "GatedConv"
        assert plugins.resolve("lamina.layers", "acme.GatedConv") is getattr(nn, "acme.GatedConv")
    finally:
        del sys.modules[nn.__name__]


def test_register_in_process(sandbox):
    class Experimental:
        pass

    plugins.register("lamina.layers", "Experimental", Experimental)
    assert plugins.resolve("lamina.layers", "Experimental") is Experimental
    assert "Experimental" in plugins.names("lamina.layers")
    infos = plugins.entries("lamina.layers")
    assert [(i.name, i.distribution) for i in infos] == [("Experimental", plugins.IN_PROCESS)]
    plugins.unregister("lamina.layers", "Experimental")
    with pytest.raises(PluginNotFoundError):
        plugins.resolve("lamina.layers", "Experimental")
    with pytest.raises(PluginNotFoundError, match="not registered in-process"):
        plugins.unregister("lamina.layers", "Experimental")


def test_register_twice_needs_replace(sandbox):
    plugins.register("lamina.optim", "Toy", int)
    with pytest.raises(PluginConflictError, match="replace=True"):
        plugins.register("lamina.optim", "Toy", float)
    plugins.register("lamina.optim", "Toy", float, replace=True)
    assert plugins.resolve("lamina.optim", "Toy") is float


def test_register_over_an_installed_name(two_layer_modules):
    plugins.names("lamina.layers")  # index built: the clash is reported at once
    with pytest.raises(PluginConflictError, match="lamina-fake-layers 1.0"):
        plugins.register("lamina.layers", "FakeConv", object)
    plugins.register("lamina.layers", "FakeConv", object, replace=True)
    assert plugins.resolve("lamina.layers", "FakeConv") is object


def test_register_before_scan_conflicts_at_use(two_layer_modules):
    plugins.register("lamina.layers", "FakeConv", object)  # no scan yet: checked at use
    with pytest.raises(PluginConflictError, match="<in-process>.*lamina-fake-layers|replace=True"):
        plugins.resolve("lamina.layers", "FakeConv")
    plugins.prefer("FakeConv", plugins.IN_PROCESS)
    assert plugins.resolve("lamina.layers", "FakeConv") is object


def test_register_validates_group_and_name(sandbox):
    with pytest.raises(PluginConfigError, match="unknown plugin group 'lamina.layer'"):
        plugins.register("lamina.layer", "X", object)
    with pytest.raises(PluginConfigError, match="dotted name"):
        plugins.register("lamina.layers", "not a name", object)


def test_refresh_sees_a_new_distribution(sandbox):
    assert plugins.names("lamina.losses") == []
    sandbox.dist("lamina-fake-losses",
                 entry_points={"lamina.losses": {"FakeLoss": "lamina_fake_losses:FakeLoss"}},
                 modules={"lamina_fake_losses": classes_module("FakeLoss")})
    assert plugins.names("lamina.losses") == ["FakeLoss"]


def test_entries_by_distribution(two_layer_modules):
    infos = plugins.entries(distribution="Lamina_Fake.Layers")  # PEP 503 normalisation
    assert sorted((i.group, i.name) for i in infos) == [
        ("lamina.functional", "fake_conv"), ("lamina.layers", "FakeConv"), ("lamina.layers", "FakePool")]
    assert all(i.first_party and i.version == "1.0" for i in infos)


def test_sandbox_sets_aside_outside_registrations(tmp_path, monkeypatch):
    plugins.register("lamina.layers", "OutsideTest", int)
    try:
        box = Sandbox(tmp_path, monkeypatch)
        assert "OutsideTest" not in plugins.names("lamina.layers")
        box.close()
        monkeypatch.undo()
        assert plugins.resolve("lamina.layers", "OutsideTest") is int
    finally:
        plugins.unregister("lamina.layers", "OutsideTest")


def test_testing_group_is_a_collection_labelled_by_distribution(sandbox):
    records = "def records():\n    return [{'name': __name__}]\n"
    sandbox.dist("lamina-kit-a", entry_points={"lamina.testing": {"lamina-kit-a": "lamina_kit_a:records"}},
                 modules={"lamina_kit_a": records})
    sandbox.dist("acme-kit", entry_points={"lamina.testing": {"lamina-kit-a": "acme_kit:records"}},
                 modules={"acme_kit": records})
    assert plugins.names("lamina.testing") == ["lamina-kit-a"]
    (info,) = plugins.entries("lamina.testing", distribution="acme-kit")
    assert (info.name, info.value) == ("lamina-kit-a", "acme_kit:records")
    states = sorted((d.name, n.state, n.reason) for d in plugins.status() for n in d.names)
    assert states == [("acme-kit", "available", None), ("lamina-kit-a", "available", None)]
