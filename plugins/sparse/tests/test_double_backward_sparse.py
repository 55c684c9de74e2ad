"""Second derivatives through the sparse-dense products and the sparse softmaxes (their backward formulas record
a graph under create_graph=True), against torch float64 and by gradgradcheck.

torch's oracle is a dense rebuild of the same matrix (index_put with accumulate) and of the same softmax
(masked dense softmax): torch's own sparse backward formulas give a first gradient without a graph for
softmax/log_softmax and raise for hspmm/hsmm/smm/sspaddmm/saddmm, so the dense forms are what it can
differentiate twice. The quantity compared is d/dx <d/dx <f(x), W>, U>, a Hessian-vector product.
"""

from __future__ import annotations

import warnings

import lamina
import lamina_sparse as ls
import numpy as np
import pytest
from lamina.testing import gradgradcheck

torch = pytest.importorskip("torch")

N, K, P = 4, 4, 3
IDX = np.array([[0, 1, 1, 2, 3, 3], [1, 0, 2, 3, 0, 2]])    # coalesced, no duplicates


def _coo(v):
    return ls.sparse_coo_tensor(lamina.as_tensor(IDX), v, (N, K))


def _torch_dense(v):
    z = torch.zeros(N, K, dtype=v.dtype)
    return z.index_put((torch.from_numpy(IDX[0]), torch.from_numpy(IDX[1])), v, accumulate=True)


def _dense_out(y):
    return y.to_dense() if y.is_sparse else y


def _hvp(mod, fn, arrays, w, u):
    """The gradient of <grad <fn(xs), w>, u> with respect to xs, in module ``mod`` (lamina or torch)."""
    xs = [mod.tensor(a, requires_grad=True) for a in arrays]
    y = _dense_out(fn(*xs))
    gs = mod.autograd.grad((y * mod.tensor(w)).sum(), xs, create_graph=True)
    s = sum((g * mod.tensor(ui)).sum() for g, ui in zip(gs, u))
    return [None if g is None else g.detach().numpy() for g in mod.autograd.grad(s, xs, allow_unused=True)]


def _compare(lam_fn, torch_fn, arrays, out_shape):
    rng = np.random.default_rng(7)
    w = rng.standard_normal(out_shape)
    u = [rng.standard_normal(a.shape) for a in arrays]
    got = _hvp(lamina, lam_fn, arrays, w, u)
    exp = _hvp(torch, torch_fn, arrays, w, u)
    for i, (g, e) in enumerate(zip(got, exp)):
        if e is None or not np.any(e):
            assert g is None or np.allclose(g, 0.0), f"input {i}: lamina has a second derivative torch has not"
        else:
            np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12, err_msg=f"input {i}")
    xs = [lamina.tensor(a, requires_grad=True) for a in arrays]
    assert gradgradcheck(lambda *t: _dense_out(lam_fn(*t)), xs)


_rng = np.random.default_rng(0)
V = _rng.standard_normal(6)
D = _rng.standard_normal((K, P))
M = _rng.standard_normal((N, P))
IDX_IN = np.array([[0, 2, 3], [1, 0, 1]])
V_IN = _rng.standard_normal(3)

PRODUCTS = ["spmm", "dsmm", "hspmm", "hsmm", "smm", "mm", "matmul"]


@pytest.mark.parametrize("name", PRODUCTS)
def test_sparse_dense_product(name):
    _compare(lambda v, d: getattr(lamina, name)(_coo(v), d), lambda v, d: _torch_dense(v) @ d, [V, D], (N, P))


def test_sparse_mm_and_addmm():
    _compare(lambda v, d: lamina.sparse.mm(_coo(v), d), lambda v, d: _torch_dense(v) @ d, [V, D], (N, P))
    _compare(lambda v, m, d: lamina.sparse.addmm(m, _coo(v), d), lambda v, m, d: m + _torch_dense(v) @ d,
             [V, M, D], (N, P))


@pytest.mark.parametrize("name", ["sspaddmm", "saddmm"])
def test_sspaddmm(name):
    def lam(v0, v, d):
        s0 = ls.sparse_coo_tensor(lamina.as_tensor(IDX_IN), v0, (N, P))
        return getattr(lamina, name)(s0, _coo(v), d, beta=0.5, alpha=2.0)

    def ref(v0, v, d):
        z = torch.zeros(N, P, dtype=v0.dtype)
        s0 = z.index_put((torch.from_numpy(IDX_IN[0]), torch.from_numpy(IDX_IN[1])), v0, accumulate=True)
        return 0.5 * s0 + 2.0 * (_torch_dense(v) @ d)

    _compare(lam, ref, [V_IN, V, D], (N, P))


def test_dense_grad_sink():
    """A leaf sparse matrix whose gradient torch makes dense (torch.mm): after backward(create_graph=True) its
    .grad keeps a graph, and differentiating it reaches the dense factor."""
    rng = np.random.default_rng(3)
    w, u = rng.standard_normal((N, P)), rng.standard_normal((N, K))
    got = []
    for mod, s in ((lamina, ls.sparse_coo_tensor(lamina.as_tensor(IDX), lamina.tensor(V), (N, K), requires_grad=True)),
                   (torch, torch.sparse_coo_tensor(torch.from_numpy(IDX), torch.tensor(V), (N, K),
                                                   requires_grad=True))):
        d = mod.tensor(D, requires_grad=True)
        with warnings.catch_warnings():       # torch warns that backward(create_graph=True) makes a reference cycle
            warnings.simplefilter("ignore", UserWarning)
            (mod.mm(s, d) * mod.tensor(w)).sum().backward(create_graph=True)
        assert s.grad.layout == mod.strided and s.grad.requires_grad
        d.grad = None
        (s.grad * mod.tensor(u)).sum().backward()
        got.append(d.grad.detach().numpy())
    np.testing.assert_allclose(got[0], got[1], rtol=1e-10, atol=1e-12)


def _torch_masked_softmax(v, dim, log):
    mask = torch.zeros(N, K, dtype=torch.bool)
    mask[tuple(torch.from_numpy(IDX))] = True
    z = torch.where(mask, _torch_dense(v), torch.tensor(-torch.inf, dtype=v.dtype))
    out = torch.log_softmax(z, dim) if log else torch.softmax(z, dim)
    return out[tuple(torch.from_numpy(IDX))]


@pytest.mark.parametrize("log, dim", [(False, 1), (True, 0)])
def test_sparse_softmax(log, dim):
    name = "log_softmax" if log else "softmax"
    _compare(lambda v: getattr(lamina.sparse, name)(_coo(v), dim).coalesce().values(),
             lambda v: _torch_masked_softmax(v, dim, log), [V], (6,))
