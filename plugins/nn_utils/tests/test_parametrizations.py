"""lamina.nn.utils.parametrizations (weight_norm, spectral_norm, orthogonal) against torch's: same weights,
same u/v and base buffers, then values, gradients, state_dict keys, reprs and errors."""

from __future__ import annotations

import lamina
import lamina.nn.utils.parametrizations as LZ
import lamina.nn.utils.parametrize as LP
import numpy as np
import pytest
import torch
import torch.nn.utils.parametrizations as TZ
import torch.nn.utils.parametrize as TP
from lamina.testing import gradcheck


def _np(t):
    return np.asarray(t.detach().numpy())


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _pair(kind, args, seed=0):
    lm = getattr(lamina.nn, kind)(*args, dtype=lamina.float64)
    tm = getattr(torch.nn, kind)(*args, dtype=torch.float64)
    rng = np.random.default_rng(seed)
    for (_n, lp), (_, tp) in zip(lm.named_parameters(), tm.named_parameters(), strict=True):
        v = rng.standard_normal(tuple(tp.shape))
        with lamina.no_grad():
            lp.copy_(lamina.tensor(v))
        with torch.no_grad():
            tp.copy_(torch.tensor(v))
    return lm, tm


def _grads_equal(lm, tm, x, tol=1e-11):
    lo, to = lm(lamina.tensor(x)), tm(torch.tensor(x))
    _close(lo, to, tol)
    (lo.sin() * 3).sum().backward()
    (to.sin() * 3).sum().backward()
    lnames = [n for n, _ in lm.named_parameters()]
    assert lnames == [n for n, _ in tm.named_parameters()]
    for (_, lp), (_, tp) in zip(lm.named_parameters(), tm.named_parameters(), strict=True):
        _close(lp.grad, tp.grad, tol)


@pytest.mark.parametrize("dim", [0, 1, -1, None])
@pytest.mark.parametrize("kind,args,xshape", [("Linear", (3, 4), (2, 3)), ("Conv1d", (2, 3, 2), (1, 2, 5))])
def test_weight_norm(kind, args, xshape, dim):
    lm, tm = _pair(kind, args)
    LZ.weight_norm(lm, dim=dim)
    TZ.weight_norm(tm, dim=dim)
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert "parametrizations.weight.original0" in lm.state_dict()
    for k in tm.state_dict():
        _close(lm.state_dict()[k], tm.state_dict()[k])
    assert repr(lm) == repr(tm)
    _close(lm.weight, tm.weight)
    _grads_equal(lm, tm, np.random.default_rng(1).standard_normal(xshape))


def test_weight_norm_remove_and_legacy_checkpoint():
    lm, tm = _pair("Linear", (3, 4))
    LZ.weight_norm(lm)
    TZ.weight_norm(tm)
    with lamina.no_grad():
        lm.parametrizations.weight.original0.mul_(2.0)
    with torch.no_grad():
        tm.parametrizations.weight.original0.mul_(2.0)
    LP.remove_parametrizations(lm, "weight")
    TP.remove_parametrizations(tm, "weight")
    _close(lm.weight, tm.weight)
    # the legacy weight_g / weight_v keys load into original0 / original1
    lm2, tm2 = _pair("Linear", (3, 4), seed=3)
    LZ.weight_norm(lm2)
    TZ.weight_norm(tm2)
    g, v = np.random.default_rng(4).standard_normal((4, 1)), np.random.default_rng(5).standard_normal((4, 3))
    lm2.load_state_dict({"weight_g": lamina.tensor(g), "weight_v": lamina.tensor(v),
                         "bias": lamina.zeros(4, dtype=lamina.float64)})
    tm2.load_state_dict({"weight_g": torch.tensor(g), "weight_v": torch.tensor(v),
                         "bias": torch.zeros(4, dtype=torch.float64)})
    _close(lm2.weight, tm2.weight)


def _copy_uv(lm, tm, name="weight"):
    ls, ts = lm.parametrizations[name][0], tm.parametrizations[name][0]
    with lamina.no_grad():
        ls._u.copy_(lamina.tensor(ts._u.numpy()))
        ls._v.copy_(lamina.tensor(ts._v.numpy()))


@pytest.mark.parametrize("n_iter", [1, 3])
@pytest.mark.parametrize("kind,args,xshape", [("Linear", (3, 4), (2, 3)), ("Conv2d", (2, 3, 2), (1, 2, 4, 4)),
                                              ("ConvTranspose2d", (2, 3, 2), (1, 2, 3, 3))])
def test_spectral_norm(kind, args, xshape, n_iter):
    lm, tm = _pair(kind, args)
    LZ.spectral_norm(lm, n_power_iterations=n_iter)
    TZ.spectral_norm(tm, n_power_iterations=n_iter)
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert repr(lm) == repr(tm)
    _copy_uv(lm, tm)
    u_before = lm.parametrizations.weight[0]._u
    _grads_equal(lm, tm, np.random.default_rng(2).standard_normal(xshape), tol=1e-10)
    assert lm.parametrizations.weight[0]._u is u_before  # updated in place
    _close(lm.parametrizations.weight[0]._u, tm.parametrizations.weight[0]._u, 1e-10)
    _close(lm.parametrizations.weight[0]._v, tm.parametrizations.weight[0]._v, 1e-10)
    lm.eval()
    tm.eval()
    _close(lm.weight, tm.weight, 1e-10)
    _close(lm.weight, tm.weight, 1e-10)  # no power iteration in eval: still equal


def test_spectral_norm_vector_and_errors():
    lb, tb = lamina.nn.Linear(3, 4, dtype=lamina.float64), torch.nn.Linear(3, 4, dtype=torch.float64)
    with lamina.no_grad():
        lb.bias.copy_(lamina.tensor(np.arange(4.0)))
    with torch.no_grad():
        tb.bias.copy_(torch.tensor(np.arange(4.0)))
    LZ.spectral_norm(lb, "bias")
    TZ.spectral_norm(tb, "bias")
    _close(lb.bias, tb.bias)
    assert list(lb.state_dict()) == list(tb.state_dict())
    for Z, lib in ((LZ, lamina), (TZ, torch)):
        with pytest.raises(ValueError, match="has no parameter or buffer with name 'nope'"):
            Z.spectral_norm(lib.nn.Linear(2, 2), "nope")
        with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-2, 1\]"):
            Z.spectral_norm(lib.nn.Linear(2, 2), dim=2)
        with pytest.raises(ValueError, match="Expected n_power_iterations to be positive"):
            Z.spectral_norm(lib.nn.Linear(2, 2), n_power_iterations=0)


@pytest.mark.parametrize("triv", [True, False])
@pytest.mark.parametrize("omap", ["matrix_exp", "cayley", "householder", None])
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
def test_orthogonal(shape, omap, triv):
    w = np.random.default_rng(7).standard_normal(shape)
    lm, tm = lamina.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    lm.weight = lamina.nn.Parameter(lamina.tensor(w))
    tm.weight = torch.nn.Parameter(torch.tensor(w))
    LZ.orthogonal(lm, orthogonal_map=omap, use_trivialization=triv)
    TZ.orthogonal(tm, orthogonal_map=omap, use_trivialization=triv)
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert repr(lm) == repr(tm)
    if triv:  # the base completes Q with random columns when Q is not square: use torch's
        lm.parametrizations.weight[0].base = lamina.tensor(tm.parametrizations.weight[0].base.numpy())
    _close(lm.weight, tm.weight, 1e-10)
    lw, tw = lm.weight, tm.weight
    (lw ** 3).sum().backward()
    (tw ** 3).sum().backward()
    _close(lm.parametrizations.weight.original.grad, tm.parametrizations.weight.original.grad, 1e-10)
    q = _np(lw)
    qq = q.swapaxes(-1, -2) @ q if q.shape[-2] >= q.shape[-1] else q @ q.swapaxes(-1, -2)
    np.testing.assert_allclose(qq, np.broadcast_to(np.eye(qq.shape[-1]), qq.shape), atol=1e-12)


def test_orthogonal_assign_and_errors():
    lm, tm = lamina.nn.Linear(4, 4, dtype=lamina.float64), torch.nn.Linear(4, 4, dtype=torch.float64)
    LZ.orthogonal(lm)
    TZ.orthogonal(tm)
    q = np.linalg.qr(np.random.default_rng(8).standard_normal((4, 4)))[0]
    lm.weight = lamina.tensor(q)
    tm.weight = torch.tensor(q)
    _close(lm.weight, tm.weight, 1e-12)
    _close(lm.weight, torch.tensor(q), 1e-12)
    for Z, lib in ((LZ, lamina), (TZ, torch)):
        with pytest.raises(ValueError, match="Expected a matrix or batch of matrices. Got a tensor of 1 dim"):
            Z.orthogonal(lib.nn.Linear(2, 2), "bias")
        with pytest.raises(ValueError, match='orthogonal_map has to be one of "matrix_exp"'):
            Z.orthogonal(lib.nn.Linear(2, 2), orthogonal_map="qr")
        with pytest.raises(ValueError, match="has no parameter or buffer with name 'w'"):
            Z.orthogonal(lib.nn.Linear(2, 2), "w")
        m = Z.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="cayley", use_trivialization=False)
        with pytest.raises(NotImplementedError, match="not possible to assign to the matrix exponential"):
            m.weight = lib.eye(3)


def test_weight_norm_gradcheck_float64():
    lm = lamina.nn.Linear(3, 2, dtype=lamina.float64)
    LZ.weight_norm(lm)
    p = lm.parametrizations.weight
    g = p.original0.detach().clone().requires_grad_(True)
    v = p.original1.detach().clone().requires_grad_(True)
    gradcheck(lambda a, b: p[0](a, b), (g, v))
