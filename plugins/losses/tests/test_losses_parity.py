"""Parity with PyTorch (the oracle): same inputs, every reduction and option, values AND input gradients,
in float64 (tight) and float32 (TESTKIT tolerances)."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest

torch = pytest.importorskip("torch")
TF = torch.nn.functional

R = np.random.default_rng(1234)
X, Y = R.standard_normal((6, 5)), R.standard_normal((6, 5))
P, U = R.uniform(0.02, 0.98, (6, 5)), R.uniform(size=(6, 5))
SIGN, SIGN6 = np.sign(R.standard_normal((6, 5))), np.sign(R.standard_normal(6))
IDX = R.integers(0, 5, 6)
W5 = R.uniform(0.5, 2.0, 5)
X4 = R.standard_normal((3, 5, 4, 2))
IDX4 = R.integers(0, 5, (3, 4, 2))
IDX4[0, 0, 0] = IDX4[2, 3, 1] = 2
PROB = R.dirichlet(np.ones(5), 6)
LOGP = np.log(R.dirichlet(np.ones(5), 6))
MLT = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 1, 1, 1], [4, 4, -1, 0, 0], [0, -1, 2, 2, 2],
                [2, 1, 0, 3, -1]])
INT = "int"  # marker: this argument is an integer array (class indices), never differentiated

# (name, lamina fn, torch fn, args as (array, differentiable), kwargs grid)
CASES = [
    ("l1", F.l1_loss, TF.l1_loss, [(X, 1), (Y, 1)], [{}]),
    ("mse", F.mse_loss, TF.mse_loss, [(X, 1), (Y, 1)], [{}]),
    ("smooth_l1", F.smooth_l1_loss, TF.smooth_l1_loss, [(X, 1), (Y, 1)], [{"beta": 0.5}, {"beta": 0.0}, {}]),
    ("huber", F.huber_loss, TF.huber_loss, [(X, 1), (Y, 1)], [{"delta": 0.7}, {}]),
    ("poisson", F.poisson_nll_loss, TF.poisson_nll_loss, [(X, 1), (3 * U, 1)], [{}, {"full": True}]),
    ("poisson_rate", F.poisson_nll_loss, TF.poisson_nll_loss, [(P, 1), (3 * U, 1)],
     [{"log_input": False}, {"log_input": False, "full": True, "eps": 1e-4}]),
    ("gaussian", F.gaussian_nll_loss, TF.gaussian_nll_loss, [(X, 1), (Y, 1), (U + 0.1, 1)],
     [{}, {"full": True}, {"eps": 0.3}]),
    ("gaussian_n1", F.gaussian_nll_loss, TF.gaussian_nll_loss, [(X, 1), (Y, 1), (U[:, :1], 1)], [{"full": True}]),
    ("gaussian_n", F.gaussian_nll_loss, TF.gaussian_nll_loss, [(X, 1), (Y, 1), (U[:, 0], 1)], [{}]),
    ("ce", F.cross_entropy, TF.cross_entropy, [(X, 1), (IDX, INT)],
     [{}, {"label_smoothing": 0.25}, {"ignore_index": 2}, {"ignore_index": 2, "label_smoothing": 0.1},
      {"weight": W5}, {"weight": W5, "ignore_index": 1, "label_smoothing": 0.3}]),
    ("ce_kdim", F.cross_entropy, TF.cross_entropy, [(X4, 1), (IDX4, INT)],
     [{}, {"weight": W5, "ignore_index": 2, "label_smoothing": 0.2}]),
    ("ce_unbatched", F.cross_entropy, TF.cross_entropy, [(X[0], 1), (IDX[0], INT)],
     [{}, {"weight": W5, "label_smoothing": 0.2}]),
    ("ce_prob", F.cross_entropy, TF.cross_entropy, [(X, 1), (PROB, 1)],
     [{}, {"label_smoothing": 0.2}, {"weight": W5, "label_smoothing": 0.1}]),
    ("ce_prob_kdim", F.cross_entropy, TF.cross_entropy, [(X4, 1), (np.moveaxis(R.dirichlet(np.ones(5), (3, 4, 2)),
                                                                               -1, 1), 1)], [{"weight": W5}]),
    ("nll", F.nll_loss, TF.nll_loss, [(LOGP, 1), (IDX, INT)], [{}, {"weight": W5}, {"weight": W5, "ignore_index": 0}]),
    ("nll_kdim", F.nll_loss, TF.nll_loss, [(X4, 1), (IDX4, INT)], [{"weight": W5, "ignore_index": 2}]),
    ("nll_unbatched", F.nll_loss, TF.nll_loss, [(LOGP[0], 1), (IDX[0], INT)], [{}]),
    ("bce", F.binary_cross_entropy, TF.binary_cross_entropy, [(P, 1), (U, 1)], [{}, {"weight": W5}]),
    ("bce_logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits, [(8 * X, 1), (U, 1)],
     [{}, {"weight": W5}, {"pos_weight": W5}, {"weight": U[0], "pos_weight": W5}]),
    ("soft_margin", F.soft_margin_loss, TF.soft_margin_loss, [(X, 1), (SIGN, 0)], [{}]),
    ("multilabel_soft_margin", F.multilabel_soft_margin_loss, TF.multilabel_soft_margin_loss,
     [(X, 1), (np.round(U), 0)], [{}, {"weight": W5}]),
    ("kl", F.kl_div, TF.kl_div, [(LOGP, 1), (PROB, 1)], [{}, {}]),
    ("kl_log", F.kl_div, TF.kl_div, [(LOGP, 1), (np.log(PROB), 1)], [{"log_target": True}]),
    ("margin_ranking", F.margin_ranking_loss, TF.margin_ranking_loss, [(X[:, 0], 1), (Y[:, 0], 1), (SIGN6, 0)],
     [{}, {"margin": 0.4}]),
    ("hinge_embedding", F.hinge_embedding_loss, TF.hinge_embedding_loss, [(X, 1), (SIGN, 0)], [{}, {"margin": 0.3}]),
    ("cosine_embedding", F.cosine_embedding_loss, TF.cosine_embedding_loss, [(X, 1), (Y, 1), (SIGN6, 0)],
     [{}, {"margin": 0.2}, {"margin": -0.3}]),
    ("cosine_embedding_1d", F.cosine_embedding_loss, TF.cosine_embedding_loss, [(X[0], 1), (Y[0], 1),
                                                                                (SIGN6[1], 0)], [{}]),
    ("multi_margin", F.multi_margin_loss, TF.multi_margin_loss, [(X, 1), (IDX, INT)],
     [{}, {"p": 2}, {"margin": 0.4, "weight": W5}, {"p": 2, "weight": W5}]),
    ("multi_margin_1d", F.multi_margin_loss, TF.multi_margin_loss, [(X[0], 1), (IDX[0], INT)], [{}]),
    ("multilabel_margin", F.multilabel_margin_loss, TF.multilabel_margin_loss, [(X, 1), (MLT, INT)], [{}]),
    ("multilabel_margin_1d", F.multilabel_margin_loss, TF.multilabel_margin_loss, [(X[0], 1), (MLT[0], INT)], [{}]),
    ("triplet", F.triplet_margin_loss, TF.triplet_margin_loss, [(X, 1), (Y, 1), (U, 1)],
     [{}, {"swap": True}, {"p": 1}, {"p": 3, "margin": 2.0, "swap": True}, {"eps": 1e-3}]),
    ("triplet_1d", F.triplet_margin_loss, TF.triplet_margin_loss, [(X[0], 1), (Y[0], 1), (U[0], 1)], [{}]),
    ("triplet_distance", F.triplet_margin_with_distance_loss, TF.triplet_margin_with_distance_loss,
     [(X, 1), (Y, 1), (U, 1)], [{}, {"swap": True, "margin": 2.0}]),
]
GRID = [(c[0], c[1], c[2], c[3], kw, r) for c in CASES for kw in c[4] for r in ("none", "mean", "sum")]


def _kw(kw, lib, dtype):
    out = {}
    for k, v in kw.items():
        if isinstance(v, np.ndarray):
            v = lamina.tensor(v.astype(dtype)) if lib == "lamina" else torch.tensor(v.astype(dtype))
        out[k] = v
    return out


def _run(fn, lib, args, kw, dtype):
    make = lamina.tensor if lib == "lamina" else torch.tensor
    ts = [make(np.asarray(a)) if d == INT else make(np.asarray(a, dtype=dtype), requires_grad=bool(d))
          for a, d in args]
    out = fn(*ts, **kw)
    g = np.linspace(0.5, 1.5, max(out.numel(), 1)).reshape(tuple(out.shape)).astype(dtype)
    (out * (lamina.tensor(g) if lib == "lamina" else torch.tensor(g))).sum().backward()
    grads = [None if t.grad is None else (t.grad.array if lib == "lamina" else t.grad.numpy())
             for t, (_, d) in zip(ts, args) if d != INT and d]
    return (out.detach().array if lib == "lamina" else out.detach().numpy()), grads


def _id(g) -> str:
    opts = "-".join(f"{k}={'w' if isinstance(v, np.ndarray) else v}" for k, v in g[4].items())
    return f"{g[0]}-{opts}-{g[5]}"


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,lf,tf,args,kw,reduction", GRID, ids=[_id(g) for g in GRID])
def test_losses_parity_with_torch(name, lf, tf, args, kw, reduction, dtype):
    if name.startswith("kl") and reduction == "mean":
        reduction = "batchmean"  # 'mean' warns in both libraries (checked in numerics)
    rtol, atol = (1e-10, 1e-12) if dtype == "float64" else (1e-4, 1e-5)
    out, grads = _run(lf, "lamina", args, {**_kw(kw, "lamina", dtype), "reduction": reduction}, dtype)
    t_out, t_grads = _run(tf, "torch", args, {**_kw(kw, "torch", dtype), "reduction": reduction}, dtype)
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out, t_out, rtol=rtol, atol=atol, err_msg=f"{name} value")
    for k, (g, tg) in enumerate(zip(grads, t_grads)):
        assert (g is None) == (tg is None), f"{name}: grad {k} is {g} in lamina, {tg} in torch"
        if g is not None:
            np.testing.assert_allclose(g, tg, rtol=rtol, atol=atol, err_msg=f"{name} grad {k}")


def _ctc_inputs(T, N, C, S, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C))
    return x, rng.integers(1, C, (N, S))


CTC_GRID = [
    # T, N, C, S, input_lengths, target_lengths, concatenated, options
    (12, 3, 5, 4, [12, 10, 7], [4, 2, 3], False, {}),
    (12, 3, 5, 4, [12, 10, 7], [4, 0, 3], True, {}),
    (15, 4, 6, 5, [15, 9, 12, 6], [5, 1, 3, 2], False, {"blank": 3}),
    (8, 3, 4, 4, [8, 3, 8], [4, 3, 2], False, {"zero_infinity": True}),  # sample 1 is infeasible (inf)
    (10, 1, 4, 3, [10], [3], True, {}),
]


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("case", CTC_GRID, ids=[f"T{c[0]}N{c[1]}-{c[7]}-{'cat' if c[6] else 'pad'}" for c in CTC_GRID])
def test_losses_ctc_parity_with_torch(case, reduction):
    T, N, C, S, il, tl, concat, opts = case
    x, tg = _ctc_inputs(T, N, C, S, 7)
    if opts.get("blank", 0):
        tg = np.where(tg == opts["blank"], 0, tg)
    if concat:
        tg = np.concatenate([tg[n, :tl[n]] for n in range(N)])
    for dtype, (rtol, atol) in (("float64", (1e-9, 1e-10)), ("float32", (1e-4, 1e-5))):
        res = []
        for lib, make, fn, logsm in ((("lamina", lamina.tensor, F.ctc_loss, lamina.log_softmax)),
                                     ("torch", torch.tensor, TF.ctc_loss, torch.log_softmax)):
            xt = make(x.astype(dtype), requires_grad=True)
            lp = logsm(xt, -1)  # gradients checked through log_softmax (the documented use) and on log_probs
            lp.retain_grad()
            out = fn(lp, make(tg), make(np.array(il)), make(np.array(tl)), reduction=reduction, **opts)
            out.sum().backward()
            arr = (lambda t: t.detach().array) if lib == "lamina" else (lambda t: t.detach().numpy())
            res.append((arr(out), arr(xt.grad), arr(lp.grad)))
        for a, b in zip(*res):
            assert a.dtype == np.dtype(dtype)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
