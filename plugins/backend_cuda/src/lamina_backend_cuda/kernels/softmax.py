"""Fused row kernels for the core's ``Softmax`` and ``LogSoftmax`` over the last axis.

One block per row does max, sum of exponentials and the output in one launch (the reference
takes about six); backward is one launch too. Other axes, non-contiguous inputs and
``create_graph=True`` use the reference.
"""

from __future__ import annotations

from typing import Any

import numpy
from lamina.ops.softmax import LogSoftmax, Softmax

from ._source import fits, function, row_threads


def _rows(x: Any) -> tuple[int, int]:
    length = x.shape[-1]
    return x.size // length, length


def _launch(kernel: str, arrays: tuple, like: Any) -> Any:
    import cupy

    out = cupy.empty_like(like)
    rows, length = _rows(like)
    t = row_threads(length)
    function("softmax", kernel, like.dtype)((rows,), (t,), (*arrays, out, numpy.int64(length)),
                                             shared_mem=t * like.dtype.itemsize)
    return out


def _grad_fits(ctx: Any, dy: Any, y: Any) -> bool:
    return not ctx._graph_mode and fits(dy) and dy.dtype == y.dtype and dy.shape == y.shape


class CudaSoftmax(Softmax):
    """softmax along the last axis, one block per row."""

    @staticmethod
    def forward(ctx, x, axis):
        y = _launch("lm_softmax_fwd", (x,), x)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        if not _grad_fits(ctx, dy, y):
            return Softmax.backward(ctx, dy)
        return _launch("lm_softmax_bwd", (y, dy), y), None


class CudaLogSoftmax(LogSoftmax):
    """log_softmax along the last axis, one block per row."""

    @staticmethod
    def forward(ctx, x, axis):
        y = _launch("lm_log_softmax_fwd", (x,), x)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        if not _grad_fits(ctx, dy, y):
            return LogSoftmax.backward(ctx, dy)
        return _launch("lm_log_softmax_bwd", (y, dy), y), None


def supports_last_axis(arrays: list, kwargs: dict) -> bool:
    x, axis = arrays[0], arrays[1]
    return fits(x) and x.ndim >= 1 and axis == x.ndim - 1 and x.shape[-1] > 0


KERNELS = ((Softmax, CudaSoftmax), (LogSoftmax, CudaLogSoftmax))
