"""Linear, Bilinear, LazyLinear: PyTorch parity, gradchecks (incl. double backward), errors, init, repr."""

from __future__ import annotations

import math

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, F64, compare, copy_params
from lamina.errors import ShapeError
from lamina.testing import gradcheck, gradgradcheck


@pytest.mark.parametrize("shape", [(4, 5), (5,), (2, 3, 5), (0, 5)])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_linear_matches_torch(shape, bias, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    lm = nn.Linear(5, 3, bias=bias, dtype=getattr(lamina, dtype))
    tm = torch.nn.Linear(5, 3, bias=bias, dtype=getattr(torch, dtype))
    copy_params(lm, tm)
    assert repr(lm) == repr(tm)
    compare(tm, lm, [rng.standard_normal(shape).astype(dtype)], rng, tol=F32 if dtype == "float32" else F64,
            lmod=lm, tmod=tm)


@pytest.mark.parametrize("shape", [(4, 3), (2, 5, 3), (3,)])
def test_bilinear_matches_torch(shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    lm = nn.Bilinear(3, 4, 2, dtype=lamina.float64)
    tm = torch.nn.Bilinear(3, 4, 2, dtype=torch.float64)
    copy_params(lm, tm)
    assert repr(lm) == repr(tm)
    compare(tm, lm, [rng.standard_normal(shape), rng.standard_normal(shape[:-1] + (4,))], rng, lmod=lm, tmod=tm)


def test_lazy_linear_infers_in_features_and_matches_torch_after_init():
    torch = pytest.importorskip("torch")
    lamina.manual_seed(0)
    m = nn.LazyLinear(4)
    assert repr(m) == "LazyLinear(in_features=0, out_features=4, bias=True)"
    w_obj = m.weight
    y = m(lamina.randn(2, 7))
    assert tuple(y.shape) == (2, 4) and type(m) is nn.Linear and m.in_features == 7
    assert m.weight is w_obj and tuple(m.weight.shape) == (4, 7)       # same Parameter object, filled in place
    assert np.abs(m.weight.detach().numpy()).max() <= 1 / math.sqrt(7)
    assert repr(m) == repr(torch.nn.Linear(7, 4))


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck_and_double_backward(bias):
    rng = np.random.default_rng(2)
    x = lamina.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    w = lamina.tensor(rng.standard_normal((5, 4)), requires_grad=True)
    b = lamina.tensor(rng.standard_normal(5), requires_grad=True) if bias else None
    inputs = (x, w, b) if bias else (x, w)
    assert gradcheck(lambda *a: F.linear(*a), inputs)
    assert gradgradcheck(lambda *a: F.linear(*a), inputs)


def test_bilinear_gradcheck_and_double_backward():
    rng = np.random.default_rng(3)
    args = tuple(lamina.tensor(rng.standard_normal(s), requires_grad=True) for s in [(3, 2), (3, 4), (5, 2, 4), (5,)])
    assert gradcheck(F.bilinear, args)
    assert gradgradcheck(F.bilinear, args)


@pytest.mark.parametrize("call, etype, match", [
    (lambda: nn.Linear(4, 2)(lamina.randn(3, 5)), ShapeError,
     r"Linear: expected input with 4 features \(in_features\) in the last dim, got 5"),
    (lambda: F.linear(lamina.randn(3, 4), lamina.randn(2, 5)), ShapeError, r"linear: expected input with 5 features"),
    (lambda: F.linear(lamina.randn(3, 4), lamina.randn(2, 4), lamina.randn(3)), ShapeError,
     r"linear: expected bias of shape \(2,\)"),
    (lambda: nn.Linear(4, 2)(lamina.randn(3, 4, dtype=lamina.float64)), TypeError,
     "Linear: expected weight and bias of the input's dtype lamina.float64, got lamina.float32"),
    (lambda: nn.Bilinear(3, 4, 2)(lamina.randn(5, 3), lamina.randn(5, 3)), ShapeError,
     r"bilinear: expected input1 \(\*, 3\) and input2 \(\*, 4\)"),
    (lambda: nn.Bilinear(3, 4, 2)(lamina.randn(5, 3), lamina.randn(4, 4)), ShapeError,
     "bilinear: expected input1 and input2 with the same leading dims"),
])
def test_linear_errors(call, etype, match):
    with pytest.raises(etype, match=match):
        call()


@pytest.mark.parametrize("make, bound", [(lambda: nn.Linear(300, 200), 1 / math.sqrt(300)),
                                         (lambda: nn.Bilinear(50, 7, 30), 1 / math.sqrt(50))])
def test_linear_default_init_matches_torch_distribution(make, bound):
    lamina.manual_seed(0)
    m = make()
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound and abs(w.mean()) < 0.03 * bound
    assert list(m.state_dict()) == ["weight", "bias"]
    lamina.manual_seed(0)
    np.testing.assert_array_equal(make().weight.detach().numpy(), w)       # seeded construction reproducible


def test_linear_keeps_float32_and_no_grad_builds_no_graph():
    m = nn.Linear(4, 3)
    x = lamina.randn(2, 4)
    with lamina.no_grad():
        y = m(x)
    assert y.dtype == lamina.float32 and y.grad_fn is None
    y = m(x)
    y.sum().backward()
    assert m.weight.grad.dtype == lamina.float32 and m.bias.grad.dtype == lamina.float32
