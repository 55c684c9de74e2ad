"""tools/api_coverage.py: lamina's coverage of torch 2.13's public API per family, and docs/compat.md,
the page generated from it (it must be regenerated when a name is added)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import lamina
import pytest

torch = pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api_coverage", ROOT / "tools" / "api_coverage.py")
cov = importlib.util.module_from_spec(_spec)
sys.modules["api_coverage"] = cov
_spec.loader.exec_module(cov)


@pytest.mark.parametrize("name, reason", [
    ("quantize_per_tensor", "quantization"), ("q_scale", "quantization"), ("fake_quantize_per_channel_affine",
                                                                          "quantization"),
    ("cudnn_convolution", "cuDNN/MIOpen/MKLDNN/FBGEMM kernels"), ("mkldnn_max_pool2d",
                                                                   "cuDNN/MIOpen/MKLDNN/FBGEMM kernels"),
    ("view_copy", "*_copy view variant"), ("native_layer_norm", "native_* kernel"), ("parse_ir", "TorchScript IR"),
    ("_foo", "private"),
])
def test_internal_names_are_left_out_with_their_reason(name, reason):
    assert cov.internal_reason(name) == reason


@pytest.mark.parametrize("name", ["conv2d", "copysign", "fork_rng", "native", "quantile", "tril", "erfinv", "det",
                                  "linalg", "batch_norm", "split_copy_not"])
def test_public_names_are_counted(name):
    assert cov.internal_reason(name) is None


def test_a_provided_name_counts_and_a_missing_one_does_not():
    assert cov.provided(lamina, "torch", "exp") and cov.provided(lamina, "Tensor", "exp")
    assert not cov.provided(lamina, "torch", "no_such_function_anywhere")
    assert not cov.provided(lamina, "nn", "NoSuchLayer")


def test_families_hold_only_torch_s_own_names():
    fams = cov.families(torch)
    assert "Optional" not in fams["nn.functional"] and "partial" not in fams["optim.lr_scheduler"]
    assert "conv2d" in fams["nn.functional"] and "Linear" in fams["nn"] and "Normal" in fams["distributions"]


def test_the_compat_page_is_up_to_date():
    result = cov.measure(torch, lamina)
    text = cov.markdown(result, torch.__version__.split("+")[0])
    page = ROOT / "docs" / "compat.md"
    assert page.exists() and page.read_text(encoding="utf-8") == text, (
        "docs/compat.md is out of date: run python tools/api_coverage.py --write docs/compat.md")
