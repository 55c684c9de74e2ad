"""The API around the values: out= (cast, resize, autograd refusal), in-place forms (version counter, autograd
through them, torch's errors), the top-level functions and Tensor methods served through entry points, and
error messages, each against torch."""

from __future__ import annotations

import warnings

import lamina
import lamina.special as S
import numpy as np
import pytest
from _special_cases import TOL, assert_same, lam, tor

torch = pytest.importorskip("torch")
X = np.array([0.1, 0.4, 0.8])


# --- out= -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["erf", "erfinv", "i0e", "gammaln", "airy_ai", "ndtri", "entr", "expit", "log1p"])
def test_out_writes_casts_and_returns_out(name):
    for dtype in ("float32", "float64", "float16"):
        lo, to = lamina.empty(3, dtype=getattr(lamina, dtype)), torch.empty(3, dtype=getattr(torch, dtype))
        r = getattr(S, name)(lam(X, "float32"), out=lo)
        getattr(torch.special, name)(tor(X, "float32"), out=to)
        assert r is lo
        assert_same(lo, to, dict(rtol=1e-3, atol=1e-3) if dtype == "float16" else TOL["float32"], name)


def test_out_binary_polygamma_polynomial_logit():
    for lf, tf in [(lambda o: S.xlogy(lam(X), 2.0, out=o), lambda o: torch.special.xlogy(tor(X), 2.0, out=o)),
                   (lambda o: S.polygamma(2, lam(X), out=o), lambda o: torch.special.polygamma(2, tor(X), out=o)),
                   (lambda o: S.zeta(2.0, lam(X), out=o), lambda o: torch.special.zeta(2.0, tor(X), out=o)),
                   (lambda o: S.logit(lam(X), 0.2, out=o), lambda o: torch.special.logit(tor(X), 0.2, out=o)),
                   (lambda o: S.multigammaln(lam(X) + 2, 2, out=o),
                    lambda o: torch.special.multigammaln(tor(X) + 2, 2, out=o)),
                   (lambda o: S.hermite_polynomial_h(lam(X), 3, out=o),
                    lambda o: torch.special.hermite_polynomial_h(tor(X), 3, out=o))]:
        lo, to = lamina.empty(3, dtype=lamina.float64), torch.empty(3, dtype=torch.float64)
        assert lf(lo) is lo
        tf(to)
        assert_same(lo, to, TOL["float64"])


def test_out_resize_warns_like_torch_and_empty_out_is_silent():
    lo, to = lamina.empty(5), torch.empty(5)
    with pytest.warns(UserWarning, match=r"An output with one or more elements was resized since it had shape \[5\]"):
        S.erf(lam(X, "float32"), out=lo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.special.erf(tor(X, "float32"), out=to)
    assert_same(lo, to, TOL["float32"])
    lo, to = lamina.empty(0), torch.empty(0)
    S.erf(lam(X, "float32"), out=lo)
    torch.special.erf(tor(X, "float32"), out=to)
    assert_same(lo, to, TOL["float32"])


def test_out_errors():
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        S.erf(lam(X, "float32"), out=lamina.empty(3, dtype=lamina.int64))
    with pytest.raises(RuntimeError, match=r"erf\(\): functions with out=\.\.\. arguments don't support automatic "
                                           "differentiation, but one of the arguments requires grad"):
        S.erf(lam(X, requires_grad=True), out=lamina.empty(3, dtype=lamina.float64))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        S.erf(lam(X), out=lamina.empty(3, dtype=lamina.float64, requires_grad=True))
    with lamina.no_grad():  # no graph: allowed, as in torch
        S.erf(lam(X, requires_grad=True), out=lamina.empty(3, dtype=lamina.float64))


# --- in-place -------------------------------------------------------------------------------------
INPLACE = [("erf_", ()), ("erfc_", ()), ("erfinv_", ()), ("lgamma_", ()), ("digamma_", ()), ("polygamma_", (2,)),
           ("i0_", ()), ("igamma_", (lambda m: m.tensor([1.5, 0.5, 2.0]),)),
           ("igammac_", (lambda m: m.tensor([1.5, 0.5, 2.0]),)), ("mvlgamma_", (1,)), ("sinc_", ()),
           ("xlogy_", (2.5,)), ("xlogy_", (lambda m: m.tensor([1.5, 0.5, 2.0]),)), ("logit_", ()),
           ("logit_", (0.25,)), ("exp2_", ())]


def _args(args, mod):
    return tuple(a(mod) if callable(a) else a for a in args)


@pytest.mark.parametrize("name, args", INPLACE)
def test_inplace_method_values_and_version(name, args):
    lx, tx = lam(X, "float32"), tor(X, "float32")
    v = lx._version
    r = getattr(lx, name)(*_args(args, lamina))
    getattr(tx, name)(*_args(args, torch))
    assert r is lx and lx._version == v + 1
    assert_same(lx, tx, TOL["float32"], name)


@pytest.mark.parametrize("name, args", INPLACE)
def test_inplace_autograd(name, args):
    la, ta = lam(X, requires_grad=True), tor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        getattr(la, name)(*_args(args, lamina))
    ly, ty = la * 0.9, ta * 0.9
    getattr(ly, name)(*_args(args, lamina))
    getattr(ty, name)(*_args(args, torch))
    if name in ("igamma_", "igammac_"):  # torch: no derivative for the tensor changed in place (its 'input')
        with pytest.raises(NotImplementedError, match="is not implemented"):
            ly.sum().backward()
        return
    (ly * lam([1.0, -2.0, 0.5])).sum().backward()
    (ty * tor([1.0, -2.0, 0.5])).sum().backward()
    assert_same(la.grad, ta.grad, dict(rtol=1e-6, atol=1e-7), name)
    with lamina.no_grad():  # a leaf that requires grad may change in place without recording
        getattr(la, name)(*_args(args, lamina))


def test_inplace_with_other_requiring_grad_and_errors():
    ly, ty = lam(X), tor(X)
    lo, to = lam([1.5, 0.5, 2.0], requires_grad=True), tor([1.5, 0.5, 2.0], requires_grad=True)
    ly.xlogy_(lo)
    ty.xlogy_(to)
    ly.sum().backward()
    ty.sum().backward()
    assert_same(lo.grad, to.grad, TOL["float64"])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        lam([1, 2]).erf_()
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        lam([1, 2]).xlogy_(2.0)
    with pytest.raises(RuntimeError, match=r"output with shape \[2\] doesn't match the broadcast shape \[3, 2\]"):
        lam([1.0, 2.0]).xlogy_(lamina.ones(3, 2))
    f = lam([1.0, 2.0], "float32")
    f.xlogy_(lam([2.0], "float64"))  # a wider other: the result is cast back, as torch
    assert f.dtype == lamina.float32


# --- top-level functions and Tensor methods -------------------------------------------------------
TOP = [("erf", ()), ("erfc", ()), ("erfinv", ()), ("lgamma", ()), ("digamma", ()), ("i0", ()), ("sinc", ()),
       ("logit", ()), ("logit", (0.2,)), ("exp2", ()), ("mvlgamma", (1,)), ("xlogy", (3.0,)),
       ("igamma", (lambda m: m.tensor([1.5, 0.5, 2.0]),)), ("igammac", (lambda m: m.tensor([1.5, 0.5, 2.0]),))]


@pytest.mark.parametrize("name, args", TOP)
def test_top_level_and_method(name, args):
    want = getattr(torch, name)(tor(X), *_args(args, torch))
    assert_same(getattr(lamina, name)(lam(X), *_args(args, lamina)), want, TOL["float64"], name)
    assert_same(getattr(lam(X), name)(*_args(args, lamina)), getattr(tor(X), name)(*_args(args, torch)),
                TOL["float64"], name)


def test_polygamma_forms_and_top_level_inplace():
    assert_same(lamina.polygamma(2, lam(X)), torch.polygamma(2, tor(X)), TOL["float64"])
    assert_same(lam(X).polygamma(2), tor(X).polygamma(2), TOL["float64"])
    assert_same(lamina.xlogy(2.0, lam(X)), torch.xlogy(2.0, tor(X)), TOL["float64"])
    for name, args in [("erf_", ()), ("erfc_", ()), ("i0_", ()), ("sinc_", ()), ("logit_", (0.1,)), ("xlogy_", (2,)),
                       ("exp2_", ())]:
        lx, tx = lam(X), tor(X)
        assert getattr(lamina, name)(lx, *args) is lx
        getattr(torch, name)(tx, *args)
        assert_same(lx, tx, TOL["float64"], name)
    assert_same(lamina.erf(lam(X), out=lamina.empty(3, dtype=lamina.float64)), torch.erf(tor(X)), TOL["float64"])


def test_methods_keep_autograd():
    lx, tx = lam(X, requires_grad=True), tor(X, requires_grad=True)
    (lx.erfinv() + lx.lgamma() + lx.digamma() + lx.polygamma(1) + lx.i0() + lx.sinc() + lx.logit() + lx.xlogy(2.0)
     + lx.mvlgamma(1) + lx.erf() + lx.erfc()).sum().backward()
    (tx.erfinv() + tx.lgamma() + tx.digamma() + tx.polygamma(1) + tx.i0() + tx.sinc() + tx.logit() + tx.xlogy(2.0)
     + tx.mvlgamma(1) + tx.erf() + tx.erfc()).sum().backward()
    assert_same(lx.grad, tx.grad, dict(rtol=1e-6, atol=1e-7))


# --- errors ---------------------------------------------------------------------------------------
def test_argument_errors():
    with pytest.raises(TypeError, match=r"erf\(\): argument 'input' \(position 1\) must be Tensor, not float"):
        S.erf(0.5)
    with pytest.raises(RuntimeError, match=r"polygamma\(n, x\) does not support negative n\."):
        S.polygamma(-1, lam(X))
    with pytest.raises(TypeError, match=r"polygamma\(\): argument 'n' \(position 1\) must be int, not float"):
        S.polygamma(1.0, lam(X))
    with pytest.raises(TypeError, match="must be int, not bool"):
        S.polygamma(True, lam(X))
    assert_same(S.polygamma(lam(1), lam(X)), torch.special.polygamma(torch.tensor(1), tor(X)), TOL["float64"])
    with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
        S.multigammaln(lam(X), 0)
    with pytest.raises(TypeError, match=r"argument 'p' \(position 2\) must be int, not float"):
        S.multigammaln(lam(X), 2.0)
    with pytest.raises(NotImplementedError, match="not implemented for 'ComplexFloat'"):
        S.erf(lamina.tensor(np.array([1 + 1j], dtype=np.complex64)))
    with pytest.raises(TypeError, match="invalid combination of arguments"):
        S.chebyshev_polynomial_t(0.5, 2)
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        S.xlogy(lamina.ones(2), lamina.ones(3))
    with pytest.raises(TypeError, match="must be Tensor"):
        S.xlogy(1.0, 2.0)


def test_multigammaln_has_no_domain_check_like_torch():
    assert_same(S.multigammaln(lam([0.2, 3.0]), 2), torch.special.multigammaln(tor([0.2, 3.0]), 2), TOL["float64"])


def test_non_cpu_device_is_refused_by_name():
    from lamina_special._common import check_cpu

    class FakeCuda:
        type = "cuda"

        def __str__(self):
            return "cuda:0"

    t = lam(X)
    real = type(t).device
    try:
        type(t).device = property(lambda self: FakeCuda())
        with pytest.raises(RuntimeError, match=r"special_erfcx: lamina-special computes with scipy\.special on the "
                                               r"CPU only, got a tensor on cuda:0"):
            check_cpu("special_erfcx", t)
    finally:
        type(t).device = real


def test_out_may_alias_the_input():
    lx, tx = lam(X), tor(X)
    assert S.erfinv(lx, out=lx) is lx
    torch.special.erfinv(tx, out=tx)
    assert_same(lx, tx, TOL["float64"])
