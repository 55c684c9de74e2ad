"""Values and dtypes of every lamina.special function against torch.special: sampled domains and edge
values (0, +-inf, NaN, poles), float32 and float64, integer inputs, empty, 0-d and non-contiguous inputs."""

from __future__ import annotations

import lamina
import lamina.special as S
import numpy as np
import pytest
from _special_cases import (
    BINARY,
    BINARY_EDGES,
    CORE_ALIASES,
    EDGES,
    LOOSE64,
    POLYNOMIALS,
    TOL,
    UNARY,
    UNIT,
    UNIT_EDGES,
    assert_same,
    lam,
    sample,
    tor,
)

torch = pytest.importorskip("torch")
DTYPES = ("float32", "float64")


def _tol(name, dtype):
    tol = dict(TOL[dtype])
    if dtype == "float64" and name in LOOSE64:
        tol["atol"] = LOOSE64[name]
    return tol


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_sampled(name, dtype):
    lo, hi, _ = UNARY[name]
    x = sample(np.random.default_rng(0), lo, hi, (4, 5), dtype)
    assert_same(getattr(S, name)(lam(x)), getattr(torch.special, name)(tor(x)), _tol(name, dtype), name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(set(UNARY) - CORE_ALIASES))
def test_unary_edges(name, dtype):
    x = (UNIT_EDGES if name in UNIT else EDGES).astype(dtype)
    assert_same(getattr(S, name)(lam(x)), getattr(torch.special, name)(tor(x)), _tol(name, dtype), name)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_integer_and_bool_inputs_give_default_float(name):
    x = np.array([0, 1, 2, 3], dtype=np.int64)
    assert_same(getattr(S, name)(lam(x)), getattr(torch.special, name)(tor(x)), _tol(name, "float32"), name)
    b = np.array([True, False])
    assert_same(getattr(S, name)(lam(b)), getattr(torch.special, name)(tor(b)), _tol(name, "float32"), name)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_empty_zero_dim_noncontiguous(name):
    lo, hi, _ = UNARY[name]
    f, g = getattr(S, name), getattr(torch.special, name)
    assert_same(f(lam(np.zeros((0, 3)))), g(tor(np.zeros((0, 3)))), TOL["float64"], name)
    x0 = np.array((lo + hi) / 2 + 0.01)
    assert_same(f(lam(x0)), g(tor(x0)), _tol(name, "float64"), name)
    x = sample(np.random.default_rng(1), lo, hi, (6, 4), np.float64)
    assert_same(f(lam(x).t()[:, ::2]), g(tor(x).t()[:, ::2]), _tol(name, "float64"), name)


def _call(mod, name, x):
    f = getattr(mod, name)
    if name in POLYNOMIALS or name in BINARY:
        return f(x, x)
    if name == "polygamma":
        return f(1, x)
    if name == "multigammaln":
        return f(x + 1, 1)
    return f(x)


@pytest.mark.parametrize("name", sorted(UNARY) + sorted(BINARY) + POLYNOMIALS + ["polygamma", "multigammaln"])
def test_float16_as_torch(name):
    """float16 keeps its dtype where torch has a Half kernel, and raises torch's error where it has none."""
    x = np.array([0.1, 0.5, 0.7], dtype=np.float16)
    try:
        want = _call(torch.special, name, tor(x))
    except NotImplementedError as e:
        with pytest.raises(NotImplementedError, match=str(e).replace('"', '.').replace("'", ".")):
            _call(S, name, lam(x))
        return
    assert_same(_call(S, name, lam(x)), want, dict(rtol=2e-3, atol=2e-3), name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 2, 3, 5])
def test_polygamma(n, dtype):
    x = np.concatenate([EDGES, sample(np.random.default_rng(n), 0.1, 8, 10, np.float64), [-1e6, -2.5, -1e-3]])
    x = x.astype(dtype)
    tol = dict(rtol=1e-6 if dtype == "float64" else 1e-5, atol=1e-7)  # torch's trigamma series: ~1e-9 relative
    assert_same(S.polygamma(n, lam(x)), torch.special.polygamma(n, tor(x)), tol, f"polygamma {n}")


@pytest.mark.parametrize("p", [1, 2, 3, 5])
def test_multigammaln(p):
    x = sample(np.random.default_rng(p), (p - 1) / 2 + 0.01, 10, 12, np.float64)
    x = np.concatenate([x, [0.2, np.inf, np.nan]])
    for dtype in DTYPES:
        xs = x.astype(dtype)
        assert_same(S.multigammaln(lam(xs), p), torch.special.multigammaln(tor(xs), p), TOL[dtype], f"mvlgamma {p}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_sampled_and_broadcast(name, dtype):
    (alo, ahi), (blo, bhi), _, _ = BINARY[name]
    rng = np.random.default_rng(3)
    a, b = sample(rng, alo, ahi, (3, 1, 4), dtype), sample(rng, blo, bhi, (5, 1), dtype)
    tol = dict(TOL[dtype], rtol=1e-6) if name.startswith("gammainc") else TOL[dtype]
    assert_same(getattr(S, name)(lam(a), lam(b)), getattr(torch.special, name)(tor(a), tor(b)), tol, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_edges(name, dtype):
    a, b = (m.ravel().astype(dtype) for m in np.meshgrid(BINARY_EDGES, BINARY_EDGES))
    tol = dict(TOL[dtype], rtol=1e-6) if name.startswith("gammainc") else TOL[dtype]
    assert_same(getattr(S, name)(lam(a), lam(b)), getattr(torch.special, name)(tor(a), tor(b)), tol, name)


@pytest.mark.parametrize("name", ["xlogy", "xlog1py", "zeta"])
def test_binary_python_scalars_and_promotion(name):
    f, g = getattr(S, name), getattr(torch.special, name)
    x32, x64, xi = np.array([0.5, 2.0], np.float32), np.array([1.5, 3.0]), np.array([1, 2])
    for a, b in [(2.0, x32), (x32, 2), (xi, 2), (xi, 2.5), (2, xi), (xi, xi), (x32, x64), (x32, np.array(3.0)),
                 (np.array(3.0), x32), (xi, np.array(3.0))]:
        la, ta = (lam(a), tor(a)) if isinstance(a, np.ndarray) else (a, a)
        lb, tb = (lam(b), tor(b)) if isinstance(b, np.ndarray) else (b, b)
        assert_same(f(la, lb), g(ta, tb), TOL["float32"], f"{name}({a!r}, {b!r})")
    with pytest.raises(TypeError, match=name):
        f(2.0, 3.0)


def test_gammainc_promotion_and_errors():
    a, b = np.array([1.0, 2.0], np.float32), np.array([0.5, 3.0])
    assert_same(S.gammainc(lam(a), lam(b)), torch.special.gammainc(tor(a), tor(b)), TOL["float32"])
    assert_same(S.gammaincc(lam([1, 2]), lam(b)), torch.special.gammaincc(tor([1, 2]), tor(b)), TOL["float64"])
    with pytest.raises(NotImplementedError, match="igamma_cpu.*Long"):
        S.gammainc(lam([1, 2]), lam([1, 2]))
    with pytest.raises(TypeError, match="igamma.*must be Tensor, not int"):
        S.gammainc(2, lam(b))
    with pytest.raises(TypeError, match="must be Tensor, not float"):
        S.gammaincc(lam(b), 2.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials(name, dtype):
    xs = np.array([-np.inf, -3.0, -1.0, -0.7, -0.0, 0.0, 0.3, 0.5, 1.0, 1.5, 2.0, np.inf])
    ns = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 8.5, 9.0, 12.0, 30.0])
    x, n = (m.ravel().astype(dtype) for m in np.meshgrid(xs, ns))
    tol = dict(rtol=1e-9 if dtype == "float64" else 1e-5, atol=1e-6)
    f, g = getattr(S, name), getattr(torch.special, name)
    assert_same(f(lam(x), lam(n)), g(tor(x), tor(n)), tol, name)
    # NaN x: degree 0 gives 1 and a negative degree 0, as torch
    xn, nn = np.full(4, np.nan, dtype), np.array([-1.0, 0.0, 1.0, 3.0], dtype)
    assert_same(f(lam(xn), lam(nn)), g(tor(xn), tor(nn)), tol, name)
    # Python numbers, integer tensors, an integer degree tensor
    xi, ni = np.array([1, 2, 3]), np.array([2, 3, 4])
    for a, b in [(lam(x[:5]), 3), (2.0, lam(ni)), (lam(xi), lam(ni)), (lam(x[:3]), lam(ni)), (lam(xi), 2.5)]:
        ta = tor(a.numpy()) if isinstance(a, lamina.Tensor) else a
        tb = tor(b.numpy()) if isinstance(b, lamina.Tensor) else b
        assert_same(f(a, b), g(ta, tb), tol, name)


def test_results_without_derivative_do_not_require_grad():
    x = lam([0.5, 1.5], requires_grad=True)
    for name in [n for n, v in UNARY.items() if not v[2]] + POLYNOMIALS:
        y = getattr(S, name)(x, 2) if name in POLYNOMIALS else getattr(S, name)(x)
        assert not y.requires_grad and y.grad_fn is None, name
        assert not getattr(torch.special, name)(*((tor([0.5, 1.5], requires_grad=True), 2) if name in POLYNOMIALS
                                                  else (tor([0.5, 1.5], requires_grad=True),))).requires_grad


def test_aliases_and_core_names():
    x = sample(np.random.default_rng(5), -2, 2, (3, 4), np.float32)
    for name, args in [("softmax", (1,)), ("log_softmax", (0,)), ("logsumexp", (1,)), ("round", ())]:
        assert_same(getattr(S, name)(lam(x), *args), getattr(torch.special, name)(tor(x), *args), TOL["float32"], name)
    assert_same(S.softmax(lam(x), 1, dtype=lamina.float64), torch.special.softmax(tor(x), 1, dtype=torch.float64),
                TOL["float64"])
    assert_same(S.logsumexp(lam(x), (0, 1), keepdim=True), torch.special.logsumexp(tor(x), (0, 1), keepdim=True),
                TOL["float32"])
    assert_same(S.round(lam(x), decimals=1), torch.special.round(tor(x), decimals=1), TOL["float32"])
    assert S.psi is S.digamma


def test_logit_eps():
    p = np.array([-0.5, 0.0, 0.05, 0.5, 0.95, 1.0, 1.5, np.nan])
    for eps in (None, 0.1, 0.0, -1.0, 0.6):
        assert_same(S.logit(lam(p), eps), torch.special.logit(tor(p), eps), TOL["float64"], f"eps={eps}")
    assert_same(S.logit(lam([0, 1, 2])), torch.special.logit(tor([0, 1, 2])), TOL["float32"])


@pytest.mark.parametrize("name", sorted(BINARY) + POLYNOMIALS[::4])
def test_binary_noncontiguous_and_zero_dim(name):
    rng = np.random.default_rng(11)
    a, b = sample(rng, 0.6, 2.5, (4, 3), np.float64), sample(rng, 0.6, 2.5, (4, 2), np.float64)
    if name in POLYNOMIALS:
        b = np.trunc(b * 3)
    f, g = getattr(S, name), getattr(torch.special, name)
    assert_same(f(lam(a).t(), lam(b)[:, :1].t()), g(tor(a).t(), tor(b)[:, :1].t()), TOL["float64"], name)
    assert_same(f(lam(a[0, 0]), lam(b[0, 0])), g(tor(a[0, 0]), tor(b[0, 0])), TOL["float64"], name)
    assert_same(f(lam(np.zeros((0, 3))), lam(b[:3, 0])), g(tor(np.zeros((0, 3))), tor(b[:3, 0])), TOL["float64"])
    with pytest.raises(RuntimeError, match=r"The size of tensor a \(3\) must match the size of tensor b \(4\)"):
        f(lam(a[0]), lam(b[:, 0]))


def test_inplace_on_a_view_changes_the_base():
    base, tbase = lam([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]), tor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    base[:, 1].erfinv_()
    tbase[:, 1].erfinv_()
    assert_same(base, tbase, TOL["float64"])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["i0", "i1", "modified_bessel_i0", "modified_bessel_i1", "i0e", "i1e"])
def test_exp_scaled_bessel_overflow_as_torch(name, dtype):
    """torch's i0/i1 overflow where exp(|x|) does in the input's dtype (float32: |x| > 88.72)."""
    x = np.array([88.72, 88.7228, 88.7229, 89.3, 91.2, 709.78, 709.79, 1e30, np.inf], dtype=dtype)
    x = np.concatenate([x, -x])
    assert_same(getattr(S, name)(lam(x)), getattr(torch.special, name)(tor(x)), TOL[dtype], name)


def test_integer_inputs_follow_the_default_dtype():
    old, told = lamina.get_default_dtype(), torch.get_default_dtype()
    try:
        lamina.set_default_dtype(lamina.float64)
        torch.set_default_dtype(torch.float64)
        for f, g in [(S.erf, torch.special.erf), (lambda t: S.xlogy(t, 2.5), lambda t: torch.special.xlogy(t, 2.5)),
                     (lambda t: S.chebyshev_polynomial_t(t, 2), lambda t: torch.special.chebyshev_polynomial_t(t, 2))]:
            assert_same(f(lam([1, 2])), g(tor([1, 2])), TOL["float64"])
    finally:
        lamina.set_default_dtype(old)
        torch.set_default_dtype(told)
