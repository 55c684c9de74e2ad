"""Gradients of lamina-distributions: d log_prob / d parameters and d entropy / d parameters against torch's
(float64), numerical gradcheck of log_prob in float64, rsample's reparameterisation gradients against the
closed form given the drawn noise, and seeded moments of samples within a few standard errors."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
import torch
from _dist_cases import NAMES, build, build_leaves, case, host
from lamina.testing import gradcheck

LD = lamina.distributions
TD = torch.distributions

NO_GRAD = {"Wishart", "LKJCholesky"}  # their values need a sample; covered below with torch's sample
GRADED = [n for n in NAMES if n not in NO_GRAD]


def _torch_value(td, x):
    if x is not None:
        return x
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Singular sample detected")
        return td.sample((2,)).numpy()


def _output(d, what, x, tensor):
    if what in ("log_prob", "cdf"):
        return getattr(d, what)(tensor(x))
    if what == "icdf":
        return d.icdf(tensor(np.random.default_rng(1).uniform(0.05, 0.95, size=(2, 3))))
    if what == "entropy":
        return d.entropy()
    return getattr(d, what)


@pytest.mark.parametrize("what", ["log_prob", "entropy", "cdf", "icdf", "mean", "variance", "mode"])
@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_torch(name, what):
    kw, x = case(name)
    td, tp = build_leaves(TD, name, kw, requires_grad=True)
    ld, lp = build_leaves(LD, name, kw, requires_grad=True)
    x = _torch_value(td, x)
    try:
        tout = _output(td, what, x, torch.tensor)
    except (NotImplementedError, RuntimeError, ValueError):
        pytest.skip(f"torch has no {what} here")
    if not tout.requires_grad:
        pytest.skip(f"torch's {what} is constant here")
    lout = _output(ld, what, x, lamina.tensor)
    g = np.random.default_rng(5).standard_normal(tuple(tout.shape))
    try:
        tgrads = torch.autograd.grad(tout, list(tp.values()), torch.tensor(g), allow_unused=True)
    except NotImplementedError:  # Gamma.cdf: no derivative of the incomplete gamma in its first argument
        with pytest.raises(NotImplementedError):
            lamina.autograd.grad(lout, [lp[k] for k in tp], lamina.tensor(g), allow_unused=True)
        return
    lgrads = lamina.autograd.grad(lout, [lp[k] for k in tp], lamina.tensor(g), allow_unused=True)
    for k, tg, lg in zip(tp, tgrads, lgrads):
        if tg is None:
            assert lg is None or np.allclose(host(lg), 0), k
            continue
        assert lg is not None, f"{name}.{k}: no gradient"
        np.testing.assert_allclose(host(lg), tg.numpy(), rtol=1e-7, atol=1e-9, equal_nan=True,
                                   err_msg=f"{name}.{k}")


@pytest.mark.parametrize("name", GRADED)
def test_log_prob_gradcheck(name):
    kw, x = case(name)
    keys = [k for k, v in kw.items() if isinstance(v, np.ndarray) and v.ndim > 0 and k != "total_count"]
    fixed = {k: v for k, v in kw.items() if k not in keys}
    if not keys:
        pytest.skip("no tensor parameter")
    value = lamina.tensor(x)

    def fn(*params):
        d = getattr(LD, name)(**dict(zip(keys, params)), **{k: (lamina.tensor(v) if isinstance(v, np.ndarray)
                                                                  else v) for k, v in fixed.items()},
                              validate_args=False)
        return d.log_prob(value)

    inputs = tuple(lamina.tensor(kw[k], requires_grad=True) for k in keys)
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("name", ["Normal", "LogNormal", "Laplace", "Cauchy", "Gumbel", "Uniform", "Exponential"])
def test_rsample_reparameterisation_gradient(name):
    """d sum(rsample) / d params equals torch's gradient of the same formula at the noise lamina drew."""
    kw, _ = case(name)
    lamina.manual_seed(0)
    ld, lp = build_leaves(LD, name, kw, requires_grad=True)
    s = ld.rsample((4,))
    lgrads = lamina.autograd.grad(s.sum(), list(lp.values()))
    sv = host(s)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in kw.items()}
    if name in ("Normal", "Laplace", "Cauchy", "Gumbel"):
        eps = torch.tensor((sv - kw["loc"]) / kw["scale"])
        out = t["loc"] + t["scale"] * eps
    elif name == "LogNormal":
        eps = torch.tensor((np.log(sv) - kw["loc"]) / kw["scale"])
        out = torch.exp(t["loc"] + t["scale"] * eps)
    elif name == "Uniform":
        eps = torch.tensor((sv - kw["low"]) / (kw["high"] - kw["low"]))
        out = t["low"] + (t["high"] - t["low"]) * eps
    else:
        eps = torch.tensor(sv * kw["rate"])
        out = eps / t["rate"]
    tgrads = torch.autograd.grad(out.sum(), [t[k] for k in lp])
    for k, tg, lg in zip(lp, tgrads, lgrads):
        np.testing.assert_allclose(host(lg), tg.numpy(), rtol=1e-8, atol=1e-10, err_msg=k)


def test_rsample_gradient_flows_for_every_reparameterised_distribution():
    for name in NAMES:
        kw, _ = case(name)
        ld, lp = build_leaves(LD, name, kw, requires_grad=True)
        if not ld.has_rsample:
            continue
        lamina.manual_seed(1)
        s = ld.rsample((3,))
        params = list(lp.values())
        grads = lamina.autograd.grad(s.sum(), params, allow_unused=True)
        assert any(g is not None and np.isfinite(host(g)).all() for g in grads), name


MOMENTS = [n for n in NAMES if n not in ("Cauchy", "HalfCauchy", "LKJCholesky", "LogisticNormal", "VonMises",
                                         "RelaxedBernoulli", "RelaxedOneHotCategorical", "Wishart")]


@pytest.mark.parametrize("name", MOMENTS)
def test_sample_moments(name):
    """With a fixed seed, the sample mean of 20000 draws is within 6 standard errors of the mean."""
    kw, _ = case(name)
    d = build(LD, name, kw)
    lamina.manual_seed(1234)
    n = 20000
    s = host(d.sample((n,)))
    mean, var = host(d.mean), host(d.variance)
    ok = np.isfinite(mean) & np.isfinite(var)
    se = np.sqrt(var / n)
    err = np.abs(s.mean(0) - mean)
    assert (err[ok] <= 6 * se[ok] + 1e-12).all(), (name, err[ok], se[ok])


def test_von_mises_circular_moments():
    """Angles wrap, so the circular moments: E[cos(x - loc)] = I1(k)/I0(k), E[sin(x - loc)] = 0."""
    import scipy.special as sc

    loc, k = np.array([0.3, -2.5, 3.0]), np.array([0.5, 2.0, 8.0])
    d = LD.VonMises(lamina.tensor(loc), lamina.tensor(k))
    lamina.manual_seed(4321)
    n = 20000
    s = host(d.sample((n,)))
    assert ((s >= -np.pi) & (s < np.pi)).all()
    c, si = np.cos(s - loc), np.sin(s - loc)
    rc = sc.i1e(k) / sc.i0e(k)
    assert (np.abs(c.mean(0) - rc) <= 6 * c.std(0) / np.sqrt(n)).all()
    assert (np.abs(si.mean(0)) <= 6 * si.std(0) / np.sqrt(n)).all()


def test_seeded_sampling_is_reproducible():
    d = LD.Gamma(lamina.tensor([0.5, 2.0]), lamina.tensor([1.0, 3.0]))
    lamina.manual_seed(7)
    a = host(d.sample((5,)))
    lamina.manual_seed(7)
    b = host(d.sample((5,)))
    np.testing.assert_array_equal(a, b)


def test_gamma_rsample_implicit_gradient_matches_torch():
    """d x / d alpha of Gamma(alpha, 1).rsample at the drawn x against torch's _standard_gamma_grad at the same
    x (torch's series/asymptotic approximation is good to ~1e-4 relative; lamina's is exact to ~1e-10)."""
    a = np.array([0.3, 0.9, 2.5, 10.0, 50.0])
    la = lamina.tensor(a, requires_grad=True)
    lamina.manual_seed(0)
    x = LD.Gamma(la, lamina.ones(5)).rsample((4,))
    g = lamina.autograd.grad(x.sum(), [la])[0]
    tx = torch.tensor(host(x))
    want = torch._standard_gamma_grad(torch.tensor(a).expand(4, 5).contiguous(), tx).sum(0)
    np.testing.assert_allclose(host(g), want.numpy(), rtol=3e-4)
    # the rate rescales: Gamma(alpha, rate) = Gamma(alpha, 1) / rate
    rate = lamina.tensor(np.full(5, 2.0), requires_grad=True)
    lamina.manual_seed(0)
    y = LD.Gamma(lamina.tensor(a), rate).rsample()
    (gr,) = lamina.autograd.grad(y.sum(), [rate])
    np.testing.assert_allclose(host(gr), -host(y) / 2.0, rtol=1e-12)


def _torch_dirichlet_vjp(x, conc, w):
    """torch's Dirichlet.rsample backward at sample x: _dirichlet_grad(x, alpha, total) * (w - <x, w>)."""
    x, conc, w = torch.tensor(x), torch.tensor(conc).expand(x.shape), torch.tensor(w)
    total = conc.sum(-1, keepdim=True).expand_as(conc)
    return (torch._dirichlet_grad(x, conc, total) * (w - (x * w).sum(-1, keepdim=True))).numpy()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dirichlet_rsample_gradient_matches_torch(dtype):
    """Dirichlet's rsample gradient is torch's implicit one (a function of the sample x only), not the pathwise
    gradient through the normalised gammas; compared at lamina's draws (torch's approximation: ~1e-4)."""
    c = np.array([[0.5, 1.5, 3.0], [2.0, 2.0, 0.7]])
    lc = lamina.tensor(c.astype(dtype), requires_grad=True)
    lamina.manual_seed(0)
    s = LD.Dirichlet(lc).rsample((4,))
    w = np.random.default_rng(0).standard_normal((4, 2, 3))
    (g,) = lamina.autograd.grad((s * lamina.tensor(w.astype(dtype))).sum(), [lc])
    assert str(g.dtype) == f"lamina.{dtype}"
    want = _torch_dirichlet_vjp(host(s).astype(np.float64), c, w).sum(0)
    tol = dict(rtol=1e-3, atol=1e-4) if dtype == "float64" else dict(rtol=3e-3, atol=1e-3)
    np.testing.assert_allclose(host(g), want, **tol)


def test_beta_rsample_gradient_matches_torch():
    a, b = np.array([0.5, 2.0, 4.0]), np.array([1.5, 0.7, 4.0])
    la, lb = lamina.tensor(a, requires_grad=True), lamina.tensor(b, requires_grad=True)
    lamina.manual_seed(1)
    y = LD.Beta(la, lb).rsample((5,))
    ga, gb = lamina.autograd.grad(y.sum(), [la, lb])
    x = np.stack([host(y), 1 - host(y)], -1)
    w = np.broadcast_to(np.array([1.0, 0.0]), x.shape)
    want = _torch_dirichlet_vjp(x, np.stack([a, b], -1), w).sum(0)
    np.testing.assert_allclose(host(ga), want[:, 0], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(host(gb), want[:, 1], rtol=1e-3, atol=1e-4)


def _ks(a, b):
    """Two-sample Kolmogorov-Smirnov distance of the empirical CDFs (ties allowed)."""
    grid = np.sort(np.concatenate([a, b]))
    fa = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    fb = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.abs(fa - fb).max())


@pytest.mark.parametrize("name", NAMES)
def test_sampling_distribution_matches_torch(name):
    """Every marginal of 20000 seeded lamina draws against 20000 seeded torch draws: KS distance < 0.03
    (the 1e-6 critical value for these sizes is 0.027; the observed distances are 0.004-0.016)."""
    kw, _ = case(name)
    td, ld = build(TD, name, kw), build(LD, name, kw)
    n = 20000
    torch.manual_seed(0)
    lamina.manual_seed(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Singular sample detected")
        ts = td.sample((n,)).numpy().reshape(n, -1).astype(np.float64)
    ls = host(ld.sample((n,))).reshape(n, -1).astype(np.float64)
    worst = max(_ks(ts[:, j], ls[:, j]) for j in range(ts.shape[1]))
    assert worst < 0.03, worst
