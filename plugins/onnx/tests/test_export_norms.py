"""Normalisation layers (lamina-norms) exported as units in eval mode, run in onnxruntime."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import onnx
import pytest
from _onnx_check import export_bytes, op_types, roundtrip
from lamina import nn


def trained(module: nn.Module, shape: tuple[int, ...]) -> nn.Module:
    """Running statistics that are not the initial ones: a few training-mode passes."""
    module.train()
    with lamina.no_grad():
        for _ in range(3):
            module(lamina.randn(*shape) * 2 + 1)
    return module


NORMS = [
    ("batchnorm1d_2d", lambda: trained(nn.BatchNorm1d(4), (8, 4)), (3, 4)),
    ("batchnorm1d_3d", lambda: trained(nn.BatchNorm1d(4), (8, 4, 5)), (3, 4, 5)),
    ("batchnorm2d", lambda: trained(nn.BatchNorm2d(3), (4, 3, 5, 5)), (2, 3, 5, 5)),
    ("batchnorm2d_no_affine", lambda: trained(nn.BatchNorm2d(3, affine=False), (4, 3, 5, 5)), (2, 3, 5, 5)),
    ("batchnorm3d", lambda: trained(nn.BatchNorm3d(2), (2, 2, 3, 3, 3)), (2, 2, 3, 3, 3)),
    ("layernorm", lambda: nn.LayerNorm(6), (2, 5, 6)),
    ("layernorm_2dims", lambda: nn.LayerNorm((5, 6), eps=1e-3), (2, 5, 6)),
    ("layernorm_no_affine", lambda: nn.LayerNorm(6, elementwise_affine=False), (2, 6)),
    ("groupnorm", lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    ("groupnorm_no_affine", lambda: nn.GroupNorm(4, 4, affine=False), (2, 4, 5)),
    ("instancenorm2d", lambda: nn.InstanceNorm2d(3, affine=True), (2, 3, 4, 4)),
    ("rmsnorm", lambda: nn.RMSNorm(6, eps=1e-5), (2, 5, 6)),
]


def seeded_params(module: nn.Module) -> nn.Module:
    """Affine parameters away from ones/zeros, so a missing scale or shift shows."""
    with lamina.no_grad():
        for p in module.parameters():
            p.copy_(lamina.randn(*p.shape) * 0.5 + 1)
    return module


@pytest.mark.parametrize("opset", [17, 20])
@pytest.mark.parametrize("make, shape", [(m, s) for _, m, s in NORMS], ids=[n for n, _, _ in NORMS])
def test_norm_matches_lamina_in_eval_mode(make, shape, opset):
    lamina.manual_seed(0)
    model = seeded_params(make())
    roundtrip(model, lamina.randn(*shape), run_args=lamina.randn(4, *shape[1:]), opset_version=opset,
              input_names=["x"], dynamic_axes={"x": {0: "batch"}})


def test_a_model_in_train_mode_is_exported_in_eval_mode_and_left_in_train_mode():
    lamina.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(2, 3, 1), trained(nn.BatchNorm2d(3), (4, 3, 2, 2)), nn.Dropout(0.5))
    model.train()
    model[0].eval()  # each module's own flag comes back
    stats = model[1].running_mean.detach().numpy().copy()
    data = export_bytes(model, lamina.randn(2, 2, 4, 4))
    assert model.training and model[1].training and model[2].training and not model[0].training
    assert (model[1].running_mean.detach().numpy() == stats).all()  # no statistics update while tracing
    assert "BatchNormalization" in op_types(onnx.load_from_string(data))


def test_batchnorm_without_running_stats_is_refused_naming_the_module():
    model = nn.Sequential(nn.BatchNorm1d(3, track_running_stats=False))
    with pytest.raises(lamina.onnx.UnsupportedOperatorError, match=r"'BatchNorm1d' \(in module '0'\).*running"):
        roundtrip(model, lamina.randn(4, 3))


FUNCTIONAL = {
    "layer_norm": lambda x, w, b, m, v: F.layer_norm(x, (4,), w, b, eps=1e-4),
    "layer_norm_plain": lambda x, w, b, m, v: F.layer_norm(x, (3, 4)),
    "batch_norm_running": lambda x, w, b, m, v: F.batch_norm(x, m, v, w, b, training=False, eps=1e-3),
    "group_norm": lambda x, w, b, m, v: F.group_norm(x, 1, None, None),
    "instance_norm": lambda x, w, b, m, v: F.instance_norm(x, weight=w, bias=b),
    "rms_norm": lambda x, w, b, m, v: F.rms_norm(x, (4,), w, eps=1e-5),
}


class Functional(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.weight = nn.Parameter(lamina.randn(4) * 0.5 + 1)
        self.bias = nn.Parameter(lamina.randn(4))
        self.register_buffer("mean", lamina.randn(4))
        self.register_buffer("var", lamina.rand(4) + 0.5)

    def forward(self, x):  # x (N, 3, 4): channels are dim 1 for batch/instance norm, so transpose
        if self.fn in (FUNCTIONAL["batch_norm_running"], FUNCTIONAL["instance_norm"], FUNCTIONAL["group_norm"]):
            return self.fn(x.transpose(1, 2), self.weight, self.bias, self.mean, self.var)
        return self.fn(x, self.weight, self.bias, self.mean, self.var)


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_norms_are_exported_at_op_level(name):
    lamina.manual_seed(0)
    model = Functional(FUNCTIONAL[name])
    roundtrip(model, lamina.randn(2, 3, 4), run_args=lamina.randn(5, 3, 4), input_names=["x"],
              dynamic_axes={"x": {0: "batch"}})


def test_sync_batchnorm_in_one_process_is_traced_through_to_its_normalize_op():
    lamina.manual_seed(0)
    model = seeded_params(trained(nn.SyncBatchNorm(3), (4, 3, 5)))
    roundtrip(model, lamina.randn(2, 3, 5), run_args=lamina.randn(6, 3, 5), input_names=["x"],
              dynamic_axes={"x": {0: "batch"}})
