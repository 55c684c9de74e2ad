"""split / chunk as one autograd node (``ops.combine.Split``): views of the input, gradients of the used
pieces written into one array (zeros for the unused ones), double backward, and the slice path that
tracers and exporters see."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.autograd.function import observe_ops
from lamina.testing import gradcheck, gradgradcheck


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("use", [(0, 1, 2), (1,), (0, 2)], ids=str)
def test_split_grads_match_torch_when_some_pieces_are_unused(dtype, use):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 12)).astype(dtype)
    w = rng.standard_normal((3, 4, 4)).astype(dtype)
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lp, tp = lx.split(4, dim=2), tx.split(4, dim=2)
    sum(((lp[i] * lamina.tensor(w)) ** 2).sum() for i in use).backward()
    sum(((tp[i] * torch.tensor(w)) ** 2).sum() for i in use).backward()
    tol = 1e-6 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=tol, atol=tol)
    assert lx.grad.dtype == lx.dtype and lx.grad.is_contiguous()
    for a, b in zip(lp, tp):
        assert a.shape == b.shape and a.stride() == b.stride()


def test_split_pieces_are_views_sharing_the_version_counter():
    x = lamina.tensor(np.arange(12.0).reshape(3, 4), dtype=lamina.float32)
    a, b = x.split([1, 3], dim=1)
    assert a._base is x and b._base is x
    assert x.reshape(12).split(6)[1]._base is x               # a view of a view: the root, as torch's _base
    v = x._version
    b.add_(1)
    assert x._version > v and float(x[0, 1]) == 2.0          # the write went to x's storage
    y = x.detach().requires_grad_(True)
    p, q = y.chunk(2, dim=0)
    assert p.grad_fn is q.grad_fn                              # one node for all the pieces


def test_split_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(1)
    x = lamina.tensor(rng.standard_normal((2, 7)), dtype=lamina.float64, requires_grad=True)

    def f(x):
        a, b, c = x.split([2, 4, 1], dim=1)
        return (a.sum(1) * b.prod(1)).exp(), c ** 3

    assert gradcheck(f, (x,))
    assert gradgradcheck(f, (x,))


def test_split_under_an_observer_records_the_slices():
    x = lamina.randn(2, 6, requires_grad=True)
    seen = []
    with observe_ops(lambda cls, args, kwargs, out: seen.append(getattr(cls, "__name__", str(cls)))):
        a, b = x.split(3, dim=1)
    assert seen == ["GetItem", "GetItem"] and a.grad_fn is not b.grad_fn
    (a * 2 + b).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.array([[2, 2, 2, 1, 1, 1]] * 2, np.float32))
