"""Connectionist temporal classification loss: forward (alpha) and backward (beta) recursions in log
space, vectorised over the batch and the extended label positions; one Python step per time step.
"""

from __future__ import annotations

from collections.abc import Sequence

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import DTypeError, ShapeError

from ._reduction import _Loss, check_float, quiet, resolve

__lamina_plugin_api__ = "1.0"


def _lse(xp, *arrays):
    """Elementwise log(sum(exp(a))) over the given arrays; -inf where all are -inf."""
    m = arrays[0]
    for a in arrays[1:]:
        m = xp.maximum(m, a)
    m = xp.where(xp.isfinite(m), m, 0)
    total = xp.exp(arrays[0] - m)
    for a in arrays[1:]:
        total = total + xp.exp(a - m)
    return xp.log(total) + m


def _shift(xp, a, k, fill):
    """a[:, s - k] (k > 0: from the left, k < 0: from the right), ``fill`` where out of range."""
    out = xp.full_like(a, fill)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


class CTC(Function):
    """Negative log-likelihood of each target sequence under the CTC alignment model.

    log_probs: (T, N, C), targets: (N, S) int (padded), input_lengths, target_lengths: (N,) int -> (N,)

    The gradient is PyTorch's: ``exp(log_probs) - occupancy``, i.e. it assumes that ``log_probs``
    comes from a log-softmax over C (through which the first term cancels).
    """

    @staticmethod
    def forward(ctx, lp, targets, il, tl, blank, zero_infinity):
        xp = ctx.xp
        T, N, C = lp.shape
        S = targets.shape[1]
        L = 2 * S + 1
        ninf = -xp.inf
        ext = xp.full((N, L), blank, dtype=targets.dtype)                   # blank, l1, blank, l2, ..., blank
        ext[:, 1::2] = targets
        skip = xp.zeros((N, L), dtype=bool)                                 # s may be reached from s - 2
        skip[:, 3::2] = targets[:, 1:] != targets[:, :-1]
        pos = xp.arange(L)[None, :]
        in_seq = pos < (2 * tl + 1)[:, None]
        lp_ext = xp.take_along_axis(lp, xp.broadcast_to(ext[None], (T, N, L)), axis=2)     # (T, N, L)
        with quiet(xp):
            alpha = xp.full((T, N, L), ninf, dtype=lp.dtype)
            first = (pos == 0) | ((pos == 1) & (tl > 0)[:, None])
            alpha[0] = xp.where(first & in_seq, lp_ext[0], ninf)
            for t in range(1, T):
                a = alpha[t - 1]
                a = _lse(xp, a, _shift(xp, a, 1, ninf), xp.where(skip, _shift(xp, a, 2, ninf), ninf)) + lp_ext[t]
                alpha[t] = xp.where(in_seq, a, ninf)
            rows = xp.arange(N)
            t_end = xp.maximum(il - 1, 0)
            a_end = alpha[t_end, rows]                                      # (N, L)
            last = 2 * tl
            a_last = a_end[rows, last]
            a_prev = xp.where(tl > 0, a_end[rows, xp.maximum(last - 1, 0)], ninf)
            nll = -_lse(xp, a_last, a_prev)
            nll = xp.where(il > 0, nll, xp.where(tl > 0, xp.inf, 0)).astype(lp.dtype)
        ctx.save_for_backward(lp)
        ctx.cfg = (alpha, lp_ext, ext, skip, in_seq, il, tl, nll, blank, zero_infinity)
        return xp.where(xp.isinf(nll), 0, nll).astype(lp.dtype) if zero_infinity else nll

    @staticmethod
    def backward(ctx, dy):
        (lp,) = ctx.saved_tensors
        if isinstance(dy, Tensor):  # create_graph: a first-order gradient that refuses to be differentiated again
            return CTCGradient.apply(dy, lp, ctx.cfg), None, None, None, None, None
        return _gradient(ctx.xp, lp, ctx.cfg, dy), None, None, None, None, None


class CTCGradient(Function):
    """d loss / d log_probs as an op of dy; as in PyTorch, it has no derivative (ctc_loss differentiates once).

    dy: (N,), lp: (T, N, C) -> (T, N, C)
    """

    @staticmethod
    def forward(ctx, dy, lp, cfg):
        return _gradient(ctx.xp, lp, cfg, dy)

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("derivative for ctc_loss's backward is not implemented: ctc_loss is differentiable once "
                           "(as in PyTorch)")


def _gradient(xp, lp, cfg, dy):
    """PyTorch's CTC gradient on arrays: exp(lp) - exp(log occupancy + nll - lp), times dy. -> (T, N, C)"""
    alpha, lp_ext, ext, skip, in_seq, il, tl, nll, blank, zero_infinity = cfg
    T, N, C = lp.shape
    L = ext.shape[1]
    ninf = -xp.inf
    pos = xp.arange(L)[None, :]
    last = (2 * tl)[:, None]
    init = (pos == last) | ((pos == last - 1) & (tl > 0)[:, None])
    skip_up = _shift(xp, skip, -2, False)                               # s + 2 may be reached from s
    with quiet(xp):
        beta = xp.full((T, N, L), ninf, dtype=lp.dtype)
        nxt = beta[0].copy()
        for t in range(T - 1, -1, -1):
            rec = _lse(xp, nxt, _shift(xp, nxt, -1, ninf), xp.where(skip_up, _shift(xp, nxt, -2, ninf), ninf))
            rec = xp.where(in_seq, rec + lp_ext[t], ninf)
            here = (il - 1)[:, None]
            b = xp.where(t == here, xp.where(init, lp_ext[t], ninf), xp.where(t < here, rec, ninf))
            beta[t] = b
            nxt = b
        ab = alpha + beta                                               # (T, N, L): both include the emission
        m = ab.max(axis=2, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        onehot = (ext[:, :, None] == xp.arange(C)[None, None, :]).astype(lp.dtype)       # (N, L, C)
        occ = xp.matmul(xp.exp(ab - m).transpose(1, 0, 2), onehot).transpose(1, 0, 2)    # (T, N, C)
        log_occ = xp.log(occ) + m
        grad = xp.exp(lp) - xp.exp(log_occ + nll[None, :, None] - lp)
        live = (xp.arange(T)[:, None] < il[None, :])[:, :, None]
        grad = xp.where(live, grad, 0)
        if zero_infinity:
            grad = xp.where(xp.isinf(nll)[None, :, None], 0, grad)
        grad = grad * dy[None, :, None]
    return grad.astype(lp.dtype)


def _lengths(name: str, arg: str, value, xp, n: int | None):
    if isinstance(value, Tensor):
        if value.array.dtype.kind not in "iu":
            raise DTypeError(f"{name}: expected {arg} of an integer dtype, got {value.dtype}")
        arr = value.array
    elif isinstance(value, int):
        arr = xp.asarray([value])
    elif isinstance(value, Sequence):
        arr = xp.asarray(list(value))
    else:
        raise TypeError(f"{name}: expected {arg} as an integer Tensor, int or sequence of ints, got "
                        f"{type(value).__name__}")
    arr = xp.asarray(arr, dtype=xp.int64).reshape(-1)
    if n is not None and arr.shape[0] != n:
        raise ShapeError(f"{name}: expected {arg} of length {n} (the batch size), got {arr.shape[0]}")
    return arr


@autocast_op("fp32")
def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Tensor | Sequence[int],
             target_lengths: Tensor | Sequence[int], blank: int = 0, reduction: str = "mean",
             zero_infinity: bool = False) -> Tensor:
    """CTC loss of ``log_probs`` (log-softmax over classes) against unaligned target sequences.

    Shape: log_probs (T, N, C) or (T, C); targets (N, S) padded, (sum(target_lengths),)
    concatenated, or (S,) unbatched; input_lengths, target_lengths (N,) or () -> () or (N,).
    ``reduction='mean'`` divides each loss by its target length, then averages over the batch.
    """
    name = "CTCLoss"
    reduction = resolve(name, reduction)
    check_float(name, "log_probs", log_probs)
    if log_probs.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected log_probs of shape (T, N, C) or (T, C), got {tuple(log_probs.shape)}")
    if not isinstance(targets, Tensor) or targets.array.dtype.kind not in "iu":
        raise DTypeError(f"{name}: expected targets as an integer Tensor, got "
                         f"{targets.dtype if isinstance(targets, Tensor) else type(targets).__name__}")
    unbatched = log_probs.ndim == 2
    lp = log_probs.unsqueeze(1) if unbatched else log_probs
    T, N, C = lp.shape
    xp = lp.device.backend.xp
    if not 0 <= blank < C:
        raise ValueError(f"{name}: blank must be in [0, {C}) for {C} classes, got {blank}")
    il = _lengths(name, "input_lengths", input_lengths, xp, N)
    tl = _lengths(name, "target_lengths", target_lengths, xp, N)
    ilh, tlh = [int(v) for v in il.tolist()], [int(v) for v in tl.tolist()]
    if any(not 0 <= v <= T for v in ilh):
        raise ValueError(f"{name}: expected input_lengths in [0, T={T}], got {ilh}")
    if any(v < 0 for v in tlh):
        raise ValueError(f"{name}: expected non-negative target_lengths, got {tlh}")
    tg = targets.array
    S = max(tlh, default=0)
    if unbatched or tg.ndim == 2:
        tg = tg.reshape(1, -1) if unbatched else tg
        if tg.shape[0] != N or tg.shape[1] < S:
            raise ShapeError(f"{name}: expected padded targets of shape (N={N}, S>={S}), got {tuple(targets.shape)}")
        padded = tg[:, :S]
    elif tg.ndim == 1:
        if tg.shape[0] != sum(tlh):
            raise ShapeError(f"{name}: expected concatenated targets of length sum(target_lengths)={sum(tlh)}, got "
                             f"{tg.shape[0]}")
        start = xp.cumsum(tl) - tl
        idx = start[:, None] + xp.arange(S)[None, :]
        padded = tg[xp.minimum(idx, max(tg.shape[0] - 1, 0))] if tg.shape[0] else xp.zeros((N, S), dtype=tg.dtype)
    else:
        raise ShapeError(f"{name}: expected targets of shape (N, S) or (sum(target_lengths),), got "
                         f"{tuple(targets.shape)}")
    used = xp.arange(S)[None, :] < tl[:, None]
    padded = xp.where(used, padded, blank).astype(xp.int64)
    if padded.size and bool(((padded < 0) | (padded >= C)).any()):
        bad = int(padded[(padded < 0) | (padded >= C)][0])
        raise IndexError(f"{name}: target {bad} is out of bounds for {C} classes (expected 0 <= target < {C})")
    loss = CTC.apply(lp, padded, il, tl, int(blank), bool(zero_infinity))
    if reduction == "mean":
        denom = lamina.as_tensor(xp.maximum(tl, 1).astype(lp.array.dtype), device=lp.device)
        return (loss / denom).mean()
    if reduction == "sum":
        return loss.sum()
    return loss[0] if unbatched else loss


class CTCLoss(_Loss):
    """Connectionist temporal classification loss.

    Shape:
        - log_probs: (T, N, C) or (T, C), log-softmax outputs
        - targets: (N, S) padded, (sum(target_lengths),) concatenated, or (S,) unbatched
        - input_lengths, target_lengths: (N,) or ()
        - output: () or, with ``reduction='none'``, (N,) or ()
    """

    __constants__ = ["blank", "reduction"]

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False) -> None:
        super().__init__(reduction=reduction)
        self.blank = blank
        self.zero_infinity = zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths: Tensor | Sequence[int],
                target_lengths: Tensor | Sequence[int]) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank, self.reduction,
                        self.zero_infinity)
