"""NumPy float64 references of every loss, written from the documented formulas (for the kit and tests).

Each takes ``(params, *args, reduction=..., **options)``: ``params`` holds the module's buffers
(``weight``, ``pos_weight``) as float64 arrays, ``options`` its constructor arguments.
"""

from __future__ import annotations

import math

import numpy as np


def _red(loss, reduction):
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _w(params, name="weight"):
    w = (params or {}).get(name)
    return None if w is None else np.asarray(w, dtype=np.float64)


def l1(params, x, y, reduction="mean", **_):
    return _red(np.abs(x - y), reduction)


def mse(params, x, y, reduction="mean", **_):
    return _red((x - y) ** 2, reduction)


def smooth_l1(params, x, y, reduction="mean", beta=1.0, **_):
    d = np.abs(x - y)
    return _red(d if beta == 0 else np.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def huber(params, x, y, reduction="mean", delta=1.0, **_):
    d = np.abs(x - y)
    return _red(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def poisson_nll(params, x, y, reduction="mean", log_input=True, full=False, eps=1e-8, **_):
    loss = np.exp(x) - y * x if log_input else x - y * np.log(x + eps)
    if full:
        ys = np.where(y > 1, y, 1.0)
        loss = loss + np.where(y > 1, ys * np.log(ys) - ys + 0.5 * np.log(2 * math.pi * ys), 0.0)
    return _red(loss, reduction)


def gaussian_nll(params, x, y, var, reduction="mean", full=False, eps=1e-6, **_):
    if var.ndim == x.ndim - 1:
        var = var[..., None]
    var = np.maximum(var, eps)
    loss = 0.5 * (np.log(var) + (x - y) ** 2 / var) + (0.5 * math.log(2 * math.pi) if full else 0.0)
    return _red(loss, reduction)


def _log_softmax(x):
    m = x.max(axis=1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))


def cross_entropy(params, x, t, reduction="mean", ignore_index=-100, label_smoothing=0.0, **_):
    w = _w(params)
    unbatched = x.ndim == 1
    if unbatched:
        x, t = x[None], np.asarray(t)[None]
    C, eps = x.shape[1], label_smoothing
    logp = _log_softmax(x)
    wb = np.ones(C) if w is None else w
    wb = wb.reshape((1, C) + (1,) * (x.ndim - 2))
    if t.dtype.kind == "f":
        q = t * (1 - eps) + eps / C
        loss = -(logp * q * wb).sum(axis=1)
        out = loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
    else:
        valid = t != ignore_index
        tc = np.where(valid, t, 0)
        w_t = np.ones(t.shape) if w is None else w[tc]
        nll = -w_t * np.take_along_axis(logp, tc[:, None], axis=1)[:, 0]
        smooth = -(logp * wb).sum(axis=1)
        loss = np.where(valid, (1 - eps) * nll + eps / C * smooth, 0.0)
        denom = np.where(valid, w_t, 0.0).sum()
        out = loss.sum() / denom if reduction == "mean" else loss.sum() if reduction == "sum" else loss
    return out[0] if unbatched and reduction == "none" else out


def nll(params, x, t, reduction="mean", ignore_index=-100, **_):
    w = _w(params)
    unbatched = x.ndim == 1
    if unbatched:
        x, t = x[None], np.asarray(t)[None]
    valid = t != ignore_index
    tc = np.where(valid, t, 0)
    w_t = np.where(valid, np.ones(t.shape) if w is None else w[tc], 0.0)
    loss = -w_t * np.take_along_axis(x, tc[:, None], axis=1)[:, 0]
    out = loss.sum() / w_t.sum() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
    return out[0] if unbatched and reduction == "none" else out


def bce(params, x, y, reduction="mean", **_):
    w = _w(params)
    loss = -(y * np.maximum(np.log(x), -100) + (1 - y) * np.maximum(np.log(1 - x), -100))
    return _red(loss if w is None else loss * w, reduction)


def bce_with_logits(params, x, y, reduction="mean", **_):
    w, pw = _w(params), _w(params, "pos_weight")
    sp = np.logaddexp(0, -x)
    loss = (1 - y) * x + (1 if pw is None else 1 + (pw - 1) * y) * sp
    return _red(loss if w is None else loss * w, reduction)


def soft_margin(params, x, y, reduction="mean", **_):
    return _red(np.logaddexp(0, -y * x), reduction)


def multilabel_soft_margin(params, x, y, reduction="mean", **_):
    w = _w(params)
    loss = y * np.logaddexp(0, -x) + (1 - y) * np.logaddexp(0, x)
    loss = loss if w is None else loss * w
    return _red(loss.mean(axis=-1), reduction)


def kl_div(params, x, t, reduction="mean", log_target=False, **_):
    if log_target:
        loss = np.exp(t) * (t - x)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            loss = np.where(t > 0, t * np.log(np.where(t > 0, t, 1.0)), 0.0) - t * x
    if reduction == "batchmean":
        return loss.sum() / (x.shape[0] if x.ndim else 1)
    return _red(loss, reduction)


def margin_ranking(params, x1, x2, y, reduction="mean", margin=0.0, **_):
    return _red(np.maximum(0, -y * (x1 - x2) + margin), reduction)


def hinge_embedding(params, x, y, reduction="mean", margin=1.0, **_):
    return _red(np.where(y != 1, np.maximum(0, margin - x), 0) + np.where(y != -1, x, 0), reduction)


def cosine_embedding(params, x1, x2, y, reduction="mean", margin=0.0, **_):
    cos = (x1 * x2).sum(-1) / np.sqrt(((x1 * x1).sum(-1) + 1e-12) * ((x2 * x2).sum(-1) + 1e-12))
    return _red(np.where(y == 1, 1 - cos, 0) + np.where(y == -1, np.maximum(0, cos - margin), 0), reduction)


def multi_margin(params, x, t, reduction="mean", p=1, margin=1.0, **_):
    w = _w(params)
    unbatched = x.ndim == 1
    x2, t2 = (x[None], np.asarray(t)[None]) if unbatched else (x, t)
    N, C = x2.shape
    h = np.maximum(0, margin - x2[np.arange(N), t2][:, None] + x2) ** p
    if w is not None:
        h = h * w[t2][:, None]
    h[np.arange(N), t2] = 0
    loss = h.sum(axis=1) / C
    return _red(loss[0] if unbatched else loss, reduction)


def multilabel_margin(params, x, t, reduction="mean", **_):
    unbatched = x.ndim == 1
    x2, t2 = (x[None], t[None]) if unbatched else (x, t)
    N, C = x2.shape
    loss = np.zeros(N)
    for n in range(N):  # a direct transcription of the definition (reference only)
        labels = []
        for v in t2[n]:
            if v < 0:
                break
            labels.append(int(v))
        others = [i for i in range(C) if i not in labels]
        loss[n] = sum(max(0.0, 1 - (x2[n, j] - x2[n, i])) for j in labels for i in others) / C
    return _red(loss[0] if unbatched else loss, reduction)


def _dist(a, b, p=2.0, eps=1e-6):
    return (np.abs(a - b + eps) ** p).sum(-1) ** (1.0 / p)


def triplet_margin(params, a, pos, neg, reduction="mean", margin=1.0, p=2.0, eps=1e-6, swap=False, **_):
    d_neg = _dist(a, neg, p, eps)
    if swap:
        d_neg = np.minimum(d_neg, _dist(pos, neg, p, eps))
    return _red(np.maximum(0, margin + _dist(a, pos, p, eps) - d_neg), reduction)


def triplet_margin_with_distance(params, a, pos, neg, reduction="mean", margin=1.0, swap=False, **_):
    return triplet_margin(params, a, pos, neg, reduction=reduction, margin=margin, swap=swap)


def ctc(params, lp, targets, il, tl, reduction="mean", blank=0, zero_infinity=False, **_):
    """Direct per-sample alpha recursion (probability space with rescaling avoided: log space, loops)."""
    T, N, C = lp.shape
    il, tl = np.asarray(il).reshape(-1), np.asarray(tl).reshape(-1)
    if targets.ndim == 1:
        starts = np.concatenate([[0], np.cumsum(tl)[:-1]])
        seqs = [targets[s:s + n] for s, n in zip(starts, tl)]
    else:
        seqs = [targets[n, :tl[n]] for n in range(N)]
    losses = np.zeros(N)
    for n in range(N):
        ext = [blank]
        for c in seqs[n]:
            ext += [int(c), blank]
        L = len(ext)
        alpha = np.full(L, -np.inf)
        alpha[0] = lp[0, n, ext[0]]
        if L > 1:
            alpha[1] = lp[0, n, ext[1]]
        for t in range(1, il[n]):
            new = np.full(L, -np.inf)
            for s in range(L):
                terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
                if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                    terms.append(alpha[s - 2])
                new[s] = np.logaddexp.reduce(terms) + lp[t, n, ext[s]]
            alpha = new
        ll = np.logaddexp.reduce(alpha[-2:]) if L > 1 else alpha[-1]
        losses[n] = -ll
    if zero_infinity:
        losses = np.where(np.isinf(losses), 0.0, losses)
    if reduction == "mean":
        return (losses / np.maximum(tl, 1)).mean()
    return losses.sum() if reduction == "sum" else losses
