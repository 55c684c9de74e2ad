"""F.grouped_mm (torch 2.13 prototype) against PyTorch's CPU kernel: the four operand layouts, empty groups,
gradients (vs torch's composed reference: its CPU backward is not usable), float64 gradcheck of the shared body,
and torch's errors."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import gradcheck, gradgradcheck
from lamina_layers_basic.grouped_mm import _grouped

torch = pytest.importorskip("torch")

# shapes keep PyTorch's kernel alignment (16-byte strides): multiples of 4 float32s
CASES = [((8, 8), (3, 8, 4), [2, 5, 8]), ((3, 8, 8), (3, 8, 4), None), ((4, 8), (8, 4), [4, 8]),
         ((2, 4, 8), (8, 8), [4, 8]), ((8, 8), (3, 8, 4), [2, 2, 8]), ((12, 4), (2, 4, 8), [0, 12])]


def _offs(mod, o):
    return None if o is None else mod.tensor(np.array(o, dtype=np.int32))


@pytest.mark.parametrize("sa, sb, offs", CASES)
def test_values_match_torch(sa, sb, offs):
    rng = np.random.default_rng(len(sa) * 3 + len(sb))
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    ty = torch.nn.functional.grouped_mm(torch.tensor(a), torch.tensor(b), offs=_offs(torch, offs))
    ly = F.grouped_mm(lamina.tensor(a), lamina.tensor(b), offs=_offs(lamina, offs))
    assert tuple(ly.shape) == tuple(ty.shape) and ly.dtype is lamina.float32
    np.testing.assert_allclose(ly.numpy(), ty.numpy(), rtol=1e-5, atol=1e-5)


def test_rows_past_the_last_offset_are_zero():
    a, b = lamina.randn(8, 8), lamina.randn(3, 8, 4)
    y = F.grouped_mm(a, b, offs=_offs(lamina, [2, 5, 6]))
    np.testing.assert_array_equal(y[6:].numpy(), np.zeros((2, 4), dtype=np.float32))


@pytest.mark.parametrize("sa, sb, offs", CASES[:4])
def test_gradients_match_torch_reference(sa, sb, offs):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    la, lb = lamina.tensor(a, requires_grad=True), lamina.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ly = F.grouped_mm(la, lb, offs=_offs(lamina, offs))
    ends, starts = offs, [0] + (offs or [])[:-1]
    if offs is None:
        ty = ta @ tb
    elif len(sa) == 2 and len(sb) == 3:
        ty = torch.cat([ta[s:e] @ tb[i] for i, (s, e) in enumerate(zip(starts, ends))])
    elif len(sa) == 2:
        ty = torch.stack([ta[:, s:e] @ tb[s:e] for s, e in zip(starts, ends)])
    else:
        ty = torch.cat([ta[i] @ tb[:, s:e] for i, (s, e) in enumerate(zip(starts, ends))], 1)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    ly.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(lb.grad.numpy(), tb.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("sa, sb, offs", CASES)
def test_float64_body_gradcheck(sa, sb, offs):
    rng = np.random.default_rng(7)
    a = lamina.tensor(rng.standard_normal(sa), requires_grad=True)
    b = lamina.tensor(rng.standard_normal(sb), requires_grad=True)
    fn = lambda x, y: _grouped(x, y, offs)  # noqa: E731
    assert gradcheck(fn, (a, b)) and gradgradcheck(fn, (a, b))


@pytest.mark.parametrize("make, match", [
    (lambda m, d: (m.zeros(8, 8), m.zeros(3, 8, 4), {}), "Have to provide offsets if there is a 2d matrix"),
    (lambda m, d: (m.zeros(3, 8, 8), m.zeros(3, 8, 4), {"offs": m.tensor(np.array([1, 2, 3], np.int32))}),
     "Have to provide offsets"),
    (lambda m, d: (m.zeros(8, 8), m.zeros(3, 4, 4), {"offs": m.tensor(np.array([2, 5, 8], np.int32))}),
     "contraction dimension of mat_a and mat_b must match"),
    (lambda m, d: (m.zeros(8, 8), m.zeros(3, 8, 4), {"offs": m.tensor(np.array([2, 5, 8]))}),
     "Offsets have to be int32"),
    (lambda m, d: (m.zeros(8), m.zeros(3, 8, 4), {}), "mat_a has to be 2 or 3d"),
    (lambda m, d: (m.zeros(8, 8, dtype=d), m.zeros(3, 8, 4, dtype=d),
                   {"offs": m.tensor(np.array([2, 5, 8], np.int32))}),
     "Expected mat_a to be Float32, BFloat16 or Float16 matrix, got Double"),
    (lambda m, d: (m.zeros(8, 8), m.zeros(3, 8, 4), {"offs": m.tensor(np.array([2, 5, 8], np.int32)),
                                                     "out_dtype": d}),
     "Grouped gemm output dtype must match `mat_a` dtype"),
    (lambda m, d: (m.zeros(8, 8), m.zeros(3, 8, 4), {"offs": m.tensor(np.array([2, 5, 8], np.int32)),
                                                     "bias": m.zeros(4)}), "Bias not supported yet"),
])
def test_errors_as_torch(make, match):
    a, b, kw = make(torch, torch.float64)
    with pytest.raises(RuntimeError, match=match):
        torch.nn.functional.grouped_mm(a, b, **kw)
    a, b, kw = make(lamina, lamina.float64)
    with pytest.raises(RuntimeError, match=match):
        F.grouped_mm(a, b, **kw)
