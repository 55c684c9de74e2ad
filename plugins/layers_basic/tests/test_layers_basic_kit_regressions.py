"""Regressions found by the conformance kit: empty batches, double backward of adaptive average
pooling, LazyLinear state_dict loading (PyTorch's lazy semantics) and dtype conversion before the first call."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F64, compare
from lamina.testing import gradcheck, gradgradcheck

EMPTY = [
    # (lamina call, torch call name, input shapes; an int64 second input is max-pool indices)
    ("adaptive_max_pool1d", dict(output_size=4), [(0, 3, 7)]),
    ("adaptive_max_pool2d", dict(output_size=(4, 3)), [(0, 3, 7, 6)]),
    ("adaptive_avg_pool2d", dict(output_size=3), [(0, 3, 7, 6)]),
    ("max_unpool2d", dict(kernel_size=2), [(0, 3, 2, 3), "indices"]),
    ("softmin", dict(dim=0), [(0, 4, 5)]),
    ("softmax", dict(dim=1), [(3, 0, 5)]),
    ("log_softmax", dict(dim=0), [(0, 4)]),
    ("log_softmax", dict(dim=1), [(2, 0)]),
]


@pytest.mark.parametrize("name, kw, shapes", EMPTY, ids=[f"{e[0]}-{e[1]}" for e in EMPTY])
def test_empty_inputs_match_torch(name, kw, shapes):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shapes[0])
    inputs = [x] + ([np.zeros(shapes[0], dtype=np.int64)] if "indices" in shapes else [])
    compare(lambda *a: getattr(torch.nn.functional, name)(*a, **kw), lambda *a: getattr(F, name)(*a, **kw),
            inputs, rng, grad_idx=[0])


@pytest.mark.parametrize("n, shape, out", [(1, (2, 3, 7), 3), (2, (2, 2, 7, 6), (3, 4)),
                                           (3, (1, 2, 5, 4, 3), (3, 4, 2))])
def test_adaptive_avg_pool_double_backward(n, shape, out):
    rng = np.random.default_rng(n)
    x = lamina.tensor(rng.standard_normal(shape), requires_grad=True)
    m = getattr(nn, f"AdaptiveAvgPool{n}d")(out)
    assert gradcheck(m, (x,))
    assert gradgradcheck(m, (x,))
    y = m(x)
    y.backward(lamina.tensor(rng.standard_normal(tuple(y.shape))))
    assert x.grad.array.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("bias", [True, False])
def test_lazy_linear_loads_a_state_dict_before_its_first_call(bias):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    src = nn.Linear(5, 3, bias=bias, dtype=lamina.float64)
    lazy = nn.LazyLinear(3, bias=bias, dtype=lamina.float64)
    weight = lazy.weight
    lazy.load_state_dict(src.state_dict())
    assert lazy.weight is weight  # the same Parameter object (an optimizer built earlier keeps it)
    # as PyTorch: the tensors are materialized now, the class changes at the next forward
    assert type(lazy) is nn.LazyLinear and not lazy.has_uninitialized_params() and lazy.in_features == 5
    t = torch.nn.Linear(5, 3, bias=bias, dtype=torch.float64)
    with torch.no_grad():
        for k, v in src.state_dict().items():
            getattr(t, k).copy_(torch.from_numpy(v.numpy()))
    compare(t, lazy, [rng.standard_normal((4, 5))], rng, tol=F64, lmod=lazy, tmod=t)


def test_lazy_linear_loading_into_it_follows_torch():
    torch = pytest.importorskip("torch")
    # uninitialized into uninitialized: nothing to copy, still lazy
    lazy = nn.LazyLinear(3)
    assert str(lazy.load_state_dict(nn.LazyLinear(3).state_dict())) == "<All keys matched successfully>"
    assert lazy.has_uninitialized_params() and lazy.in_features == 0
    # uninitialized into an initialized Linear: PyTorch's RuntimeError
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        torch.nn.Linear(2, 3).load_state_dict(torch.nn.LazyLinear(3).state_dict())
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        nn.Linear(2, 3).load_state_dict(nn.LazyLinear(3).state_dict())
    assert type(lazy.state_dict()["weight"]).__name__ == type(torch.nn.LazyLinear(3).state_dict()["weight"]).__name__


@pytest.mark.parametrize("convert, dtype", [(lambda m: m.double(), lamina.float64),
                                            (lambda m: m.to(lamina.float64), lamina.float64),
                                            (lambda m: m, lamina.float32)])
def test_lazy_linear_keeps_a_dtype_set_before_its_first_call(convert, dtype):
    m = convert(nn.LazyLinear(3))
    y = m(lamina.randn(2, 5, dtype=dtype))
    assert y.dtype == dtype and m.weight.dtype == dtype and m.bias.dtype == dtype
