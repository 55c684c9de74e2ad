"""The four modules are served under lamina.nn.utils (the lamina.namespaces entry points) in every import
form, as the same module objects as the plugin's own."""

from __future__ import annotations

import importlib

import lamina
import lamina_nn_utils
import pytest

NAMES = ("parametrize", "parametrizations", "prune", "fusion")


@pytest.mark.parametrize("name", NAMES)
def test_import_forms(name):
    real = importlib.import_module(f"lamina_nn_utils.{name}")
    assert importlib.import_module(f"lamina.nn.utils.{name}") is real
    assert getattr(lamina.nn.utils, name) is real
    exec(f"from lamina.nn.utils import {name} as m", ns := {})
    assert ns["m"] is real
    assert name in dir(lamina.nn.utils)
    for public in real.__all__:
        assert callable(getattr(real, public))


def test_torch_style_usage():
    import lamina as torch
    from lamina.nn.utils.parametrize import register_parametrization
    from lamina.nn.utils.prune import l1_unstructured

    m = torch.nn.Linear(3, 3)
    torch.nn.utils.parametrizations.weight_norm(m)
    assert type(m).__name__ == "ParametrizedLinear"
    assert torch.nn.utils.parametrize.is_parametrized(m, "weight")
    n = l1_unstructured(torch.nn.Linear(2, 2), "weight", 1)
    assert torch.nn.utils.prune.is_pruned(n)
    assert register_parametrization.__module__ == "lamina_nn_utils.parametrize"
    assert lamina_nn_utils.__lamina_plugin_api__ == "1.0"
