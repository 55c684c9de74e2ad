"""lamina.autograd.functional against torch.autograd.functional: same inputs, values, shapes and nesting."""

from __future__ import annotations

import lamina
import lamina.autograd.functional as LF
import numpy as np
import pytest
import torch
import torch.autograd.functional as TF


def _pair(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s) for s in shapes]
    return [lamina.tensor(a) for a in arrays], [torch.tensor(a) for a in arrays]


def _same(a, b):
    if isinstance(b, tuple):
        assert isinstance(a, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10, atol=1e-12)


def f_single(m, x):
    return m.tanh() * x.sum() + x.exp()


FUNCS = {
    "one": (lambda x: (x ** 3).sin(), ((3, 2),)),
    "two_in": (lambda x, y: x @ y + x.sum(), ((2, 3), (3, 4))),
    "two_out": (lambda x, y: (x * y, (x + y).exp().sum()), ((3,), (3,))),
}


@pytest.mark.parametrize(("name", "as_tuple"), [(n, t) for n in sorted(FUNCS) for t in (True, False)
                                                 if t or len(FUNCS[n][1]) == 1])
def test_jacobian(name, as_tuple):
    f, shapes = FUNCS[name]
    ls, ts = _pair(*shapes)
    li, ti = (tuple(ls), tuple(ts)) if as_tuple else (ls[0], ts[0])
    _same(LF.jacobian(f, li), TF.jacobian(f, ti))


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_vjp_and_jvp(name):
    f, shapes = FUNCS[name]
    ls, ts = _pair(*shapes)
    tout = f(*ts)
    touts = tout if isinstance(tout, tuple) else (tout,)
    rng = np.random.default_rng(1)
    vo = [rng.standard_normal(tuple(o.shape)) for o in touts]
    vi = [rng.standard_normal(s) for s in shapes]
    tv = tuple(torch.tensor(v) for v in vo)
    lv = tuple(lamina.tensor(v) for v in vo)
    if not isinstance(tout, tuple):
        tv, lv = tv[0], lv[0]
    _same(LF.vjp(f, tuple(ls), lv), TF.vjp(f, tuple(ts), tv))
    _same(LF.jvp(f, tuple(ls), tuple(lamina.tensor(v) for v in vi)),
          TF.jvp(f, tuple(ts), tuple(torch.tensor(v) for v in vi)))


def scalar_f(x, y):
    return (x.sin() * y.unsqueeze(1)).pow(2).sum() + (x ** 3).sum()


def test_hessian_vhp_hvp():
    ls, ts = _pair((2, 3), (2,))
    _same(LF.hessian(scalar_f, tuple(ls)), TF.hessian(scalar_f, tuple(ts)))
    _same(LF.hessian(lambda x: (x ** 4).sum(), ls[0]), TF.hessian(lambda x: (x ** 4).sum(), ts[0]))
    lv, tv = _pair((2, 3), (2,), seed=5)
    _same(LF.vhp(scalar_f, tuple(ls), tuple(lv)), TF.vhp(scalar_f, tuple(ts), tuple(tv)))
    _same(LF.hvp(scalar_f, tuple(ls), tuple(lv)), TF.hvp(scalar_f, tuple(ts), tuple(tv)))


def test_create_graph_gives_differentiable_results():
    (lx,), (tx,) = _pair((3,))
    lx.requires_grad_(True)
    tx.requires_grad_(True)
    lj = LF.jacobian(lambda x: x ** 3, lx, create_graph=True)
    tj = TF.jacobian(lambda x: x ** 3, tx, create_graph=True)
    lj.sum().backward()
    tj.sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_independent_outputs_zero_or_strict_error():
    (lx, ly), (tx, ty) = _pair((2,), (2,))
    _same(LF.jacobian(lambda x, y: x * 2, (lx, ly)), TF.jacobian(lambda x, y: x * 2, (tx, ty)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        LF.vjp(lambda x, y: (x * 2).sum(), (lx, ly), strict=True)
    with pytest.raises(RuntimeError, match="independent of input 1"):
        TF.vjp(lambda x, y: (x * 2).sum(), (tx, ty), strict=True)


def test_errors():
    (lx,), _ = _pair((3,))
    with pytest.raises(RuntimeError, match="v can only be None"):
        LF.vjp(lambda x: x * 2, lx)
    with pytest.raises(TypeError, match="must be either a Tensor or a tuple of Tensors"):
        LF.jacobian(lambda x: x, (lx, 3))
    with pytest.raises(RuntimeError, match="single Tensor with a single element"):
        LF.hessian(lambda x: x * 2, lx)
    with pytest.raises(NotImplementedError, match="vectorize=True"):
        LF.jacobian(lambda x: x, lx, vectorize=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        LF.vjp(lambda x: x * 2, lx, lamina.ones(4, dtype=lamina.float64))


def test_served_as_torch_autograd_functional():
    assert lamina.autograd.functional.jacobian is LF.jacobian
