"""The composite distributions against torch: Independent, MixtureSameFamily and TransformedDistribution
(values, shapes, repr, moments, cdf, sampling shapes and gradients) with float64 and float32 parameters."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch
from _dist_cases import assert_close, host, same_repr

LD = lamina.distributions
TD = torch.distributions


def _build(M, t, kind, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    loc, scale = rng.standard_normal((2, 3)), rng.uniform(0.5, 2, (2, 3))
    if kind == "independent":
        return M.Independent(M.Normal(t(loc), t(scale)), 1), rng.standard_normal((4, 2, 3))
    if kind == "mixture":
        mix = M.Categorical(t(rng.dirichlet(np.ones(3), size=2)))
        return M.MixtureSameFamily(mix, M.Normal(t(loc), t(scale))), rng.standard_normal((4, 2))
    if kind == "mixture_mvn":
        mix = M.Categorical(t(rng.dirichlet(np.ones(3))))
        comp = M.Independent(M.Normal(t(loc.T), t(scale.T)), 1)
        return M.MixtureSameFamily(mix, comp), rng.standard_normal((4, 2))
    if kind == "transformed":
        base = M.Normal(t(loc), t(scale))
        tr = [M.transforms.AffineTransform(t(np.array(1.0)), t(np.array(2.0))), M.transforms.ExpTransform()]
        return M.TransformedDistribution(base, tr), rng.uniform(0.5, 4, (4, 2, 3))
    if kind == "transformed_event":
        base = M.Independent(M.Normal(t(loc), t(scale)), 1)
        return M.TransformedDistribution(base, M.transforms.StickBreakingTransform()), \
            rng.dirichlet(np.ones(4), size=(4, 2))
    raise KeyError(kind)


KINDS = ["independent", "mixture", "mixture_mvn", "transformed", "transformed_event"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", KINDS)
def test_composite_matches_torch(kind, dtype):
    def tt(a):
        return torch.tensor(np.asarray(a, dtype=dtype))

    def lt(a):
        return lamina.tensor(np.asarray(a, dtype=dtype))

    td, x = _build(TD, tt, kind)
    ld, _ = _build(LD, lt, kind)
    x = x.astype(dtype)
    assert tuple(ld.batch_shape) == tuple(td.batch_shape)
    assert tuple(ld.event_shape) == tuple(td.event_shape)
    assert same_repr(repr(td), repr(ld)), (repr(td), repr(ld))
    assert_close(ld.log_prob(lt(x)), td.log_prob(tt(x)), dtype)
    for attr in ["mean", "variance"]:
        try:
            want = getattr(td, attr)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                getattr(ld, attr)
            continue
        assert_close(getattr(ld, attr), want, dtype)
    if kind in ("mixture", "transformed"):
        assert_close(ld.cdf(lt(x)), td.cdf(tt(x)), dtype)
    lamina.manual_seed(0)
    assert tuple(ld.sample((5,)).shape) == tuple(td.sample((5,)).shape)
    assert ld.has_rsample == td.has_rsample
    e_t, e_l = td.expand((3,) + tuple(td.batch_shape)), ld.expand((3,) + tuple(ld.batch_shape))
    assert tuple(e_l.batch_shape) == tuple(e_t.batch_shape)


@pytest.mark.parametrize("kind", KINDS)
def test_composite_log_prob_gradient(kind):
    rng = np.random.default_rng(0)
    loc, scale = rng.standard_normal((2, 3)), rng.uniform(0.5, 2, (2, 3))
    tl, ts = torch.tensor(loc, requires_grad=True), torch.tensor(scale, requires_grad=True)
    ll, ls = lamina.tensor(loc, requires_grad=True), lamina.tensor(scale, requires_grad=True)
    td, x = _build(TD, lambda a: torch.tensor(a), kind)
    ld, _ = _build(LD, lambda a: lamina.tensor(a), kind)
    # rebuild with the leaves in place of loc/scale
    if kind == "independent":
        td, ld = TD.Independent(TD.Normal(tl, ts), 1), LD.Independent(LD.Normal(ll, ls), 1)
    elif kind == "mixture":
        td = TD.MixtureSameFamily(td.mixture_distribution, TD.Normal(tl, ts))
        ld = LD.MixtureSameFamily(ld.mixture_distribution, LD.Normal(ll, ls))
    elif kind == "transformed":
        td, ld = TD.TransformedDistribution(TD.Normal(tl, ts), td.transforms), \
            LD.TransformedDistribution(LD.Normal(ll, ls), ld.transforms)
    else:
        pytest.skip("covered by the value test")
    tg = torch.autograd.grad(td.log_prob(torch.tensor(x)).sum(), [tl, ts])
    lg = lamina.autograd.grad(ld.log_prob(lamina.tensor(x)).sum(), [ll, ls])
    for a, b in zip(lg, tg):
        np.testing.assert_allclose(host(a), b.numpy(), rtol=1e-8, atol=1e-10)


def test_independent_errors():
    n = LD.Normal(lamina.zeros(2), lamina.ones(2))
    with pytest.raises(ValueError):
        TD.Independent(TD.Normal(torch.zeros(2), torch.ones(2)), 2)
    with pytest.raises(ValueError):
        LD.Independent(n, 2)


def test_mixture_errors():
    with pytest.raises(ValueError):
        TD.MixtureSameFamily(TD.Normal(torch.zeros(2), torch.ones(2)), TD.Normal(torch.zeros(2), torch.ones(2)))
    with pytest.raises(ValueError):
        LD.MixtureSameFamily(LD.Normal(lamina.zeros(2), lamina.ones(2)), LD.Normal(lamina.zeros(2), lamina.ones(2)))
