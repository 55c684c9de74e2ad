"""Comparisons, logical and bitwise ops, predicates, argmax/argmin and any/all in forward: recorded
through the core's observer hook, exported, and run in onnxruntime on a batch size other than the
traced one."""

from __future__ import annotations

import lamina
import numpy as np
import onnx
import pytest
from _onnx_check import Lambda, export_bytes, op_types, roundtrip, run_onnx
from lamina.onnx import UnsupportedOperatorError


def special(x):
    """x with NaN where x > 0.5, +inf where x < -0.5 and -inf where -0.2 < x < 0."""
    x = lamina.where(x > 0.5, float("nan"), x)
    x = lamina.where(x < -0.5, float("inf"), x)
    return lamina.where((x < 0) & (x > -0.2), float("-inf"), x)


# every x is (N, 3, 4) with N = 2 traced and 5 run; the batch stays dynamic. Bool results are
# returned as floats (assert_allclose compares numbers).
OPS = {
    "mask_multiply": lambda x, w: x * (x > 0),
    "leaky_where": lambda x, w: lamina.where(x > 0, x, 0.1 * x) + x.masked_fill(x < w, 0.0),
    "comparisons": lambda x, w: (x >= w).float() + (x <= 0.5).float() + (x < w).float() + (x.gt(-0.3)).float()
    + (x.round() == x.round().flip(-1)).float() + (x.round() != 0).float() + lamina.eq(x.round(), 1).float(),
    "int_and_bool_operands": lambda x, w: (x.int() > 0.5).float() + ((x > 0) == (w > 0)).float()
    + ((x > 0) > (w > 0)).float() + ((x > 0) != 0).float() + (x.long() <= w.long()).float(),
    "logical": lambda x, w: lamina.logical_and(x > 0, w < 0).float() + lamina.logical_or(x, 0).float()
    + lamina.logical_xor(x > 0, x.round()).float() + lamina.logical_not(x > 0).float() + x.logical_not().float(),
    "bool_operators": lambda x, w: ((x > 0) & (w > 0)).float() + ((x > 0) | (x < -1)).float()
    + ((x > 0) ^ (w > 0)).float() + (~(x > 0)).float(),
    "bitwise_int": lambda x, w: ((x * 4).int() & 3) + ((x * 4).long() | 5) + ((x * 4).int() ^ (w * 4).int())
    + ~(x * 4).long(),
    "predicates": lambda x, w: lamina.isnan(special(x)).float() + lamina.isinf(special(x)).float() * 2
    + lamina.isfinite(special(x)).float() * 4 + lamina.isposinf(special(x)).float() * 8
    + lamina.isneginf(special(x)).float() * 16 + lamina.isnan(x.int()).float(),
    "argmax_argmin": lambda x, w: (x.argmax(-1), x.argmin(1, keepdim=True), x.round().argmax(-1),
                                   lamina.argmax(x), x.argmin(), (x > 0).argmax(dim=2)),
    "any_all": lambda x, w: ((x > 0).any(-1).float() + (x > -1).all(dim=1).float().sum(-1, keepdim=True),
                             (x > 0).all(dim=(1, 2), keepdim=True).float(), x.any().float(), (x > 0).all().float(),
                             lamina.any(x.round(), 1).float()),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_matches_lamina_for_another_batch_size(name):
    lamina.manual_seed(0)
    model = Lambda(OPS[name])
    roundtrip(model, lamina.randn(2, 3, 4), run_args=lamina.randn(5, 3, 4), input_names=["x"],
              dynamic_axes={"x": {0: "batch"}})


def test_a_bool_output_is_a_bool_graph_output_and_scalars_stay_baked_in():
    lamina.manual_seed(0)
    model = Lambda(lambda x, w: (x > 0.25) | (w < 0))
    data = export_bytes(model, lamina.randn(2, 4), input_names=["x"], dynamic_axes={"x": [0]})
    proto = onnx.load_from_string(data)
    assert proto.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.BOOL
    assert op_types(proto) == ["Greater", "Or"]  # w < 0 is folded: it reads a parameter only
    x = lamina.randn(7, 4)
    (got,) = run_onnx(data, [x.numpy()])
    np.testing.assert_array_equal(got, model(x).numpy())


def test_argmax_of_ties_is_the_first_as_torch():
    x = lamina.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0]])
    proto = roundtrip(Lambda(lambda x, w: (x.argmax(-1), x.argmin(-1))), x)
    assert [a.i for n in proto.graph.node if n.op_type in ("ArgMax", "ArgMin")
            for a in n.attribute if a.name == "select_last_index"] == [0, 0]


def test_integer_bitwise_ops_need_opset_18():
    model = Lambda(lambda x, w: (x * 4).int() & 3)
    with pytest.raises(UnsupportedOperatorError, match=r"op 'bitwise_and'.*need opset 18.*got 17"):
        export_bytes(model, lamina.randn(2, 4), opset_version=17)
    roundtrip(Lambda(lambda x, w: ((x > 0) & (x < 1)).float()), lamina.randn(2, 4), opset_version=17)


@pytest.mark.parametrize("opset", [17, 18, 19, 20])
def test_logic_at_every_supported_opset(opset):
    lamina.manual_seed(0)
    model = Lambda(lambda x, w: (lamina.where(x > w, x, -x) + (x > 0).any(-1, keepdim=True).float()
                                 + (x < 0).all(1, keepdim=True).float(), x.argmax(1)))
    roundtrip(model, lamina.randn(2, 3, 4), opset_version=opset)
