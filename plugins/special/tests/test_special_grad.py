"""Gradients of lamina.special against torch (same inputs, same upstream gradient), float64 central
differences (gradcheck) and second derivatives (gradgradcheck), torch's derivatives at the edges, and the
derivatives torch does not implement (zeta's x, the incomplete gammas' a)."""

from __future__ import annotations

import lamina
import lamina.special as S
import numpy as np
import pytest
from _special_cases import BINARY, TOL, UNARY, assert_same, lam, sample, tor
from lamina.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
WITH_GRAD = sorted(n for n, v in UNARY.items() if v[2])


def _grads_both(lf, tf, arrays, dy, wrt):
    li = [lam(a, requires_grad=k in wrt) for k, a in enumerate(arrays)]
    ti = [tor(a, requires_grad=k in wrt) for k, a in enumerate(arrays)]
    ly, ty = lf(*li), tf(*ti)
    lg = lamina.autograd.grad(ly, [li[k] for k in wrt], lam(dy))
    tg = torch.autograd.grad(ty, [ti[k] for k in wrt], tor(dy))
    return lg, tg


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", WITH_GRAD)
def test_unary_grad_matches_torch(name, dtype):
    lo, hi, _ = UNARY[name]
    rng = np.random.default_rng(7)
    x, dy = sample(rng, lo, hi, (3, 4), dtype), rng.standard_normal((3, 4)).astype(dtype)
    (lg,), (tg,) = _grads_both(getattr(S, name), getattr(torch.special, name), [x], dy, [0])
    assert_same(lg, tg, dict(TOL[dtype], rtol=1e-5) if dtype == "float32" else TOL[dtype], name)


@pytest.mark.parametrize("name", WITH_GRAD)
def test_unary_gradcheck_and_gradgradcheck(name):
    lo, hi, _ = UNARY[name]
    x = lam(sample(np.random.default_rng(8), lo, hi, (2, 3), np.float64), requires_grad=True)
    assert gradcheck(getattr(S, name), (x,))
    if name != "round":
        assert gradgradcheck(getattr(S, name), (x,))


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e", "sinc", "entr", "erfcx", "log_ndtr", "ndtri", "gammaln",
                                  "digamma", "erfinv", "logit"])
def test_unary_grad_at_edges(name):
    x = np.array([0.0, -0.0, 1e-3, -2.0, 3.0, -1.0, 1.0, np.inf, np.nan])
    (lg,), (tg,) = _grads_both(getattr(S, name), getattr(torch.special, name), [x], np.ones_like(x), [0])
    assert_same(lg, tg, dict(rtol=1e-6, atol=1e-7), name)


@pytest.mark.parametrize("name", ["i0", "i0e", "i1", "i1e", "sinc", "erfinv", "digamma", "gammaln", "ndtri"])
def test_second_derivative_matches_torch(name):
    lo, hi, _ = UNARY[name]
    x = np.concatenate([sample(np.random.default_rng(9), lo, hi, 5, np.float64), [0.0] if lo < 0 else []])
    lx, tx = lam(x, requires_grad=True), tor(x, requires_grad=True)
    (lg,) = lamina.autograd.grad(getattr(S, name)(lx).sum(), [lx], create_graph=True)
    (tg,) = torch.autograd.grad(getattr(torch.special, name)(tx).sum(), [tx], create_graph=True)
    with np.errstate(all="ignore"):  # sinc at 0: the core's Div backward meets torch's 0/0 (NaN, as torch)
        (lgg,) = lamina.autograd.grad(lg.sum(), [lx])
    (tgg,) = torch.autograd.grad(tg.sum(), [tx])
    assert_same(lgg, tgg, dict(rtol=1e-6, atol=1e-7), name)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grads(name):
    (alo, ahi), (blo, bhi), ga, gb = BINARY[name]
    rng = np.random.default_rng(10)
    a, b = sample(rng, alo, ahi, (3, 1), np.float64), sample(rng, blo, bhi, (4,), np.float64)
    dy = rng.standard_normal((3, 4))
    wrt = [k for k, g in enumerate((ga, gb)) if g]
    lg, tg = _grads_both(getattr(S, name), getattr(torch.special, name), [a, b], dy, wrt)
    for i, (l, t) in enumerate(zip(lg, tg)):
        assert_same(l, t, dict(rtol=1e-6, atol=1e-7), f"{name} grad {i}")
    la, lb = lam(a, requires_grad=0 in wrt), lam(b, requires_grad=1 in wrt)
    f = getattr(S, name)
    assert gradcheck(f, (la, lb))
    assert gradgradcheck(f, (la, lb))


@pytest.mark.parametrize("name, message", [("zeta", "the derivative for 'zeta' is not implemented"),
                                           ("gammainc", "the derivative for 'igamma: input' is not implemented"),
                                           ("gammaincc", "the derivative for 'igammac: input' is not implemented")])
def test_derivatives_torch_does_not_implement(name, message):
    a, b = lam([2.0, 3.0], requires_grad=True), lam([1.0, 2.0])
    y = getattr(S, name)(a, b)
    assert y.requires_grad
    with pytest.raises(NotImplementedError, match=message):
        y.sum().backward()
    with pytest.raises(NotImplementedError, match=message):
        getattr(torch.special, name)(tor([2.0, 3.0], requires_grad=True), tor([1.0, 2.0])).sum().backward()


def test_xlogy_xlog1py_grads_at_zero():
    x, y = np.array([0.0, 0.0, 1.0, 2.0]), np.array([0.0, -1.0, -1.0, 0.0])
    for name in ("xlogy", "xlog1py"):
        lg, tg = _grads_both(getattr(S, name), getattr(torch.special, name), [x, y], np.ones(4), [0, 1])
        for i, (lv, tv) in enumerate(zip(lg, tg)):
            assert_same(lv, tv, TOL["float64"], f"{name} grad {i}")


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_polygamma_grads(n):
    x = sample(np.random.default_rng(n), 0.3, 5, (5,), np.float64)
    (lg,), (tg,) = _grads_both(lambda t: S.polygamma(n, t), lambda t: torch.special.polygamma(n, t), [x],
                               np.ones(5), [0])
    assert_same(lg, tg, dict(rtol=1e-6, atol=1e-7), f"polygamma {n}")
    lx = lam(x, requires_grad=True)
    assert gradcheck(lambda t: S.polygamma(n, t), (lx,))
    assert gradgradcheck(lambda t: S.polygamma(n, t), (lx,))


@pytest.mark.parametrize("p", [1, 3])
def test_multigammaln_grads(p):
    x = sample(np.random.default_rng(p), p, p + 5, (4,), np.float64)
    (lg,), (tg,) = _grads_both(lambda t: S.multigammaln(t, p), lambda t: torch.special.multigammaln(t, p), [x],
                               np.ones(4), [0])
    assert_same(lg, tg, TOL["float64"], f"mvlgamma {p}")
    assert gradgradcheck(lambda t: S.multigammaln(t, p), (lam(x, requires_grad=True),))


@pytest.mark.parametrize("eps", [None, 0.1, 0.6])
def test_logit_eps_grads(eps):
    p = np.array([-0.5, 0.0, 0.05, 0.3, 0.5, 0.95, 1.0, 1.5, np.nan])
    (lg,), (tg,) = _grads_both(lambda t: S.logit(t, eps), lambda t: torch.special.logit(t, eps), [p], np.ones(9), [0])
    assert_same(lg, tg, TOL["float64"], f"eps={eps}")
    inner = lam([0.2, 0.4, 0.7], requires_grad=True)
    assert gradgradcheck(lambda t: S.logit(t, 0.25), (inner,))


def test_grad_fn_names_and_no_grad():
    x = lam([0.5], requires_grad=True)
    assert "Erfinv" in type(S.erfinv(x).grad_fn).__name__ or "Erfinv" in S.erfinv(x).grad_fn.name()
    with lamina.no_grad():
        assert S.erfinv(x).grad_fn is None and not S.gammaln(x).requires_grad


@pytest.mark.parametrize("name, x", [("sinc", [1e-4, -4e-4, 5e-3, 0.3]), ("log_ndtr", [-194.2, -56.1, -10.0, 1.0])])
def test_float32_grads_that_cancel_are_accurate(name, x):
    """sinc near 0 and log_ndtr far left cancel in float32 (torch's float32 values are off by up to 20%
    there): their float32 backward runs in float64, so it equals the float64 gradient rounded."""
    x32 = lam(np.array(x, np.float32), requires_grad=True)
    x64 = lam(np.array(x, np.float32).astype(np.float64), requires_grad=True)
    getattr(S, name)(x32).sum().backward()
    getattr(S, name)(x64).sum().backward()
    assert x32.grad.dtype == lamina.float32
    np.testing.assert_allclose(x32.grad.numpy(), x64.grad.numpy().astype(np.float32), rtol=2e-7)
    assert gradgradcheck(getattr(S, name), (lam(np.array(x[2:]), requires_grad=True),))


def test_mixed_dtype_broadcast_grads_reduce_to_each_input():
    a, b = np.array([0.5, 1.5], np.float32), np.array([[2.0], [3.0]])
    lg, tg = _grads_both(S.xlogy, torch.special.xlogy, [a, b], np.ones((2, 2)), [0, 1])
    for lv, tv in zip(lg, tg):
        assert_same(lv, tv, TOL["float32"])
