"""Softmax and log-softmax along one dim, each one fused Function with an analytic backward."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import int_to_float, normalize_dim


class Softmax(Function):
    """y = exp(x - max) / sum(exp(x - max)) along ``axis``. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, axis):
        xp = ctx.xp
        # bfloat16/float16: in float32, rounded once (torch CPU)
        low = x.dtype if x.dtype.itemsize == 2 and x.dtype.kind in "fV" else None
        x = x if low is None else x.astype("float32")
        m = x.max(axis=axis, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, dtype=x.dtype)
        e = xp.exp(x - xp.where(xp.isfinite(m), m, 0))
        y = e / e.sum(axis=axis, keepdims=True) if x.size else e  # an empty input has no max: y is empty too
        y = y if low is None else y.astype(low)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        g = y * dy
        return g - y * g.sum(axis=ctx.axis, keepdims=True) if not isinstance(g, Tensor) else \
            g - y * g.sum(dim=ctx.axis, keepdim=True), None


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``; stable for large and -inf logits."""

    @staticmethod
    def forward(ctx, x, axis):
        xp = ctx.xp
        low = x.dtype if x.dtype.itemsize == 2 and x.dtype.kind in "fV" else None
        x = x if low is None else x.astype("float32")
        m = x.max(axis=axis, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, dtype=x.dtype)
        z = x - xp.where(xp.isfinite(m), m, 0)
        y = z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True)) if x.size else z
        y = y if low is None else y.astype(low)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        xp = ctx.xp
        s = dy.sum(axis=ctx.axis, keepdims=True) if not isinstance(dy, Tensor) else dy.sum(dim=ctx.axis, keepdim=True)
        return dy - xp.exp(y) * s, None


def _prep(input: Tensor, dim: int | None, dtype: Any, name: str):
    if dtype is not None:
        input = input.to(dtype)
    input = int_to_float(input)
    if dim is None:
        dim = 0 if input.ndim in (0, 1, 3) else 1  # PyTorch's legacy implicit choice
    return input, normalize_dim(dim, input.ndim, name) if input.ndim else 0


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    input, axis = _prep(input, dim, dtype, "softmax")
    if input.ndim == 0:
        return Softmax.apply(input.reshape(1), 0).reshape(())
    return Softmax.apply(input, axis)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    input, axis = _prep(input, dim, dtype, "log_softmax")
    if input.ndim == 0:
        return LogSoftmax.apply(input.reshape(1), 0).reshape(())
    return LogSoftmax.apply(input, axis)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    return softmax(-input, dim, dtype=dtype)


class SoftmaxMethods:
    __slots__ = ()

    def softmax(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
        return softmax(self, dim, dtype=dtype)

    def log_softmax(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
        return log_softmax(self, dim, dtype=dtype)
