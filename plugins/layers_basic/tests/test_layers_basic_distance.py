"""Distance layers and functions (cosine_similarity, pairwise_distance, their modules) against PyTorch,
small-norm and zero vectors, gradchecks and gradgradchecks, errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import gradcheck, gradgradcheck

COS = [((4, 5), (4, 5), {}), ((4, 5, 3), (4, 5, 3), {"dim": 2}), ((4, 5), (1, 5), {"dim": -1}),
       ((3, 6), (3, 6), {"eps": 0.5}), ((5,), (5,), {"dim": 0})]
PDIST = [((4, 5), (4, 5), {}), ((4, 5), (4, 5), {"p": 1.0}), ((4, 5), (4, 5), {"p": 3.0, "keepdim": True}),
         ((4, 5), (5,), {"p": float("inf")}), ((5,), (5,), {"p": 0.5}), ((3, 2, 4), (3, 2, 4), {"eps": 1e-3})]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn,case", [("cosine_similarity", c) for c in COS] + [("pairwise_distance", c) for c in PDIST],
                         ids=lambda v: str(v))
def test_distance_parity(fn, case, dtype):
    torch = pytest.importorskip("torch")
    s1, s2, kwargs = case
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(s1).astype(dtype), rng.standard_normal(s2).astype(dtype)
    la, lb = lamina.tensor(a, requires_grad=True), lamina.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = getattr(F, fn)(la, lb, **kwargs), getattr(torch.nn.functional, fn)(ta, tb, **kwargs)
    assert y.dtype == la.dtype and tuple(y.shape) == tuple(ty.shape)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    tol = 1e-5 if dtype == "float32" else 1e-10
    for ours, theirs in ((y, ty), (la.grad, ta.grad), (lb.grad, tb.grad)):
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=tol, atol=tol)


def test_cosine_similarity_small_norm_and_zero_vectors_match_torch():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(3).standard_normal((3, 4))
    a[0] = 0.0
    a[1] *= 1e-10
    b = np.random.default_rng(4).standard_normal((3, 4))
    la, ta = lamina.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y = nn.CosineSimilarity(eps=1e-8)(la, lamina.tensor(b))
    ty = torch.nn.CosineSimilarity(eps=1e-8)(ta, torch.tensor(b))
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-8)
    assert np.isfinite(la.grad.numpy()).all()


def test_pairwise_distance_module_and_gradchecks():
    torch = pytest.importorskip("torch")
    assert repr(nn.PairwiseDistance()) == repr(torch.nn.PairwiseDistance())
    assert repr(nn.CosineSimilarity()) == repr(torch.nn.CosineSimilarity())
    m = nn.PairwiseDistance(p=3.0, keepdim=True)
    assert m.norm == 3.0 and m.keepdim
    lamina.manual_seed(0)
    a = lamina.randn(3, 4, dtype=lamina.float64, requires_grad=True)
    b = lamina.randn(3, 4, dtype=lamina.float64, requires_grad=True)
    for p in (1.0, 2.0, 3.0, float("inf")):
        assert gradcheck(lambda u, v, p=p: F.pairwise_distance(u, v, p=p), (a, b))
    assert gradgradcheck(lambda u, v: F.pairwise_distance(u, v, p=2.0), (a, b))
    assert gradcheck(lambda u, v: F.cosine_similarity(u, v), (a, b))
    assert gradgradcheck(lambda u, v: F.cosine_similarity(u, v), (a, b))


DISTANCE_ERRORS = [
    (lambda: F.cosine_similarity(lamina.randn(3, 4), lamina.randn(2, 4)), lamina.ShapeError,
     r"cosine_similarity: expected x1 and x2 broadcastable, got shapes \[3, 4\] and \[2, 4\]"),
    (lambda: F.cosine_similarity(lamina.randn(3, 4), lamina.randn(3, 4), dim=2), IndexError,
     r"cosine_similarity: dim out of range"),
    (lambda: F.pairwise_distance(lamina.randn(3, 4), lamina.randn(3, 5)), lamina.ShapeError,
     r"pairwise_distance: expected x1 and x2 broadcastable"),
]


@pytest.mark.parametrize("call,error,match", DISTANCE_ERRORS, ids=[e[2][:30] for e in DISTANCE_ERRORS])
def test_distance_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
