"""Cross-entropy and negative log-likelihood: each one fused Function with an analytic backward.

Both work on the class axis (axis 1 of ``(N, C, d1, ...)``) in place, without moving it last;
an unbatched ``(C,)`` input is treated as a batch of one.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import DTypeError, ShapeError

from ._reduction import _WeightedLoss, check_float, constant, quiet, resolve, same_dtype, scaled

__lamina_plugin_api__ = "1.0"


def _log_softmax(xp, x, m=None, finite=False):
    """log-softmax along axis 1; stable for large logits and for -inf entries (an all -inf row gives NaN).

    ``m``: the row maxima if already known; ``finite``: they are all finite (then no row needs the guard)."""
    m = x.max(axis=1, keepdims=True) if m is None else m
    z = x - (m if finite else xp.where(xp.isfinite(m), m, 0))   # a fresh array: finished in place
    s = xp.exp(z).sum(axis=1, keepdims=True)
    z -= xp.log(s)
    return z


_LOUD = contextlib.nullcontext()  # where no floating-point warning can arise, skip np.errstate (~2 us)


def _class_shape(w, ndim):
    """Weight (C,) viewed to broadcast along axis 1 of an ``ndim``-d array."""
    return w.reshape((1, -1) + (1,) * (ndim - 2))


def _scale(xp, dy, reduction, denom, like):
    """The upstream gradient per element, as an array broadcastable to the loss elements."""
    if reduction == "none":
        return dy.reshape(like)
    return dy / denom if reduction == "mean" else dy


class CrossEntropyIndex(Function):
    """Fused log-softmax + NLL with class-index targets, weight, ignore_index and label smoothing.

    x: (N, C, d1, ...), target: (N, d1, ...) int, weight: (C,) or None -> loss (N, d1, ...) or ()
    """

    rows = None  # (N, C) logits without weight or smoothing: what _rows_forward keeps (and no cfg)

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, smoothing, reduction):
        xp = ctx.xp
        if x.ndim == 2 and weight is None and not smoothing:
            return _rows_forward(ctx, xp, x, target, ignore_index, reduction)
        C = x.shape[1]
        t = target[:, None]
        valid = t != ignore_index                            # (N, 1, d...)
        tc = xp.where(valid, t, 0)
        with quiet(xp):
            logp = _log_softmax(xp, x)
            picked = xp.take_along_axis(logp, tc, axis=1)
            wb = None if weight is None else _class_shape(weight, x.ndim)
            w_t = xp.ones_like(picked) if weight is None else weight[tc]
            loss = xp.where(valid, -w_t * picked, 0)
            if smoothing:
                smooth = -(logp.sum(axis=1, keepdims=True) if wb is None else (logp * wb).sum(axis=1, keepdims=True))
                loss = (1.0 - smoothing) * loss + (smoothing / C) * xp.where(valid, smooth, 0)
            denom = xp.where(valid, w_t, 0).sum() if reduction == "mean" else None
            loss = loss[:, 0]
            out = loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.sum() / denom
        ctx.save_for_backward(logp, x)
        ctx.cfg = (tc, valid, w_t, wb, smoothing, reduction, denom)
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        if isinstance(dy, Tensor):
            return _index_backward_graph(ctx, dy), None, None, None, None, None
        if ctx.rows is not None:
            return _rows_backward(ctx, xp, dy)
        logp, _ = ctx.saved_tensors
        tc, valid, w_t, wb, eps, reduction, denom = ctx.cfg
        C = logp.shape[1]
        with quiet(xp):
            p = xp.exp(logp)
            # d loss / d x = p * sum(q) - q, q = (1 - eps) w_t onehot(t) + (eps / C) w   (the smoothed target)
            q_sum = (1.0 - eps) * w_t + (eps * (C if wb is None else wb.sum()) / C)
            g = p * q_sum
            if eps:
                g = g - (eps / C) * (1.0 if wb is None else wb)
            g_t = xp.take_along_axis(g, tc, axis=1) - (1.0 - eps) * w_t
            xp.put_along_axis(g, tc, g_t, axis=1)
            s = _scale(xp, dy, reduction, denom, valid.shape)
            dx = xp.where(valid, g * s, 0)                    # ignored rows: exactly zero, never NaN
        return dx, None, None, None, None, None


def _rows_forward(ctx, xp, x, target, ignore_index, reduction):
    """The common case, (N, C) logits without weight or smoothing: the same arithmetic as the general
    path (bitwise), with row indexing instead of take/put_along_axis and no per-row weight arrays."""
    N = x.shape[0]
    valid = target != ignore_index
    count = int(xp.count_nonzero(valid))
    tc = target if count == N else xp.where(valid, target, 0)
    m = x.max(axis=1, keepdims=True)
    # finite row maxima and a valid row: no inf - inf, no 0 / 0, nothing for errstate to silence
    finite = count > 0 and bool(xp.isfinite(m).all())
    with _LOUD if finite else quiet(xp):
        logp = _log_softmax(xp, x, m, finite)
        loss = xp.where(valid, -logp[xp.arange(N), tc], 0)
        denom = xp.asarray(count, dtype=x.dtype) if reduction == "mean" else None
        out = loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.sum() / denom
    ctx.save_for_backward(logp, x)
    ctx.rows = (tc, valid, count, denom, reduction, finite)
    ctx.cfg = None
    return xp.asarray(out, dtype=x.dtype)


def _rows_backward(ctx, xp, dy):
    """d loss / d x = softmax(x) - onehot(target), scaled by the upstream gradient; ignored rows zero."""
    tc, valid, count, denom, reduction, finite = ctx.rows
    logp, _ = ctx.saved_tensors
    N = logp.shape[0]
    with _LOUD if finite else quiet(xp):  # finite: count > 0, so dy / count cannot warn
        s = _scale(xp, dy, reduction, denom, (N, 1))
    with _LOUD if finite and reduction != "none" and math.isfinite(s) else quiet(xp):
        dx = xp.exp(logp)
        dx[xp.arange(N), tc] -= 1.0
        dx *= s
        if count != N:
            dx = xp.where(valid[:, None], dx, 0)
    return dx, None, None, None, None, None


def _index_backward_graph(ctx, dy: Tensor) -> Tensor:
    """d loss / d x = (softmax(x) sum(q) - q) * s as in the array paths, in lamina ops (create_graph=True), so
    the engine differentiates it again; q is the smoothed, weighted one-hot target, a constant."""
    saved = ctx.saved_tensors
    if len(saved) != 2:   # a device kernel that replaced forward and kept only log-softmax
        raise NotImplementedError("CrossEntropyLoss: double backward (create_graph=True) needs the logits saved by "
                                  "forward; this device's fused kernel does not save them")
    x = saved[1]
    xp = ctx.device.backend.xp
    if ctx.rows is not None:
        tc, valid, _, denom, reduction, _ = ctx.rows
        tc, valid, w_t, wb, eps = tc[:, None], valid[:, None], 1.0, None, 0.0
    else:
        tc, valid, w_t, wb, eps, reduction, denom = ctx.cfg
    C = x.shape[1]
    onehot = xp.arange(C).reshape((1, C) + (1,) * (x.ndim - 2)) == tc
    w_t = w_t if isinstance(w_t, float) else constant(w_t, x)
    with quiet(xp):
        q = constant(onehot, x).to(x.dtype) * ((1.0 - eps) * w_t)
        q_sum = (1.0 - eps) * w_t + eps * (C if wb is None else float(wb.sum())) / C
        if eps:
            q = q + (eps / C) * (1.0 if wb is None else constant(wb, x))
        g = lamina.softmax(x, 1) * q_sum - q
        s = scaled(dy, reduction, denom, valid.shape)
        return lamina.where(constant(valid, x), g * s, 0.0)


class CrossEntropyProb(Function):
    """Fused log-softmax + soft-target cross-entropy. x, target: (N, C, d1, ...) -> (N, d1, ...) or ()."""

    @staticmethod
    def forward(ctx, x, target, weight, smoothing, reduction):
        xp = ctx.xp
        C = x.shape[1]
        with quiet(xp):
            logp = _log_softmax(xp, x)
            t = target * (1.0 - smoothing) + smoothing / C if smoothing else target
            wt = t if weight is None else t * _class_shape(weight, x.ndim)
            loss = -(logp * wt).sum(axis=1)
        count = loss.size
        ctx.save_for_backward(logp, wt, weight, x, target)
        ctx.cfg = (smoothing, reduction, count)
        with quiet(xp):
            out = loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.sum() / count
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        logp, wt, weight, x, target = ctx.saved_tensors
        eps, reduction, count = ctx.cfg
        shape = (logp.shape[0], 1) + logp.shape[2:]
        if isinstance(dy, Tensor):
            return _prob_backward_graph(ctx, dy, x, target, weight, shape)
        s = _scale(xp, dy, reduction, count, shape)
        with quiet(xp):
            dx = (xp.exp(logp) * wt.sum(axis=1, keepdims=True) - wt) * s
            dt = None
            if ctx.needs_input_grad[1]:
                w = 1.0 if weight is None else _class_shape(weight, logp.ndim)
                dt = -(1.0 - eps) * logp * w * s
        return dx, dt, None, None, None


def _prob_backward_graph(ctx, dy: Tensor, x: Tensor, target: Tensor, weight: Tensor | None, shape: tuple) -> tuple:
    """The soft-target gradients of the array path, in lamina ops (create_graph=True)."""
    eps, reduction, count = ctx.cfg
    C = x.shape[1]
    w = 1.0 if weight is None else weight.reshape((1, -1) + (1,) * (x.ndim - 2))
    logp = lamina.log_softmax(x, 1)
    wt = (target * (1.0 - eps) + eps / C if eps else target) * w
    s = scaled(dy, reduction, count, shape)
    dx = (logp.exp() * wt.sum(dim=1, keepdim=True) - wt) * s
    dt = -(1.0 - eps) * logp * w * s if ctx.needs_input_grad[1] else None
    return dx, dt, None, None, None


class NLL(Function):
    """Negative log-likelihood: gather in forward, scatter in backward.

    x: (N, C, d1, ...) log-probabilities, target: (N, d1, ...) int -> (N, d1, ...) or ()
    """

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, reduction):
        xp = ctx.xp
        t = target[:, None]
        valid = t != ignore_index
        tc = xp.where(valid, t, 0)
        w_t = xp.ones(t.shape, dtype=x.dtype) if weight is None else weight[tc]
        w_t = xp.where(valid, w_t, 0)
        loss = (-w_t * xp.take_along_axis(x, tc, axis=1))[:, 0]
        loss = xp.where(valid[:, 0], loss, 0)
        denom = w_t.sum() if reduction == "mean" else None
        with quiet(xp):
            out = loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.sum() / denom
        ctx.cfg = (x.shape, tc, w_t, reduction, denom)
        return xp.asarray(out, dtype=x.dtype)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        shape, tc, w_t, reduction, denom = ctx.cfg
        if isinstance(dy, Tensor):  # create_graph: dx is linear in dy, a constant one-hot times -w_t * dy
            real = ctx.device.backend.xp
            onehot = real.arange(shape[1]).reshape((1, -1) + (1,) * (len(shape) - 2)) == tc
            with quiet(real):
                return (lamina.where(constant(onehot, dy), -constant(w_t, dy) * scaled(dy, reduction, denom, tc.shape),
                                     0.0), None, None, None, None)
        dx = xp.zeros(shape, dtype=dy.dtype)
        with quiet(xp):
            xp.put_along_axis(dx, tc, -w_t * _scale(xp, dy, reduction, denom, tc.shape), axis=1)
        return dx, None, None, None, None


# --- argument checks ------------------------------------------------------------------------------
def _batched(name: str, input: Tensor, target: Tensor) -> tuple[Tensor, Tensor, bool]:
    """``(C,)`` with a 0-d target becomes a batch of one; check the target's shape against the input's."""
    if input.ndim == 0:
        raise ShapeError(f"{name}: expected input of shape (C,) or (N, C, d1, ...), got a 0-d tensor")
    unbatched = input.ndim == 1
    if unbatched:
        input = input.unsqueeze(0)
        target = target.unsqueeze(0)
    return input, target, unbatched


def _check_index_target(name: str, input: Tensor, target: Tensor, ignore_index: int, soft_ok: bool) -> None:
    shape, t = input.array.shape, target.array
    kind = t.dtype.kind
    want = shape[:1] + shape[2:]
    if kind not in "iu":
        soft = " or floating class probabilities of the input's shape" if soft_ok else ""
        raise DTypeError(f"{name}: expected target of an integer dtype (class indices){soft}, got {target.dtype} "
                         f"target of shape {tuple(target.shape)} for input of shape {tuple(input.shape)}")
    if t.shape != want:
        raise ShapeError(f"{name}: expected target of shape (N, d1, ...) = {want} for input of shape "
                         f"{shape}, got {t.shape}")
    C = shape[1]
    if t.size == 0 or 0 <= t.min() and t.max() < C:
        return
    bad = ((t < 0) | (t >= C)) & (t != ignore_index)
    if bad.any():
        value = int(t[bad].reshape(-1)[0])
        raise IndexError(f"{name}: target {value} is out of bounds for {C} classes "
                         f"(expected 0 <= target < {C} or ignore_index={ignore_index})")


def _check_weight(name: str, weight: Tensor | None, C: int, input: Tensor) -> Tensor | None:
    if weight is None:
        return None
    check_float(name, "weight", weight)
    if tuple(weight.shape) != (C,):
        raise ShapeError(f"{name}: expected weight of shape ({C},) (one per class), got {tuple(weight.shape)}")
    return same_dtype(weight, input)


def _plain(w: Tensor | None) -> Any:
    return None if w is None else w.detach()


# --- functional forms ---------------------------------------------------------------------------
@autocast_op("fp32")
def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
                  ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log-softmax over the class axis followed by NLL, in one fused op.

    Shape: input (C,) or (N, C, d1, ...); target () / (N, d1, ...) class indices, or class
    probabilities of the input's shape -> output () or, with ``reduction='none'``, the target's shape
    without the class axis.
    """
    name = "CrossEntropyLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got {label_smoothing}")
    input, target, unbatched = _batched(name, input, target)
    weight = _check_weight(name, weight, input.shape[1], input)
    if target.array.dtype.kind == "f" and tuple(target.shape) == tuple(input.shape):
        if ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index={ignore_index} is not supported for class-probability targets")
        out = CrossEntropyProb.apply(input, same_dtype(target, input), _plain(weight), float(label_smoothing),
                                     reduction)
    else:
        _check_index_target(name, input, target, ignore_index, soft_ok=True)
        out = CrossEntropyIndex.apply(input, target, _plain(weight), int(ignore_index),  # int: needs no grad
                                      float(label_smoothing), reduction)
    return out[0] if unbatched and reduction == "none" else out


@autocast_op("fp32")
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: bool | None = None,
             ignore_index: int = -100, reduce: bool | None = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices under log-probabilities ``input``.

    Shape: input (C,) or (N, C, d1, ...); target () / (N, d1, ...) -> () or (N, d1, ...).
    """
    name = "NLLLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    input, target, unbatched = _batched(name, input, target)
    weight = _check_weight(name, weight, input.shape[1], input)
    _check_index_target(name, input, target, ignore_index, soft_ok=False)
    out = NLL.apply(input, target.detach(), _plain(weight), int(ignore_index), reduction)
    return out[0] if unbatched and reduction == "none" else out


# --- modules ------------------------------------------------------------------------------------
class CrossEntropyLoss(_WeightedLoss):
    """Cross-entropy between logits and class indices or class probabilities.

    Shape:
        - input: (C,), (N, C) or (N, C, d1, ..., dK)
        - target: class indices () / (N,) / (N, d1, ..., dK), or probabilities of the input's shape
        - output: () or, with ``reduction='none'``, () / (N,) / (N, d1, ..., dK)
    """

    __constants__ = ["ignore_index", "reduction", "label_smoothing"]

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                             reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices.

    Shape:
        - input: (C,), (N, C) or (N, C, d1, ..., dK) log-probabilities
        - target: () / (N,) / (N, d1, ..., dK) class indices
        - output: () or, with ``reduction='none'``, the target's shape
    """

    __constants__ = ["ignore_index", "reduction"]

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class NLLLoss2d(NLLLoss):
    """Deprecated alias of NLLLoss (warns at construction, as PyTorch does).

    Shape: input (N, C, H, W) log-probabilities, target (N, H, W) class indices -> () or (N, H, W)
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, ignore_index: int = -100,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        import warnings

        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a drop-in replacement and see "
                      "https://pytorch.org/docs/main/nn.html#torch.nn.NLLLoss for more details.", FutureWarning,
                      stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction)
