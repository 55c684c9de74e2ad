"""F.linear_cross_entropy, LinearCrossEntropyLoss and LinearCrossEntropyOptions (torch 2.13 prototypes) against
PyTorch: values and gradients (input, linear weight and bias) for index and probability targets, K-dimensional
linear weights, class weights, ignore_index, label smoothing, every reduction; repr, state_dict; errors and the
options warning."""

from __future__ import annotations

import warnings

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest

torch = pytest.importorskip("torch")

CASES = [({}, (6, 4), (5, 4), "idx"), ({"reduction": "sum", "label_smoothing": 0.2}, (6, 4), (5, 4), "idx"),
         ({"reduction": "none", "ignore_index": 1}, (6, 4), (5, 4), "idx"), ({}, (4,), (5, 4), "idx"),
         ({"reduction": "mean"}, (6, 4), (3, 2, 4), "idx"), ({"label_smoothing": 0.1}, (6, 4), (5, 4), "prob"),
         ({"weight": True}, (6, 4), (5, 4), "idx"), ({"weight": True, "reduction": "none"}, (6, 4), (3, 2, 4), "idx")]


@pytest.mark.parametrize("kw, xs, ws, kind", CASES)
@pytest.mark.parametrize("bias", [False, True])
def test_functional_matches_torch(kw, xs, ws, kind, bias):
    rng = np.random.default_rng(len(xs) + len(ws))
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    b = rng.standard_normal(ws[:-1]) if bias else None
    C, K = ws[0], ws[1:-1]
    if kind == "idx":
        t = rng.integers(0, C, xs[:-1] + K)
        t.flat[0] = kw.get("ignore_index", 0)
    else:
        p = rng.random(xs[:-1] + (C,) + K)
        t = p / p.sum(axis=len(xs) - 1, keepdims=True)
    kw = dict(kw)
    cw = rng.random(C) + 0.5 if kw.pop("weight", False) else None
    L = [None if a is None else lamina.tensor(a, requires_grad=True) for a in (x, w, b)]
    T = [None if a is None else torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ly = F.linear_cross_entropy(L[0], L[1], lamina.tensor(t), linear_bias=L[2],
                                weight=None if cw is None else lamina.tensor(cw), **kw)
    ty = torch.nn.functional.linear_cross_entropy(T[0], T[1], torch.tensor(t), linear_bias=T[2],
                                                  weight=None if cw is None else torch.tensor(cw), **kw)
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(tuple(ty.shape))
    ly.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    for la, ta in zip(L, T):
        if la is not None:
            np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw", [{}, {"bias": True, "out_features": (2,), "reduction": "sum"},
                                {"label_smoothing": 0.3, "ignore_index": 2}])
def test_module_matches_torch(kw):
    lm, tm = nn.LinearCrossEntropyLoss(4, 3, **kw, dtype=lamina.float64), \
        torch.nn.LinearCrossEntropyLoss(4, 3, **kw, dtype=torch.float64)
    assert repr(lm) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in lm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    with torch.no_grad():
        for p, q in zip(lm.parameters(), tm.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4))
    t = rng.integers(0, 3, (5,) + tuple(kw.get("out_features", ())))
    ly, ty = lm(lamina.tensor(x), lamina.tensor(t)), tm(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    ly.sum().backward()
    ty.sum().backward()
    for p, q in zip(lm.parameters(), tm.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_options_values_repr_and_warning():
    lo, to = nn.LinearCrossEntropyOptions(batch_chunk_size=4), torch.nn.LinearCrossEntropyOptions(batch_chunk_size=4)
    assert repr(lo) == repr(to)
    for kw in ({"acc_policy": "x"}, {"batch_chunk_size": 0}):
        with pytest.raises(ValueError):
            torch.nn.LinearCrossEntropyOptions(**kw)
        with pytest.raises(ValueError):
            nn.LinearCrossEntropyOptions(**kw)
    rng = np.random.default_rng(2)
    x, w, t = rng.standard_normal((6, 4)), rng.standard_normal((5, 4)), rng.integers(0, 5, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the supported configuration does not warn
        ly = F.linear_cross_entropy(lamina.tensor(x), lamina.tensor(w), lamina.tensor(t), options=lo)
    ty = torch.nn.functional.linear_cross_entropy(torch.tensor(x), torch.tensor(w), torch.tensor(t), options=to)
    np.testing.assert_allclose(ly.numpy(), ty.numpy(), rtol=1e-10)
    with pytest.warns(UserWarning, match=r"linear_cross_entropy: ``options`` ignored"):
        torch.nn.functional.linear_cross_entropy(torch.tensor(x), torch.tensor(w), torch.tensor(t), options=to,
                                                 label_smoothing=0.1)
    with pytest.warns(UserWarning, match=r"linear_cross_entropy: ``options`` ignored"):
        F.linear_cross_entropy(lamina.tensor(x), lamina.tensor(w), lamina.tensor(t), options=lo, label_smoothing=0.1)


@pytest.mark.parametrize("xs, ws, bs, ts, kw, match", [
    ((2, 3, 4), (5, 4), None, (2, 3), {}, "expected input with dimensionality 1 or 2, got 3"),
    ((6, 4), (4,), None, (6,), {}, "expected linear_weight with dimensionality at least 2, got 1"),
    ((6, 3), (5, 4), None, (6,), {}, "expected equal input and linear_weight last dimensions"),
    ((6, 4), (5, 4), (4,), (6,), {}, r"expected linear_bias shape \(5,\), got \(4,\)"),
    ((4,), (3, 2, 4), None, (2,), {}, "K-dimensional loss defined by linear_weight shape"),
    ((6, 4), (5, 4), None, (6, 5), {"ignore_index": 1}, "ignore_index cannot be specified when target contains"),
])
def test_errors_as_torch(xs, ws, bs, ts, kw, match):
    def args(mod):
        t = mod.zeros(ts, dtype=mod.float64) if len(ts) == 2 and ts[1] == 5 else mod.zeros(ts, dtype=mod.int64)
        return mod.zeros(xs, dtype=mod.float64), mod.zeros(ws, dtype=mod.float64), t, \
            (None if bs is None else mod.zeros(bs, dtype=mod.float64))
    x, w, t, b = args(torch)
    with pytest.raises(RuntimeError, match=match):
        torch.nn.functional.linear_cross_entropy(x, w, t, linear_bias=b, **kw)
    x, w, t, b = args(lamina)
    with pytest.raises(RuntimeError, match=match):
        F.linear_cross_entropy(x, w, t, linear_bias=b, **kw)


def test_module_argument_errors_as_torch():
    for kw, match in (({"weight": "bad"}, r"expected weight shape to be \(3,\), got \(4,\)"),
                      ({"label_smoothing": 1.5}, r"expected label_smoothing to be in range \[0, 1\], got 1.5")):
        tkw = {**kw, "weight": torch.ones(4)} if "weight" in kw else kw
        lkw = {**kw, "weight": lamina.ones(4)} if "weight" in kw else kw
        with pytest.raises(RuntimeError, match=match):
            torch.nn.LinearCrossEntropyLoss(4, 3, **tkw)
        with pytest.raises(RuntimeError, match=match):
            nn.LinearCrossEntropyLoss(4, 3, **lkw)
