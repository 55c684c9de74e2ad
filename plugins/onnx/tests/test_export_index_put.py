"""Index assignment in forward (``y[key] = v``, the core's IndexPut op): exported as Where (a bool
mask) or ScatterElements (other keys), run in onnxruntime on a batch size other than the traced one."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _onnx_check import Lambda, export_bytes, op_types, roundtrip
from lamina import nn
from lamina.onnx import UnsupportedOperatorError
from lamina.ops.indexing import IndexPut


def ints_and_slices(x, w):
    y = x.clone()
    y[:, 0] = 0.0
    y[..., 1:3] = w[:2]
    y[0, -1, ::2] = -w[1:3]
    y[-1] = y[-1] + 1.0
    return y


def index_tensor(x, w):
    y = x * 2
    y[:, lamina.tensor([2, 0])] = w
    y[:, :, lamina.tensor([[1], [3]])] = 5.0
    return y


def bool_masks(x, w):
    y = x.clone()
    y[y < -0.5] = 0.0                 # a mask of y's shape
    y[y > 1.5] = lamina.ones(1) * 2   # a value of one element broadcast to every True
    y[x.sum(-1) > 0] = w              # a mask of the leading dims; w fills each selected row
    return y


def into_a_constant(x, w):
    y = lamina.zeros(3, 4)
    y[1] = x.sum(0)[0]
    return x + y


CASES = {"ints_and_slices": ints_and_slices, "index_tensor": index_tensor, "bool_masks": bool_masks,
         "into_a_constant": into_a_constant}


@pytest.mark.parametrize("name", list(CASES))
def test_index_assignment_matches_lamina_for_another_batch_size(name):
    lamina.manual_seed(0)
    proto = roundtrip(Lambda(CASES[name]), lamina.randn(2, 3, 4), run_args=lamina.randn(5, 3, 4),
                      input_names=["x"], dynamic_axes={"x": {0: "batch"}})
    assert ("Where" if name == "bool_masks" else "ScatterElements") in op_types(proto)


def test_accumulate_adds_at_repeated_positions():
    class Accumulate(nn.Module):
        def forward(self, x):
            return IndexPut.apply(x * 1.0, (slice(None), np.array([0, 2, 0])), lamina.ones(3), True)

    x = lamina.randn(2, 4)
    roundtrip(Accumulate(), x, run_args=lamina.randn(6, 4), input_names=["x"], dynamic_axes={"x": [0]})


def test_a_value_per_true_of_the_mask_is_refused():
    def per_true(x, w):
        y = x.clone()
        mask = y > 0
        y[mask] = lamina.zeros(int(mask.sum().item()))  # one value per True: its size depends on the values
        return y

    lamina.manual_seed(0)
    with pytest.raises(UnsupportedOperatorError, match=r"op 'IndexPut'.*x\[mask\] = v with v holding one row per True"):
        export_bytes(Lambda(per_true), lamina.randn(2, 3, 4))
