"""MultivariateNormal, Wishart and LowRankMultivariateNormal in each parametrisation (covariance_matrix,
precision_matrix, scale_tril) against torch: log_prob, entropy, mean/variance, the derived matrices, and the
gradients w.r.t. the matrix given and the location (float64)."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
import torch

RNG = np.random.default_rng(0)
_A = RNG.standard_normal((3, 3))
COV = _A @ _A.T + 3 * np.eye(3)
MATRICES = {"covariance_matrix": COV, "precision_matrix": np.linalg.inv(COV), "scale_tril": np.linalg.cholesky(COV)}
LOC = RNG.standard_normal((2, 3))
X = RNG.standard_normal((4, 2, 3))


def _derived(d):
    return [d.covariance_matrix.detach().numpy(), d.precision_matrix.detach().numpy(),
            d.scale_tril.detach().numpy()]


def _compare(res):
    for i, (a, b) in enumerate(zip(*res)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-8, atol=1e-10, err_msg=f"item {i}")


@pytest.mark.parametrize("param", sorted(MATRICES))
def test_multivariate_normal_parametrisations(param):
    res = []
    for M, t in ((lamina, lamina.tensor), (torch, torch.tensor)):
        p, loc = t(MATRICES[param], requires_grad=True), t(LOC, requires_grad=True)
        d = M.distributions.MultivariateNormal(loc, **{param: p})
        out = d.log_prob(t(X)).sum() + d.entropy().sum() + d.variance.sum()
        grads = M.autograd.grad(out, [p, loc])
        res.append([out.item()] + [g.detach().numpy() for g in grads] + _derived(d))
    _compare(res)


@pytest.mark.parametrize("param", sorted(MATRICES))
def test_wishart_parametrisations(param):
    df = np.array([5.0, 6.0])
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Singular sample detected")
        w = torch.distributions.Wishart(torch.tensor(df), covariance_matrix=torch.tensor(COV)).sample().numpy()
    res = []
    for M, t in ((lamina, lamina.tensor), (torch, torch.tensor)):
        p = t(MATRICES[param], requires_grad=True)
        d = M.distributions.Wishart(t(df), **{param: p})
        out = d.log_prob(t(w)).sum() + d.entropy().sum() + d.mean.sum() + d.variance.sum()
        (g,) = M.autograd.grad(out, [p])
        res.append([out.item(), g.detach().numpy()] + _derived(d))
    _compare(res)


def test_low_rank_multivariate_normal_everything():
    cf, cd = RNG.standard_normal((3, 2)), RNG.uniform(0.5, 2, 3)
    res = []
    for M, t in ((lamina, lamina.tensor), (torch, torch.tensor)):
        a, b, loc = t(cf, requires_grad=True), t(cd, requires_grad=True), t(LOC, requires_grad=True)
        d = M.distributions.LowRankMultivariateNormal(loc, a, b)
        out = (d.log_prob(t(X)).sum() + d.entropy().sum() + d.variance.sum() + d.covariance_matrix.sum()
               + d.precision_matrix.sum() + d.scale_tril.sum())
        res.append([out.item()] + [g.numpy() for g in M.autograd.grad(out, [a, b, loc])])
    _compare(res)


def test_parametrisation_errors():
    for M, t in ((lamina, lamina.tensor), (torch, torch.tensor)):
        with pytest.raises(ValueError):
            M.distributions.MultivariateNormal(t(LOC))
        with pytest.raises(ValueError):
            M.distributions.MultivariateNormal(t(LOC), covariance_matrix=t(COV), scale_tril=t(COV))
        with pytest.raises(ValueError):
            M.distributions.MultivariateNormal(t(LOC), covariance_matrix=t(np.ones(3)))
        with pytest.raises(ValueError):
            M.distributions.Wishart(t(np.array([1.0])), covariance_matrix=t(COV))
