"""lamina-losses' ``CrossEntropyIndex`` on CUDA for (N, C) logits: one block per row computes the
log-softmax, the per-row loss (weight, ignore_index, label smoothing) and the mean's denominator;
backward is one launch writing dx. (N, C, d1, ...) inputs and create_graph use the reference."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy

from ._source import fits, function, launch_rows


def _consts(dtype: Any, C: int, smoothing: float) -> tuple:
    t = numpy.dtype(dtype).type
    return t(1.0 - smoothing), t(smoothing / C)


@cache
def xent_kernel(CrossEntropyIndex: type) -> type:
    """The kernel class for the op ``CrossEntropyIndex`` (registered by name: this pack never imports its plugin)."""

    class CudaCrossEntropyIndex(CrossEntropyIndex):
        """Fused log-softmax + NLL over rows of (N, C)."""

        @staticmethod
        def forward(ctx, x, target, weight, ignore_index, smoothing, reduction):
            import cupy

            N, C = x.shape
            target = cupy.ascontiguousarray(target, dtype=cupy.int64)
            logp = cupy.empty_like(x)
            loss = cupy.empty((N,), dtype=x.dtype)
            wv = cupy.empty((N,), dtype=x.dtype)
            keep, eps_c = _consts(x.dtype, C, smoothing)
            launch_rows(function("xent", "lm_xent_fwd", x.dtype), N, C, x.dtype,
                        (x, target, weight if weight is not None else x, logp, loss, wv, numpy.int64(C),
                         numpy.int64(ignore_index), numpy.int32(weight is not None), numpy.int32(bool(smoothing)),
                         keep, eps_c))
            denom = wv.sum() if reduction == "mean" else None
            out = loss if reduction == "none" else loss.sum() if reduction == "sum" else loss.sum() / denom
            ctx.save_for_backward(logp)
            ctx.kernel_cfg = (target, weight, ignore_index, smoothing, reduction, denom, x.dtype)
            return out.astype(x.dtype, copy=False)

        @staticmethod
        def backward(ctx, dy):
            import cupy

            target, weight, ignore_index, eps, reduction, denom, dtype = ctx.kernel_cfg
            if ctx._graph_mode:
                ctx.cfg = _reference_cfg(ctx.xp, target, weight, ignore_index, eps, reduction, denom, dtype)
                return CrossEntropyIndex.backward(ctx, dy)
            (logp,) = ctx.saved_tensors
            N, C = logp.shape
            scale = cupy.ascontiguousarray(dy / denom if reduction == "mean" else dy, dtype=logp.dtype).reshape(-1)
            dx = cupy.empty_like(logp)
            keep, eps_c = _consts(logp.dtype, C, eps)
            t = logp.dtype.type
            launch_rows(function("xent", "lm_xent_bwd", logp.dtype), N, C, logp.dtype,
                        (logp, target, weight if weight is not None else logp, scale,
                         numpy.int64(1 if reduction == "none" else 0), dx, numpy.int64(C),
                         numpy.int64(ignore_index), numpy.int32(weight is not None), numpy.int32(bool(eps)),
                         keep, eps_c, t(eps), t(C), t(eps * C / C)))
            return dx, None, None, None, None, None

    return CudaCrossEntropyIndex


def _reference_cfg(xp, target, weight, ignore_index, smoothing, reduction, denom, dtype) -> tuple:
    """The bookkeeping CrossEntropyIndex.forward keeps, rebuilt for its backward (create_graph)."""
    t = target[:, None]
    valid = t != ignore_index
    tc = xp.where(valid, t, 0)
    w_t = xp.ones(t.shape, dtype=dtype) if weight is None else weight[tc]
    wb = None if weight is None else weight.reshape(1, -1)
    return tc, valid, w_t, wb, smoothing, reduction, denom


def supports(arrays: list, kwargs: dict) -> bool:
    x, target, weight = arrays[:3]
    return (fits(x) and x.ndim == 2 and x.shape[1] > 0 and getattr(target, "dtype", None) is not None
            and target.dtype.kind in "iu" and target.shape == (x.shape[0],)
            and (weight is None or (fits(weight) and weight.dtype == x.dtype)))


KERNELS = (("CrossEntropyIndex", xent_kernel, supports),)
