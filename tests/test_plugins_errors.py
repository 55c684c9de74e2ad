"""Actionable messages for names that are not installed."""

from __future__ import annotations

import pytest
from lamina import plugins
from lamina.errors import PluginNotFoundError
from lamina.plugins import _first_party
from plugin_factory import Sandbox, classes_module


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    box = Sandbox(tmp_path, monkeypatch)
    yield box
    box.close()


@pytest.fixture
def layers(sandbox):
    sandbox.dist("lamina-fake-layers", entry_points={"lamina.layers": {
        "Lineal": "lamina_fake_layers:Lineal", "Conv9d": "lamina_fake_layers:Conv9d"}},
        modules={"lamina_fake_layers": classes_module("Lineal", "Conv9d")})
    return sandbox


def test_missing_first_party_name_names_distribution_and_pip_command(sandbox):
    with pytest.raises(PluginNotFoundError) as info:
        plugins.resolve("lamina.layers", "LSTM")
    message = str(info.value)
    assert "lamina-layers-recurrent" in message
    assert "pip install lamina-layers-recurrent" in message
    assert "pip install -e plugins/layers_recurrent" in message
    assert isinstance(info.value, AttributeError)
    assert info.value.name == "LSTM"


@pytest.mark.parametrize("group, name, dist", [
    ("lamina.functional", "cross_entropy", "lamina-losses"),
    ("lamina.init", "kaiming_uniform_", "lamina-init"),
    ("lamina.lr_scheduler", "StepLR", "lamina-optim"),
    ("lamina.backends.cuda", "cupy", "lamina-backend-cuda"),
])
def test_first_party_table(sandbox, group, name, dist):
    with pytest.raises(PluginNotFoundError, match=f"pip install {dist} "):
        plugins.resolve(group, name)


def test_first_party_installed_without_the_name_suggests_upgrade(sandbox):
    sandbox.dist("lamina-norms", "0.0.1",
                 entry_points={"lamina.layers": {"LayerNorm": "lamina_norms_x:LayerNorm"}},
                 modules={"lamina_norms_x": classes_module("LayerNorm")})
    with pytest.raises(PluginNotFoundError, match=r"0\.0\.1 is installed but does not offer it.*-U"):
        plugins.resolve("lamina.layers", "RMSNorm")


def test_close_match_and_available_listing(layers):
    with pytest.raises(PluginNotFoundError) as info:
        plugins.resolve("lamina.layers", "Linea")
    message = str(info.value)
    assert "Did you mean 'Lineal'" in message
    # a first-party name that is not installed is suggested with its distribution
    assert "'Linear' (not installed; provided by lamina-layers-basic)" in message
    assert "Available in lamina.layers: Conv9d, Lineal" in message


def test_case_insensitive_match_comes_first(layers):
    with pytest.raises(PluginNotFoundError, match="Did you mean 'Conv9d'"):
        plugins.resolve("lamina.layers", "conv9D")


def test_nothing_installed_says_so(sandbox):
    with pytest.raises(PluginNotFoundError, match="No installed plugin offers names in lamina.optim"):
        plugins.resolve("lamina.optim", "Zzzz")


def test_first_party_table_helpers():
    assert _first_party.provider(("lamina.layers", "lamina.losses"), "CrossEntropyLoss") == "lamina-losses"
    assert _first_party.checkout_path("lamina-backend-cpu") == "plugins/backend_cpu"
    from pathlib import Path

    import tomllib

    declared = tomllib.loads((Path(__file__).parents[1] / "plugins/optim/pyproject.toml").read_text())
    assert set(_first_party.FIRST_PARTY["lamina.optim"]) == set(declared["project"]["entry-points"]["lamina.optim"])
    assert _first_party.provider(("lamina.layers",), "acme.Thing") is None


def test_namespace_named_like_its_group_speaks_of_the_module(sandbox):
    import types

    ns = types.ModuleType("optim_alias")
    ns.__getattr__, ns.__dir__ = plugins.namespace(("lamina.optim",), "lamina.optim")  # name == group
    with pytest.raises(PluginNotFoundError, match="^module 'lamina.optim' has no attribute 'Adam'. "
                                                  "'Adam' is provided by .*lamina-optim"):
        ns.Adam  # noqa: B018
