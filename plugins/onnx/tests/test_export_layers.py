"""Layers of lamina-layers-basic exported and run in onnxruntime: outputs equal lamina's (rtol 1e-4)."""

from __future__ import annotations

import lamina
import pytest
from _onnx_check import op_types, roundtrip
from lamina import nn
from onnx import numpy_helper

BATCH = {"x": {0: "batch"}, "output": {0: "batch"}}


def seeded(make):
    lamina.manual_seed(0)
    return make()


LAYERS = [
    ("linear_2d", lambda: nn.Linear(6, 4), (3, 6)),
    ("linear_3d", lambda: nn.Linear(6, 4), (2, 5, 6)),
    ("linear_no_bias", lambda: nn.Linear(6, 4, bias=False), (2, 5, 6)),
    ("conv1d", lambda: nn.Conv1d(3, 4, 3, stride=2, padding=1), (2, 3, 9)),
    ("conv2d", lambda: nn.Conv2d(3, 4, 3, padding=1, dilation=1), (2, 3, 7, 7)),
    ("conv2d_groups_same", lambda: nn.Conv2d(4, 6, 3, padding="same", groups=2, bias=False), (2, 4, 6, 6)),
    ("conv2d_dilated", lambda: nn.Conv2d(3, 2, 3, padding=2, dilation=2), (2, 3, 8, 8)),
    ("conv2d_reflect", lambda: nn.Conv2d(3, 2, 3, padding=1, padding_mode="reflect"), (2, 3, 6, 6)),
    ("conv2d_replicate", lambda: nn.Conv2d(3, 2, 3, padding=1, padding_mode="replicate"), (2, 3, 6, 6)),
    ("conv3d", lambda: nn.Conv3d(2, 3, (2, 3, 3), padding=(0, 1, 1)), (2, 2, 4, 5, 5)),
    ("conv_transpose2d", lambda: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 4)),
    ("conv_transpose2d_groups", lambda: nn.ConvTranspose2d(4, 4, 2, stride=2, groups=2), (2, 4, 3, 3)),
    ("maxpool2d", lambda: nn.MaxPool2d(2), (2, 3, 8, 8)),
    ("maxpool2d_pad_stride", lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    ("maxpool2d_ceil", lambda: nn.MaxPool2d(2, ceil_mode=True), (2, 3, 7, 7)),
    ("maxpool1d", lambda: nn.MaxPool1d(3, stride=2), (2, 3, 9)),
    ("maxpool3d", lambda: nn.MaxPool3d(2), (1, 2, 4, 4, 4)),
    ("avgpool2d", lambda: nn.AvgPool2d(2), (2, 3, 8, 8)),
    ("avgpool2d_pad", lambda: nn.AvgPool2d(3, stride=1, padding=1), (2, 3, 5, 5)),
    ("avgpool2d_pad_exclude", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 3, 7, 7)),
    ("avgpool1d", lambda: nn.AvgPool1d(2), (2, 3, 8)),
    ("adaptive_avg_1", lambda: nn.AdaptiveAvgPool2d(1), (2, 3, 5, 5)),
    ("adaptive_avg_divisor", lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 4, 6)),
    ("adaptive_max_1", lambda: nn.AdaptiveMaxPool2d(1), (2, 3, 5, 5)),
    ("adaptive_avg1d_1", lambda: nn.AdaptiveAvgPool1d(1), (2, 3, 7)),
    ("zero_pad", lambda: nn.ZeroPad2d((1, 2, 0, 1)), (2, 3, 4, 4)),
    ("constant_pad", lambda: nn.ConstantPad1d(2, 0.5), (2, 3, 4)),
    ("reflection_pad", lambda: nn.ReflectionPad2d(1), (2, 3, 4, 4)),
    ("flatten", lambda: nn.Flatten(), (2, 3, 4, 4)),
    ("unflatten", lambda: nn.Unflatten(1, (2, 6)), (2, 12, 3)),
    ("dropout_eval", lambda: nn.Sequential(nn.Conv2d(2, 2, 1), nn.Dropout2d(0.3), nn.Flatten(), nn.Dropout(0.5),
                                           nn.AlphaDropout(0.2)), (2, 2, 3, 3)),
    ("identity", lambda: nn.Sequential(nn.Identity(), nn.Linear(4, 2)), (2, 4)),
    ("upsample_nearest_scale", lambda: nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    ("upsample_nearest_size", lambda: nn.Upsample(size=(7, 9)), (2, 3, 4, 5)),
    ("upsample_nearest_exact", lambda: nn.Upsample(size=(7, 3), mode="nearest-exact"), (2, 3, 4, 5)),
    ("upsample_bilinear", lambda: nn.Upsample(scale_factor=1.5, mode="bilinear"), (2, 3, 4, 4)),
    ("upsample_bilinear_size", lambda: nn.Upsample(size=(5, 7), mode="bilinear"), (2, 3, 4, 4)),
    ("upsample_bilinear_corners", lambda: nn.UpsamplingBilinear2d(scale_factor=2), (2, 3, 4, 4)),
    ("upsample_linear_1d", lambda: nn.Upsample(scale_factor=3, mode="linear"), (2, 3, 4)),
    ("upsample_trilinear", lambda: nn.Upsample(size=(3, 4, 5), mode="trilinear", align_corners=True),
     (1, 2, 2, 3, 3)),
]


@pytest.mark.parametrize("make, shape", [(m, s) for _, m, s in LAYERS], ids=[n for n, _, _ in LAYERS])
def test_layer_matches_lamina(make, shape):
    model = seeded(make)
    roundtrip(model, lamina.randn(*shape))


@pytest.mark.parametrize("make, shape", [(m, s) for n, m, s in LAYERS if n in {
    "linear_3d", "conv2d", "conv_transpose2d", "maxpool2d_ceil", "avgpool2d_pad", "adaptive_avg_1", "flatten",
    "unflatten", "reflection_pad", "conv1d", "upsample_nearest_size",
    "upsample_bilinear"}], ids=lambda v: getattr(v, "__name__", str(v)))
def test_layer_with_a_dynamic_batch_runs_on_another_batch_size(make, shape):
    model = seeded(make)
    roundtrip(model, lamina.randn(*shape), run_args=lamina.randn(5, *shape[1:]), input_names=["x"],
              dynamic_axes=BATCH)


def test_embedding_gathers_rows_for_any_index_shape():
    model = seeded(lambda: nn.Embedding(10, 4, padding_idx=0))
    idx = lamina.tensor([[1, 2, 0], [9, 3, 3]])
    proto = roundtrip(model, idx, run_args=lamina.tensor([[4, 5, 6], [7, 8, 9], [0, 1, 2]]), input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    assert op_types(proto) == ["Gather"]


def test_linear_weights_become_initializers_named_by_state_dict_key():
    model = seeded(lambda: nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)))
    proto = roundtrip(model, lamina.randn(2, 4))
    assert {i.name for i in proto.graph.initializer} == {"0.weight", "0.bias", "2.weight", "2.bias"}
    assert op_types(proto) == ["Gemm", "Relu", "Gemm"]


def test_a_3d_linear_folds_its_transposed_weight_into_an_initializer():
    model = seeded(lambda: nn.Linear(4, 3))
    folded = roundtrip(model, lamina.randn(2, 5, 4))
    assert op_types(folded) == ["MatMul", "Add"]
    unfolded = roundtrip(model, lamina.randn(2, 5, 4), do_constant_folding=False)
    assert op_types(unfolded) == ["Transpose", "MatMul", "Add"]


def test_flatten_keeps_the_batch_dynamic():
    model = seeded(lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3)))
    proto = roundtrip(model, lamina.randn(2, 1, 6, 6), run_args=lamina.randn(7, 1, 6, 6), input_names=["x"],
                      dynamic_axes=BATCH)
    reshape = next(n for n in proto.graph.node if n.op_type == "Reshape")
    target = next(i for i in proto.graph.initializer if i.name == reshape.input[1])
    assert numpy_helper.to_array(target).tolist() == [0, 32]  # the batch is copied, not baked in


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.MaxPool2d(2, return_indices=True), (2, 3, 6, 6)),
    (lambda: nn.MaxPool2d(3, stride=2, padding=1, dilation=1, return_indices=True, ceil_mode=True), (2, 3, 7, 7)),
    (lambda: nn.MaxPool2d(2, stride=1, dilation=2, return_indices=True), (2, 2, 6, 5)),
    (lambda: nn.MaxPool1d(3, stride=2, padding=1, return_indices=True), (2, 3, 9)),
    (lambda: nn.MaxPool3d(2, return_indices=True), (2, 2, 4, 4, 4)),
], ids=["2d", "2d_pad_ceil", "2d_dilated", "1d_pad", "3d"])
def test_max_pool_indices_are_torchs_per_plane_flat_indices(make, shape):
    """ONNX counts MaxPool's indices over (N, C, *S); the export takes them modulo the plane size, so
    they equal lamina's (and torch's) per-plane flat indices, for another batch size too."""
    model = seeded(make)
    x = lamina.randn(*shape)
    x = lamina.where(x > 1.0, lamina.ones(1), x)  # ties: the first max wins in both
    proto = roundtrip(model, x, run_args=lamina.randn(5, *shape[1:]), input_names=["x"],
                      dynamic_axes={"x": {0: "batch"}})
    assert "Mod" in op_types(proto)
