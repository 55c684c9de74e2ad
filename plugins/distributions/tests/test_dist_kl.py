"""kl_divergence against torch's for every pair torch registers (float64, batched, the registered function
itself and through dispatch), gradients of KL w.r.t. parameters, register_kl with user classes, the
ambiguity warning, and NotImplementedError for an unregistered pair."""

from __future__ import annotations

import lamina
import lamina_distributions.kl as lkl
import numpy as np
import pytest
import torch
import torch.distributions.kl as tkl
from _dist_cases import build, build_leaves, case, host

LD = lamina.distributions
TD = torch.distributions

PAIRS = sorted({(p.__name__, q.__name__) for p, q in tkl._KL_REGISTRY})


def _instance(module, cls_name, seed, requires_grad=False):
    """(a distribution of class cls_name, its leaf parameters); the abstract classes get concrete members."""
    if cls_name == "ExponentialFamily":
        cls_name = "Normal"
    if cls_name == "Independent":
        d, leaves = build_leaves(module, "Normal", case("Normal", seed=seed)[0], requires_grad)
        return module.Independent(d, 1), leaves
    if cls_name == "TransformedDistribution":
        cls_name = "LogNormal"
    return build_leaves(module, cls_name, case(cls_name, seed=seed)[0], requires_grad)


def _registered(registry, p, q):
    return next(f for (a, b), f in registry.items() if a.__name__ == p and b.__name__ == q)


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p}-{q}" for p, q in PAIRS])
def test_kl_matches_torch(pair):
    p_name, q_name = pair
    tp, tq = _instance(TD, p_name, 0)[0], _instance(TD, q_name, 1)[0]
    lp, lq = _instance(LD, p_name, 0)[0], _instance(LD, q_name, 1)[0]
    want = _registered(tkl._KL_REGISTRY, p_name, q_name)(tp, tq)
    got = _registered(lkl._KL_REGISTRY, p_name, q_name)(lp, lq)
    assert tuple(got.shape) == tuple(want.shape)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_allclose(host(got), host(want), rtol=1e-7, atol=1e-9, equal_nan=True)
    if p_name not in ("ExponentialFamily",) and q_name not in ("ExponentialFamily",):
        np.testing.assert_allclose(host(LD.kl_divergence(lp, lq)), TD.kl_divergence(tp, tq).numpy(),
                                   rtol=1e-7, atol=1e-9, equal_nan=True)


def test_registries_have_the_same_pairs():
    assert sorted({(p.__name__, q.__name__) for p, q in lkl._KL_REGISTRY}) == PAIRS


@pytest.mark.parametrize("pair", [("Normal", "Normal"), ("Gamma", "Gamma"), ("Beta", "Beta"),
                                  ("Dirichlet", "Dirichlet"), ("MultivariateNormal", "MultivariateNormal"),
                                  ("Categorical", "Categorical"), ("Laplace", "Normal"),
                                  ("LowRankMultivariateNormal", "MultivariateNormal"), ("Bernoulli", "Bernoulli")])
def test_kl_gradients_match_torch(pair):
    tp, tpl = _instance(TD, pair[0], 0, True)
    tq, tql = _instance(TD, pair[1], 1, True)
    lp, lpl = _instance(LD, pair[0], 0, True)
    lq, lql = _instance(LD, pair[1], 1, True)
    tleaves, lleaves = list(tpl.values()) + list(tql.values()), list(lpl.values()) + list(lql.values())
    tg = torch.autograd.grad(TD.kl_divergence(tp, tq).sum(), tleaves, allow_unused=True)
    lg = lamina.autograd.grad(LD.kl_divergence(lp, lq).sum(), lleaves, allow_unused=True)
    for i, (a, b) in enumerate(zip(lg, tg)):
        if b is None:
            continue
        np.testing.assert_allclose(host(a), b.numpy(), rtol=1e-7, atol=1e-9, err_msg=str(i))


def test_kl_self_is_zero_and_expanded_batch():
    d = build(LD, "Gamma", case("Gamma")[0])
    np.testing.assert_allclose(host(LD.kl_divergence(d, d)), 0.0, atol=1e-12)
    e = d.expand((2, 3))
    assert tuple(LD.kl_divergence(e, d).shape) == (2, 3)


def test_unregistered_pair_raises():
    p = LD.Normal(lamina.zeros(2), lamina.ones(2))
    q = LD.Poisson(lamina.ones(2))
    with pytest.raises(NotImplementedError):
        TD.kl_divergence(TD.Normal(torch.zeros(2), torch.ones(2)), TD.Poisson(torch.ones(2)))
    with pytest.raises(NotImplementedError):
        LD.kl_divergence(p, q)


def test_register_kl_user_class():
    class MyNormal(LD.Normal):
        pass

    @LD.register_kl(MyNormal, MyNormal)
    def _kl_mine(p, q):
        return lamina.full(p.batch_shape, 42.0)

    try:
        p = MyNormal(lamina.zeros(2), lamina.ones(2))
        np.testing.assert_array_equal(host(LD.kl_divergence(p, p)), [42.0, 42.0])
        # a plain Normal still uses the Normal-Normal rule
        n = LD.Normal(lamina.zeros(2), lamina.ones(2))
        np.testing.assert_allclose(host(LD.kl_divergence(n, p)), 0.0, atol=1e-12)
    finally:
        lkl._KL_REGISTRY.pop((MyNormal, MyNormal), None)
        lkl._KL_MEMOIZE.clear() if hasattr(lkl, "_KL_MEMOIZE") else None


def test_register_kl_rejects_non_classes():
    with pytest.raises(TypeError):
        TD.register_kl(1, TD.Normal)
    with pytest.raises(TypeError):
        LD.register_kl(1, LD.Normal)


def test_ambiguity_warning():
    class A(LD.Normal):
        pass

    class B(LD.Normal):
        pass

    class AB(A, B):
        pass

    @LD.register_kl(A, LD.Normal)
    def _ka(p, q):
        return lamina.zeros(p.batch_shape)

    @LD.register_kl(LD.Normal, B)
    def _kb(p, q):
        return lamina.ones(p.batch_shape)

    try:
        p = A(lamina.zeros(1), lamina.ones(1))
        q = B(lamina.zeros(1), lamina.ones(1))
        with pytest.warns(RuntimeWarning, match="Ambiguous kl_divergence"):
            LD.kl_divergence(p, q)
    finally:
        lkl._KL_REGISTRY.pop((A, LD.Normal), None)
        lkl._KL_REGISTRY.pop((LD.Normal, B), None)
        lkl._KL_MEMOIZE.clear() if hasattr(lkl, "_KL_MEMOIZE") else None
