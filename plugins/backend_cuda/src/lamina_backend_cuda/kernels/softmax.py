"""Fused row kernels for the core's ``Softmax`` and ``LogSoftmax`` over the last axis.

One block per row does max, sum of exponentials and the output in one launch (the reference
takes about six); backward is one launch too. Other axes, non-contiguous inputs and
``create_graph=True`` use the reference.
"""

from __future__ import annotations

from typing import Any

import numpy
from lamina.ops.softmax import LogSoftmax, Softmax

from ._source import fits, function, grad_fits, launch_rows


def _launch(kernel: str, arrays: tuple, like: Any) -> Any:
    import cupy

    out = cupy.empty_like(like)
    length = like.shape[-1]
    launch_rows(function("softmax", kernel, like.dtype), like.size // length, length, like.dtype,
                (*arrays, out, numpy.int64(length)))
    return out


def _row_kernel(kind: str, op: type) -> tuple[staticmethod, staticmethod]:
    """forward and backward of ``op``'s kernel: ``lm_<kind>_fwd`` saves y, ``lm_<kind>_bwd`` uses it."""

    def forward(ctx, x, axis):
        y = _launch(f"lm_{kind}_fwd", (x,), x)
        ctx.save_for_backward(y)
        ctx.axis = axis
        return y

    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        if not grad_fits(ctx, dy, y):
            return op.backward(ctx, dy)
        return _launch(f"lm_{kind}_bwd", (y, dy), y), None

    return staticmethod(forward), staticmethod(backward)


class CudaSoftmax(Softmax):
    """softmax along the last axis, one block per row."""

    forward, backward = _row_kernel("softmax", Softmax)


class CudaLogSoftmax(LogSoftmax):
    """log_softmax along the last axis, one block per row."""

    forward, backward = _row_kernel("log_softmax", LogSoftmax)


def supports_last_axis(arrays: list, kwargs: dict) -> bool:
    x, axis = arrays[0], arrays[1]
    return fits(x) and x.ndim >= 1 and axis == x.ndim - 1 and x.shape[-1] > 0


KERNELS = ((Softmax, CudaSoftmax), (LogSoftmax, CudaLogSoftmax))
