"""The legacy modules are served as lamina.nn.utils.weight_norm, .spectral_norm, .init, .stateless and
.memory_format (the lamina.namespaces entry points), torch.nn.utils' top-level names are their functions,
fusion's signatures are torch's, and all of it works under the torch alias."""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
import textwrap
import warnings

import lamina
import pytest
import torch

MODULES = ("weight_norm", "spectral_norm", "init", "stateless", "memory_format", "fusion")
TOP_LEVEL = {"weight_norm": "weight_norm", "remove_weight_norm": "weight_norm", "spectral_norm": "spectral_norm",
             "remove_spectral_norm": "spectral_norm", "skip_init": "init",
             "convert_conv2d_weight_memory_format": "memory_format",
             "convert_conv3d_weight_memory_format": "memory_format", "fuse_conv_bn_eval": "fusion",
             "fuse_conv_bn_weights": "fusion", "fuse_linear_bn_eval": "fusion", "fuse_linear_bn_weights": "fusion"}


def _params(fn):
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize("name", MODULES)
def test_module_served_with_torch_public_names(name):
    real = importlib.import_module(f"lamina_nn_utils.{name}")
    assert importlib.import_module(f"lamina.nn.utils.{name}") is real
    assert name in dir(lamina.nn.utils)
    exec(f"from lamina.nn.utils.{name} import {real.__all__[0]} as obj", ns := {})
    assert ns["obj"] is getattr(real, real.__all__[0])
    theirs = importlib.import_module(f"torch.nn.utils.{name}")
    names = getattr(theirs, "__all__", ["skip_init"])  # torch's init has no __all__
    assert sorted(real.__all__) == sorted(names)
    for public in names:  # the same parameters, kinds and defaults as torch's
        ours, their = getattr(real, public), getattr(theirs, public)
        if inspect.isfunction(their):
            assert _params(ours) == _params(their), public


# The core's lamina.nn.utils serves these names from the submodules; importing a submodule would make Python
# bind the submodule object under its name in the package, over the function of the same name (weight_norm,
# spectral_norm): the core keeps the function there, as torch's package does.
@pytest.mark.parametrize("name", sorted(TOP_LEVEL))
def test_top_level_names_are_the_functions(name):
    fn = getattr(importlib.import_module(f"lamina_nn_utils.{TOP_LEVEL[name]}"), name)
    importlib.import_module(f"lamina.nn.utils.{TOP_LEVEL[name]}")  # even once the submodule is imported
    assert getattr(lamina.nn.utils, name) is fn
    exec(f"from lamina.nn.utils import {name} as obj", ns := {})
    assert ns["obj"] is fn
    assert inspect.isfunction(getattr(torch.nn.utils, name))


def test_stateless_and_init_calls_through_lamina_nn_utils():
    m = lamina.nn.utils.skip_init(lamina.nn.Linear, 2, 3)
    assert tuple(m.weight.shape) == (3, 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = lamina.nn.utils.stateless.functional_call(m, {"bias": lamina.zeros(3)}, lamina.zeros(1, 2))
    assert [type(w.message) for w in caught] == [FutureWarning]
    assert caught[0].filename == __file__  # it points at the caller, as torch's does
    assert out.abs().sum().item() == 0.0


@pytest.mark.parametrize("source", ["torch.nn.utils", "submodules"])
def test_under_the_torch_alias(source):
    if source == "submodules":
        imports = ("from torch.nn.utils.weight_norm import weight_norm, remove_weight_norm\n"
                   "from torch.nn.utils.spectral_norm import spectral_norm, remove_spectral_norm\n"
                   "from torch.nn.utils import skip_init")
    else:
        imports = ("from torch.nn.utils import weight_norm, spectral_norm, remove_weight_norm, remove_spectral_norm, "
                   "skip_init")
    code = textwrap.dedent("""
        import json, warnings
        import lamina.compat
        lamina.compat.install_torch_alias()
        import torch
        IMPORTS
        from torch.nn.utils.weight_norm import WeightNorm
        from torch.nn.utils.spectral_norm import SpectralNorm
        import torch.nn.utils.stateless as stateless
        out = {"callable": [callable(f) and type(f).__name__ for f in (weight_norm, spectral_norm, skip_init)]}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            m = weight_norm(torch.nn.Linear(3, 4), dim=None)
            y = stateless.functional_call(m, {"bias": torch.zeros(4)}, torch.ones(2, 3))
        out["warnings"] = [type(w.message).__name__ for w in caught]
        (hook,) = m._forward_pre_hooks.values()
        out["wn"] = [list(m.state_dict()), list(m.weight_g.shape), isinstance(hook, WeightNorm)]
        remove_weight_norm(m)
        out["wn_removed"] = list(m.state_dict())
        c = spectral_norm(torch.nn.ConvTranspose2d(2, 3, 2))
        c(torch.ones(1, 2, 3, 3))
        out["sn"] = [list(c.state_dict()), list(c.weight_u.shape), list(c.weight_v.shape),
                     c.state_dict()._metadata[""]["spectral_norm"]]
        (hook,) = c._forward_pre_hooks.values()
        out["sn"].append(isinstance(hook, SpectralNorm))
        remove_spectral_norm(c)
        out["sn_removed"] = list(c.state_dict())
        out["skip"] = list(skip_init(torch.nn.Linear, 2, 5, dtype=torch.float64).weight.shape)
        out["y"] = list(y.shape)
        print(json.dumps(out))
    """).replace("IMPORTS", imports)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out == {"callable": ["function"] * 3, "warnings": ["FutureWarning", "FutureWarning"],
                   "wn": [["bias", "weight_g", "weight_v"], [], True], "wn_removed": ["bias", "weight"],
                   "sn": [["bias", "weight_orig", "weight_u", "weight_v"], [3], [8], {"weight.version": 1}, True],
                   "sn_removed": ["bias", "weight"], "skip": [5, 2], "y": [2, 4]}
