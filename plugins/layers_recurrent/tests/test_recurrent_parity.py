"""RNN / LSTM / GRU vs PyTorch over the option grid: outputs, final states, gradients of the input,
the initial states and every weight (same weights, copied from lamina into torch)."""

from __future__ import annotations

import itertools

import lamina
import numpy as np
import pytest
from _layers_recurrent_helpers import compare, pair, twins

MODELS = [
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu"}),
    ("LSTM", {}),
    ("LSTM", {"proj_size": 3}),
    ("GRU", {}),
]
# torch's oneDNN path declines projections with a warning; the default path it falls back to is the oracle
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")

GRID = list(itertools.product(range(len(MODELS)), [1, 2], [True, False], [False, True], [False, True],
                              [False, True]))


def _ids(c):
    k, layers, bias, bf, bidir, h0 = c
    name, extra = MODELS[k]
    tag = "-".join(f"{a}={b}" for a, b in extra.items())
    return f"{name}{'-' + tag if tag else ''}-L{layers}-bias{int(bias)}-bf{int(bf)}-bi{int(bidir)}-h0{int(h0)}"


def _states(rng, name, kw, layers, D, N, dtype, unbatched=False):
    H = kw["hidden_size"]
    P = kw.get("proj_size", 0) or H
    lead = (layers * D,) if unbatched else (layers * D, N)
    h = rng.standard_normal(lead + (P,)).astype(dtype)
    if name == "LSTM":
        return [h, rng.standard_normal(lead + (H,)).astype(dtype)]
    return [h]


def _run(torch, name, kw, dtype, x_shape, with_h0, seed=0):
    rng = np.random.default_rng(seed)
    m, t = twins(torch, name, dtype, **kw)
    D = 2 if kw.get("bidirectional") else 1
    unbatched = len(x_shape) == 2
    N = 1 if unbatched else (x_shape[0] if kw.get("batch_first") else x_shape[1])
    lx, tx = pair(torch, rng.standard_normal(x_shape).astype(dtype))
    lam_in, tch_in = [lx], [tx]
    largs, targs = [lx], [tx]
    if with_h0:
        sts = [pair(torch, s) for s in _states(rng, name, kw, kw.get("num_layers", 1), D, N, dtype, unbatched)]
        lam_in += [s[0] for s in sts]
        tch_in += [s[1] for s in sts]
        if name == "LSTM":
            largs.append((sts[0][0], sts[1][0]))
            targs.append((sts[0][1], sts[1][1]))
        else:
            largs.append(sts[0][0])
            targs.append(sts[0][1])
    compare(m(*largs), t(*targs), lam_in, tch_in, m, t, dtype, rng)


@pytest.mark.parametrize("case", GRID, ids=_ids)
def test_recurrent_matches_torch_grid(case):
    torch = pytest.importorskip("torch")
    k, layers, bias, bf, bidir, with_h0 = case
    name, extra = MODELS[k]
    hidden = 5 if "proj_size" in extra else 4
    kw = dict(input_size=3, hidden_size=hidden, num_layers=layers, bias=bias, batch_first=bf,
              bidirectional=bidir, **extra)
    x_shape = (2, 6, 3) if bf else (6, 2, 3)
    _run(torch, name, kw, "float64", x_shape, with_h0)


@pytest.mark.parametrize("name,extra", MODELS, ids=[m[0] + str(i) for i, m in enumerate(MODELS)])
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("with_h0", [False, True])
def test_recurrent_unbatched_matches_torch(name, extra, bidir, with_h0):
    torch = pytest.importorskip("torch")
    kw = dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=bidir, batch_first=True, **extra)
    _run(torch, name, kw, "float64", (7, 3), with_h0)


@pytest.mark.parametrize("name,extra", MODELS, ids=[m[0] + str(i) for i, m in enumerate(MODELS)])
def test_recurrent_float32_matches_torch(name, extra):
    torch = pytest.importorskip("torch")
    kw = dict(input_size=8, hidden_size=16, num_layers=2, bidirectional=True, **extra)
    _run(torch, name, kw, "float32", (12, 4, 8), True)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_long_saturating_inputs_match_torch(name):
    """Large pre-activations (saturated gates): overflow-free sigmoid, same values as torch."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    m, t = twins(torch, name, "float32", input_size=4, hidden_size=6)
    x = (rng.standard_normal((30, 2, 4)) * 200).astype("float32")
    lx, tx = pair(torch, x)
    # weight gradients sum float32 terms of size ~1e2 (x ~ 200) into values ~1e-1: atol follows the terms
    compare(m(lx), t(tx), [lx], [tx], m, t, "float32", rng, tol=dict(rtol=1e-4, atol=1e-3))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_recurrent_zero_length_and_zero_batch(name):
    torch = pytest.importorskip("torch")
    m, t = twins(torch, name, "float64", input_size=3, hidden_size=4, num_layers=2, batch_first=True)
    y, h = m(lamina.zeros(0, 5, 3, dtype=lamina.float64))
    ty, th = t(torch.zeros(0, 5, 3, dtype=torch.float64))
    assert tuple(y.shape) == tuple(ty.shape)
    hs = h if isinstance(h, tuple) else (h,)
    ths = th if isinstance(th, tuple) else (th,)
    for a, b in zip(hs, ths):
        assert tuple(a.shape) == tuple(b.shape)
