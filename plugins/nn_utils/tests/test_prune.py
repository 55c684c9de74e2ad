"""lamina.nn.utils.prune against torch.nn.utils.prune: same weights (distinct magnitudes, so the ranking
is unique), then masks, pruned values, state_dict keys, forward outputs, gradients, remove and errors.
The random methods are checked for what is not random: counts, structure, keys."""

from __future__ import annotations

import copy

import lamina
import lamina.nn.utils.prune as LPr
import numpy as np
import pytest
import torch
import torch.nn.utils.prune as TPr


def _np(t):
    return np.asarray(t.detach().numpy())


def _close(a, b, tol=1e-12):
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _distinct(shape, seed):
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    v = (rng.permutation(n) + 1.0) / n * np.where(rng.random(n) < 0.5, -1.0, 1.0)
    return v.reshape(shape)


def _pair(kind="Linear", args=(5, 4), seed=0):
    lm = getattr(lamina.nn, kind)(*args, dtype=lamina.float64)
    tm = getattr(torch.nn, kind)(*args, dtype=torch.float64)
    for i, ((_, lp), (_, tp)) in enumerate(zip(lm.named_parameters(), tm.named_parameters(), strict=True)):
        v = _distinct(tuple(tp.shape), seed + i)
        with lamina.no_grad():
            lp.copy_(lamina.tensor(v))
        with torch.no_grad():
            tp.copy_(torch.tensor(v))
    return lm, tm


def _same_state(lm, tm):
    assert list(lm.state_dict()) == list(tm.state_dict())
    for k, v in tm.state_dict().items():
        _close(lm.state_dict()[k], v)
    assert [n for n, _ in lm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert [n for n, _ in lm.named_buffers()] == [n for n, _ in tm.named_buffers()]


def _same_forward_backward(lm, tm, xshape):
    x = _distinct(xshape, 99)
    lo, to = lm(lamina.tensor(x)), tm(torch.tensor(x))
    _close(lo, to)
    (lo ** 2).sum().backward()
    (to ** 2).sum().backward()
    for (_, lp), (_, tp) in zip(lm.named_parameters(), tm.named_parameters(), strict=True):
        _close(lp.grad, tp.grad)


@pytest.mark.parametrize("amount", [0, 3, 0.3, 1.0])
@pytest.mark.parametrize("name", ["weight", "bias"])
def test_l1_unstructured(name, amount):
    lm, tm = _pair()
    LPr.l1_unstructured(lm, name, amount)
    TPr.l1_unstructured(tm, name, amount)
    _same_state(lm, tm)
    _close(getattr(lm, name), getattr(tm, name))
    assert LPr.is_pruned(lm) and TPr.is_pruned(tm)
    _same_forward_backward(lm, tm, (3, 5))


@pytest.mark.parametrize("n", [1, 2, float("inf"), -float("inf")])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("amount", [1, 0.5])
def test_ln_structured(amount, dim, n):
    lm, tm = _pair("Conv2d", (3, 4, 2))
    LPr.ln_structured(lm, "weight", amount, n, dim)
    TPr.ln_structured(tm, "weight", amount, n, dim)
    _same_state(lm, tm)
    _same_forward_backward(lm, tm, (1, 3, 4, 4))


def test_importance_scores_and_custom_mask():
    lm, tm = _pair()
    s = _distinct((4, 5), 7)
    LPr.l1_unstructured(lm, "weight", 6, importance_scores=lamina.tensor(s))
    TPr.l1_unstructured(tm, "weight", 6, importance_scores=torch.tensor(s))
    _same_state(lm, tm)
    mask = (np.arange(4) % 2).astype(np.float64)
    LPr.custom_from_mask(lm, "bias", lamina.tensor(mask))
    TPr.custom_from_mask(tm, "bias", torch.tensor(mask))
    _same_state(lm, tm)
    LPr.identity(lm, "weight")
    TPr.identity(tm, "weight")
    _same_state(lm, tm)
    _same_forward_backward(lm, tm, (2, 5))


def test_iterative_pruning_container():
    lm, tm = _pair("Conv2d", (3, 4, 2))
    for P, m in ((LPr, lm), (TPr, tm)):
        P.l1_unstructured(m, "weight", 0.2)
        P.ln_structured(m, "weight", 1, 2, 0)
        P.l1_unstructured(m, "weight", 5)
        hooks = [h for h in m._forward_pre_hooks.values() if isinstance(h, P.BasePruningMethod)]
        assert len(hooks) == 1 and isinstance(hooks[0], P.PruningContainer) and len(hooks[0]) == 3
        assert [type(h).__name__ for h in hooks[0]] == ["L1Unstructured", "LnStructured", "L1Unstructured"]
    _same_state(lm, tm)
    _same_forward_backward(lm, tm, (1, 3, 3, 3))


def test_global_unstructured():
    lm, tm = _pair("Conv2d", (2, 3, 2))
    lm2, tm2 = _pair("Linear", (4, 3), seed=5)
    LPr.global_unstructured([(lm, "weight"), (lm2, "weight"), (lm2, "bias")], LPr.L1Unstructured, amount=0.4)
    TPr.global_unstructured([(tm, "weight"), (tm2, "weight"), (tm2, "bias")], TPr.L1Unstructured, amount=0.4)
    _same_state(lm, tm)
    _same_state(lm2, tm2)
    for P, m in ((LPr, lm), (TPr, tm)):
        with pytest.raises(TypeError, match='Only "unstructured" PRUNING_TYPE supported'):
            P.global_unstructured([(m, "bias")], P.LnStructured, amount=1, n=2, dim=0)
        with pytest.raises(TypeError, match="parameters is not an Iterable"):
            P.global_unstructured(3, P.L1Unstructured, amount=1)
        with pytest.raises(TypeError, match="importance_scores must be of type dict"):
            P.global_unstructured([(m, "bias")], P.L1Unstructured, importance_scores=[1], amount=1)


@pytest.mark.parametrize("prune_twice", [False, True])
def test_remove(prune_twice):
    lm, tm = _pair()
    for P, m in ((LPr, lm), (TPr, tm)):
        w = m.weight
        P.l1_unstructured(m, "weight", 0.5)
        if prune_twice:
            P.l1_unstructured(m, "weight", 2)
        P.remove(m, "weight")
        assert m.weight is w
        assert not P.is_pruned(m)
    _same_state(lm, tm)
    for P, m in ((LPr, lm), (TPr, tm)):
        with pytest.raises(ValueError, match="has to be pruned before pruning can be removed"):
            P.remove(m, "weight")


def test_random_methods_structure():
    lamina.manual_seed(0)
    lm, tm = _pair("Conv2d", (3, 4, 2))
    LPr.random_unstructured(lm, "weight", 10)
    TPr.random_unstructured(tm, "weight", 10)
    assert list(lm.state_dict()) == list(tm.state_dict())
    assert int((_np(lm.weight_mask) == 0).sum()) == 10
    np.testing.assert_array_equal(_np(lm.weight), _np(lm.weight_orig) * _np(lm.weight_mask))
    lm2, tm2 = _pair("Conv2d", (3, 4, 2))
    LPr.random_structured(lm2, "weight", 2, dim=0)
    TPr.random_structured(tm2, "weight", 2, dim=0)
    assert list(lm2.state_dict()) == list(tm2.state_dict())
    per_channel = _np(lm2.weight_mask).reshape(4, -1)
    assert sorted(per_channel.min(1) == per_channel.max(1)) == [True] * 4
    assert int((per_channel.sum(1) == 0).sum()) == 2


def test_errors_match_torch():
    lm, tm = _pair()
    cases = [
        (lambda P, m: P.l1_unstructured(m, "weight", -1), ValueError, "should either be a float in the range"),
        (lambda P, m: P.l1_unstructured(m, "weight", 1.5), ValueError, "should either be a float in the range"),
        (lambda P, m: P.l1_unstructured(m, "weight", "a"), TypeError, "Invalid type for amount: a"),
        (lambda P, m: P.l1_unstructured(m, "weight", 21), ValueError, "amount=21 should be smaller than the number"),
        (lambda P, m: P.ln_structured(m, "bias", 1, 2, 0), ValueError, "Structured pruning can only be applied"),
        (lambda P, m: P.ln_structured(m, "weight", 1, 2, 2), IndexError, "Invalid index 2 for tensor of size"),
    ]
    for fn, exc, match in cases:
        for P, m in ((LPr, lm), (TPr, tm)):
            with pytest.raises(exc, match=match):
                fn(P, m)
            assert not P.is_pruned(m) and "weight" in m._parameters  # rolled back
    for P in (LPr, TPr):
        with pytest.raises(TypeError):
            P.BasePruningMethod()


def test_prune_method_directly():
    t = _distinct((3, 4), 3)
    lo = LPr.L1Unstructured(amount=4).prune(lamina.tensor(t))
    to = TPr.L1Unstructured(amount=4).prune(torch.tensor(t))
    _close(lo, to)
    lo = LPr.LnStructured(amount=1, n=1, dim=1).prune(lamina.tensor(t))
    to = TPr.LnStructured(amount=1, n=1, dim=1).prune(torch.tensor(t))
    _close(lo, to)


def test_load_state_dict_and_deepcopy():
    lm, tm = _pair(seed=20)
    LPr.l1_unstructured(lm, "weight", 7)
    TPr.l1_unstructured(tm, "weight", 7)
    lm2, tm2 = _pair(seed=21)
    LPr.identity(lm2, "weight")
    TPr.identity(tm2, "weight")
    lm2.load_state_dict(lm.state_dict())
    tm2.load_state_dict(tm.state_dict())
    _same_forward_backward(lm2, tm2, (2, 5))
    x = _distinct((2, 5), 3)
    _close(lm2(lamina.tensor(x)), tm(torch.tensor(x)))
    with pytest.raises(RuntimeError, match="only Tensors created explicitly by the user"):
        copy.deepcopy(lm)
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(tm)
