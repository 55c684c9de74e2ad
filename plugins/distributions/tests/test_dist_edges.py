"""Edge cases against torch: values at and beyond the support's ends (-inf, 0, 1e-300, inf, NaN) with
validate_args=False for log_prob/cdf/icdf, empty batches, 0-d parameters, non-contiguous parameters,
integer-typed values, enumerate_support(expand=False) and perplexity."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
import torch
from _dist_cases import NAMES, assert_close, build, case, host

LD = lamina.distributions
TD = torch.distributions

EDGE = np.array([-np.inf, -5.0, -1.0, 0.0, 1e-300, 0.5, 1.0, 2.0, 5.0, np.inf, np.nan])
EDGE_P = np.array([0.0, 1e-12, 0.5, 1 - 1e-12, 1.0, -0.1, 1.1, np.nan])
SCALAR_EVENT = [n for n in NAMES if not build(TD, n, case(n)[0]).event_shape and case(n)[1] is not None]


def _quiet(fn):
    """lamina's NumPy kernels warn on log(0), inf - inf, ... where torch is silent; the values are what count."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn()


@pytest.mark.parametrize("method", ["log_prob", "cdf", "icdf"])
@pytest.mark.parametrize("name", SCALAR_EVENT)
def test_edge_values_match_torch(name, method):
    kw, x = case(name)
    td, ld = build(TD, name, kw, validate_args=False), build(LD, name, kw, validate_args=False)
    grid = EDGE_P if method == "icdf" else EDGE
    if method != "icdf" and x.dtype.kind == "i":
        grid = np.array([-1, 0, 1, 3, 4, 7])
    v = np.broadcast_to(grid[:, None], (len(grid), 3)).copy()
    try:
        want = _quiet(lambda: getattr(td, method)(torch.tensor(v)))
    except (NotImplementedError, RuntimeError, ValueError, IndexError):
        pytest.skip(f"torch has no {method} on these values")
    got = _quiet(lambda: getattr(ld, method)(lamina.tensor(v)))
    assert_close(got, want)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Beta", "Poisson", "Categorical", "Dirichlet",
                                  "MultivariateNormal", "Bernoulli", "StudentT"])
def test_empty_batch(name):
    kw, x = case(name)
    kw0 = {k: (v[:0] if isinstance(v, np.ndarray) and v.ndim and k != "scale_tril" else v) for k, v in kw.items()}
    try:
        td = build(TD, name, kw0)
    except RuntimeError:  # torch's validation reshapes an empty batch to (0, -1) and fails; so does lamina
        with pytest.raises(RuntimeError):
            build(LD, name, kw0)
        return
    ld = build(LD, name, kw0)
    assert tuple(ld.batch_shape) == tuple(td.batch_shape)
    x0 = x[:, :0]
    assert_close(ld.log_prob(lamina.tensor(x0)), td.log_prob(torch.tensor(x0)))
    assert tuple(ld.sample((2,)).shape) == tuple(td.sample((2,)).shape)
    assert_close(ld.mean, td.mean)


@pytest.mark.parametrize("name", ["Normal", "Gamma", "Beta", "Exponential", "Poisson", "Bernoulli", "Laplace",
                                  "Binomial", "NegativeBinomial", "LogNormal", "HalfNormal"])
def test_zero_dim_parameters(name):
    kw, x = case(name)
    kw0 = {k: (np.asarray(v[0]) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    td, ld = build(TD, name, kw0), build(LD, name, kw0)
    assert tuple(ld.batch_shape) == tuple(td.batch_shape) == ()
    assert_close(ld.log_prob(lamina.tensor(x)), td.log_prob(torch.tensor(x)))
    assert_close(ld.log_prob(lamina.tensor(x[0, 0])), td.log_prob(torch.tensor(x[0, 0])))
    try:
        want = td.entropy()
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ld.entropy()
    else:
        assert_close(ld.entropy(), want)
    lamina.manual_seed(0)
    assert tuple(ld.sample().shape) == ()
    assert tuple(ld.sample((2,)).shape) == (2,)


def test_non_contiguous_parameters():
    rng = np.random.default_rng(8)
    loc, scale = rng.standard_normal((4, 3)), rng.uniform(0.5, 2, (4, 3))
    x = rng.standard_normal((3, 4))
    lt = LD.Normal(lamina.tensor(loc).t(), lamina.tensor(scale).t())
    tt = TD.Normal(torch.tensor(loc).t(), torch.tensor(scale).t())
    assert_close(lt.log_prob(lamina.tensor(x)), tt.log_prob(torch.tensor(x)))
    assert_close(lt.cdf(lamina.tensor(x[:, ::2])[:, :1]), tt.cdf(torch.tensor(x[:, ::2])[:, :1]))


def test_integer_values():
    rate = np.array([0.5, 1.5, 3.0])
    v = np.array([[0, 1, 2], [3, 0, 5]], dtype=np.int64)
    assert_close(LD.Poisson(lamina.tensor(rate)).log_prob(lamina.tensor(v)),
                 TD.Poisson(torch.tensor(rate)).log_prob(torch.tensor(v)))
    p = np.array([0.2, 0.5, 0.9])
    b = np.array([[0, 1, 1]], dtype=np.int64)
    assert_close(LD.Bernoulli(lamina.tensor(p)).log_prob(lamina.tensor(b).float().double()),
                 TD.Bernoulli(torch.tensor(p)).log_prob(torch.tensor(b).double()))
    probs = np.array([[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    idx = np.array([[2, 0], [1, 1]], dtype=np.int64)
    assert_close(LD.Categorical(lamina.tensor(probs)).log_prob(lamina.tensor(idx)),
                 TD.Categorical(torch.tensor(probs)).log_prob(torch.tensor(idx)))
    lamina.manual_seed(0)
    assert str(LD.Categorical(lamina.tensor(probs)).sample().dtype) == "lamina.int64"


@pytest.mark.parametrize("name", ["Bernoulli", "Binomial", "Categorical", "OneHotCategorical"])
def test_enumerate_support_unexpanded(name):
    kw, _ = case(name)
    td, ld = build(TD, name, kw), build(LD, name, kw)
    assert_close(ld.enumerate_support(expand=False), td.enumerate_support(expand=False))


@pytest.mark.parametrize("name", ["Normal", "Categorical", "Bernoulli", "Gamma"])
def test_perplexity(name):
    kw, _ = case(name)
    assert_close(build(LD, name, kw).perplexity(), build(TD, name, kw).perplexity())


def test_logits_extremes_finite():
    logits = np.array([-1e4, -88.0, 0.0, 88.0, 1e4])
    for cls in ["Bernoulli", "Geometric"]:
        t = getattr(TD, cls)(logits=torch.tensor(logits), validate_args=False)
        ll = getattr(LD, cls)(logits=lamina.tensor(logits), validate_args=False)
        ones = np.ones(5)
        got = _quiet(lambda ll=ll, ones=ones: ll.log_prob(lamina.tensor(ones)))
        assert_close(got, t.log_prob(torch.tensor(ones)))
    c = np.array([[-np.inf, 0.0, 1.0], [5.0, -np.inf, -np.inf]])
    t, ll = TD.Categorical(logits=torch.tensor(c)), LD.Categorical(logits=lamina.tensor(c))
    assert_close(ll.entropy(), t.entropy())
    assert_close(ll.log_prob(lamina.tensor([1, 0])), t.log_prob(torch.tensor([1, 0])))


def test_float32_gradients_match_torch():
    rng = np.random.default_rng(9)
    loc, scale, x = (rng.standard_normal(5).astype("float32"), rng.uniform(0.5, 2, 5).astype("float32"),
                     rng.standard_normal(5).astype("float32"))
    tl, ts = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    ll, ls = lamina.tensor(loc, requires_grad=True), lamina.tensor(scale, requires_grad=True)
    TD.Normal(tl, ts).log_prob(torch.tensor(x)).sum().backward()
    LD.Normal(ll, ls).log_prob(lamina.tensor(x)).sum().backward()
    assert str(ll.grad.dtype) == "lamina.float32"
    np.testing.assert_allclose(host(ll.grad), tl.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(host(ls.grad), ts.grad.numpy(), rtol=1e-5, atol=1e-6)


PARAM_EDGES = [  # parameters at or near the ends of their domains, values at the ends of the support
    ("Binomial", dict(total_count=np.array([5.0, 5.0, 5.0]), probs=np.array([0.0, 1.0, 0.5])),
     np.array([[0.0, 5.0, 2.0], [5.0, 0.0, 5.0]])),
    ("Binomial", dict(total_count=np.array([5.0, 5.0, 5.0]), logits=np.array([-100.0, 100.0, 0.0])),
     np.array([[0.0, 5.0, 2.0], [5.0, 0.0, 5.0]])),
    ("Geometric", dict(probs=np.array([1.0, 0.5, 1e-12])), np.array([[0.0, 1.0, 3.0]])),
    ("NegativeBinomial", dict(total_count=np.array([2.0, 2.0, 2.0]), probs=np.array([0.0, 0.5, 0.999])),
     np.array([[0.0, 1.0, 3.0]])),
    ("Poisson", dict(rate=np.array([0.0, 1.0, 1e-30])), np.array([[0.0, 1.0, 0.0]])),
    ("Bernoulli", dict(probs=np.array([0.0, 1.0, 0.5])), np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])),
    ("Categorical", dict(probs=np.array([[1.0, 0.0, 0.0], [2.0, 2.0, 4.0]])), np.array([[0, 1], [1, 2]])),
    ("Categorical", dict(logits=np.array([[50.0, -50.0, 0.0], [2.0, 2.0, 4.0]])), np.array([[0, 1], [1, 2]])),
    ("Multinomial", dict(total_count=3, probs=np.array([[1.0, 0.0, 0.0], [2.0, 2.0, 4.0]])),
     np.array([[3.0, 0.0, 0.0], [1.0, 1.0, 1.0]])),
    ("Beta", dict(concentration1=np.array([1e-3, 1.0, 1000.0]), concentration0=np.array([1.0, 1e-3, 1000.0])),
     np.array([[1e-10, 1 - 1e-10, 0.5]])),
    ("Gamma", dict(concentration=np.array([1e-3, 1.0, 1e3]), rate=np.array([1.0, 1e-3, 1e3])),
     np.array([[1e-30, 1.0, 1.0]])),
    ("Dirichlet", dict(concentration=np.array([[1e-3, 1.0, 1e3]])), np.array([[1e-10, 0.5, 0.5 - 1e-10]])),
    ("ContinuousBernoulli", dict(probs=np.array([0.499, 0.5, 0.501])), np.array([[0.0, 0.3, 1.0]])),
    ("ContinuousBernoulli", dict(probs=np.array([1e-6, 0.5 - 1e-4, 0.9999])), np.array([[0.0, 0.3, 1.0]])),
    ("VonMises", dict(loc=np.array([0.0, 1.0, -3.0]), concentration=np.array([1e-5, 100.0, 1e4])),
     np.array([[0.0, 1.0, 3.0]])),
    ("StudentT", dict(df=np.array([0.5, 1.0, 1e6])), np.array([[0.0, 1.0, 3.0]])),
]


@pytest.mark.parametrize("name,kw,x", PARAM_EDGES, ids=[f"{c[0]}-{i}" for i, c in enumerate(PARAM_EDGES)])
def test_parameters_at_domain_ends(name, kw, x):
    out = []
    for M, t in ((TD, torch.tensor), (LD, lamina.tensor)):
        d = getattr(M, name)(**{k: (t(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()},
                             validate_args=False)
        r = {}
        for m in ["log_prob", "entropy", "mean", "variance", "cdf"]:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    v = getattr(d, m)(t(x)) if m in ("log_prob", "cdf") else d.entropy() if m == "entropy" \
                        else getattr(d, m)
                r[m] = v
            except NotImplementedError as err:
                r[m] = type(err)
        out.append(r)
    for m, want in out[0].items():
        got = out[1][m]
        if isinstance(want, type):
            assert got is want, (m, got)
        else:
            assert_close(got, want)
