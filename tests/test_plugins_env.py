"""Environment controls: allow/block lists, autoload off, trace, invalid values."""

from __future__ import annotations

import sys

import pytest
from lamina import plugins
from lamina.errors import PluginConfigError, PluginNotFoundError
from lamina.plugins import _registry
from plugin_factory import Sandbox, backend_module, classes_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    box.dist("lamina-alpha", entry_points={"lamina.layers": {"Alpha": "lamina_alpha:Alpha"}},
             modules={"lamina_alpha": classes_module("Alpha")})
    box.dist("acme-beta", entry_points={"lamina.layers": {"acme.Beta": "acme_beta:Beta"}},
             modules={"acme_beta": classes_module("Beta")})
    box.dist("lamina-backend-fake",
             entry_points={"lamina.backends.cpu": {"fakecpu": "lamina_backend_fake:Fake"}},
             modules={"lamina_backend_fake": backend_module("Fake")})
    yield box
    box.close()


def test_env_is_read_at_first_use_not_at_refresh(sandbox, monkeypatch):
    monkeypatch.setenv("LAMINA_DISABLE_PLUGINS", "acme-beta")
    assert plugins.names("lamina.layers") == ["Alpha"]  # read now, at first use after refresh
    monkeypatch.delenv("LAMINA_DISABLE_PLUGINS")
    assert plugins.names("lamina.layers") == ["Alpha"]  # cached until refresh()
    plugins.refresh()
    assert plugins.names("lamina.layers") == ["Alpha", "acme.Beta"]


def test_allow_list_blocks_everything_else(sandbox):
    sandbox.env(LAMINA_PLUGINS="Lamina_Alpha")  # normalised
    assert plugins.names("lamina.layers") == ["Alpha"]
    assert plugins.names("lamina.backends.cpu") == []
    with pytest.raises(PluginNotFoundError, match="acme-beta 1.0 offers it but is blocked by LAMINA_PLUGINS"):
        plugins.resolve("lamina.layers", "acme.Beta")
    blocked = {d.name: d.blocked_by for d in plugins.status()}
    assert blocked == {"lamina-alpha": None, "lamina-backend-fake": "LAMINA_PLUGINS",
                       "acme-beta": "LAMINA_PLUGINS"}


def test_block_list(sandbox):
    sandbox.env(LAMINA_DISABLE_PLUGINS=" lamina-alpha ,other")
    assert plugins.names("lamina.layers") == ["acme.Beta"]
    with pytest.raises(PluginNotFoundError, match="remove lamina-alpha from LAMINA_DISABLE_PLUGINS"):
        plugins.resolve("lamina.layers", "Alpha")
    assert "lamina_alpha" not in sys.modules


def test_autoload_off_scans_nothing(sandbox, monkeypatch):
    import importlib_metadata

    def no_scan(*args, **kwargs):
        raise AssertionError("entry points were scanned")

    monkeypatch.setattr(importlib_metadata, "distributions", no_scan)
    monkeypatch.setattr(importlib_metadata, "entry_points", no_scan)
    sandbox.env(LAMINA_PLUGIN_AUTOLOAD="0")
    assert plugins.names("lamina.layers") == []
    assert plugins.load_backend_classes("cpu") == []
    with pytest.raises(PluginNotFoundError, match=r"autoloading is off \(LAMINA_PLUGIN_AUTOLOAD=0\)"):
        plugins.resolve("lamina.layers", "Conv2d")
    plugins.register("lamina.layers", "Local", int)
    assert plugins.resolve("lamina.layers", "Local") is int


def test_autoload_off_uses_only_listed_distributions_backends_included(sandbox):
    sandbox.env(LAMINA_PLUGIN_AUTOLOAD="off", LAMINA_PLUGINS="lamina-backend-fake,not-installed-dist")
    (name, cls), = plugins.load_backend_classes("cpu")
    assert (name, cls.__name__) == ("fakecpu", "Fake")
    assert plugins.names("lamina.layers") == []
    assert "LAMINA_PLUGINS names 'not-installed-dist', which is not installed" in plugins.problems()


def test_trace_prints_scan_and_loads(sandbox, capsys):
    sandbox.env(LAMINA_TRACE_PLUGINS="1")
    plugins.resolve("lamina.layers", "Alpha")
    err = capsys.readouterr().err
    assert "lamina.plugins: scanned" in err and " ms" in err
    assert "loaded lamina.layers:Alpha from lamina-alpha 1.0 [lamina_alpha:Alpha]" in err


def test_no_trace_by_default(sandbox, capsys):
    plugins.resolve("lamina.layers", "Alpha")
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("var, value, expected", [
    ("LAMINA_STRICT_PLUGINS", "maybe", "LAMINA_STRICT_PLUGINS must be one of"),
    ("LAMINA_PLUGIN_AUTOLOAD", "2", "LAMINA_PLUGIN_AUTOLOAD must be one of"),
    ("LAMINA_PREFER", "Linear", "LAMINA_PREFER: expected comma-separated entries like 'Linear="),
    ("LAMINA_BACKENDS", "cpu", "LAMINA_BACKENDS: expected"),
])
def test_invalid_values_are_reported(sandbox, var, value, expected):
    sandbox.env(**{var: value})
    with pytest.raises(PluginConfigError, match=expected):
        plugins.names("lamina.layers")


def test_refresh_does_not_read_the_environment(sandbox, monkeypatch):
    monkeypatch.setenv("LAMINA_STRICT_PLUGINS", "not-a-flag")
    plugins.refresh()  # does not raise: the value is read at the next use
    assert _registry._settings is None
    with pytest.raises(PluginConfigError):
        plugins.names("lamina.layers")
