"""lamina-layers-basic's ``ConvNd`` on CUDA for 1-D and 2-D: RawKernel im2col / col2im + cuBLAS GEMMs.

Forward: cols (N, C*K, L) from one im2col launch, y = w (G, O/G, C/G*K) @ cols (N, G, C/G*K, L), one
batched GEMM written directly in NCHW order, plus the bias. Backward: dw = sum_n dy @ cols^T and
dx = col2im(w^T @ dy), the gather kernel (deterministic). Depthwise, 3-D and other layouts use the
reference (which refuses create_graph, and so does the kernel through it).
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from ._source import fits, function, geometry_2d, int_args, launch_pointwise


def _geo(x_shape, w_shape, stride, pads, dilation, out) -> tuple:
    return geometry_2d(tuple(x_shape), tuple(w_shape[2:]), stride, tuple(lo for lo, _ in pads), dilation, out)


def im2col(x: Any, geo: tuple) -> Any:
    """x (N, C, *S) -> cols (N, C * K, L) in one launch."""
    import cupy

    N, C, _, _, KH, KW, OH, OW = geo[:8]
    cols = cupy.empty((N, C * KH * KW, OH * OW), dtype=x.dtype)
    launch_pointwise(function("conv", "lm_im2col", x.dtype), cols.size, (x, cols) + int_args(geo))
    return cols


def col2im(dcols: Any, x_shape: tuple, geo: tuple) -> Any:
    """dcols (N, C * K, L) -> dx (N, C, *S): each input position sums the entries that read it."""
    import cupy

    dx = cupy.empty(x_shape, dtype=dcols.dtype)
    launch_pointwise(function("conv", "lm_col2im", dcols.dtype), dx.size, (dcols, dx) + int_args(geo))
    return dx


@cache
def conv_kernel(ConvNd: type) -> type:
    """The kernel class for the op ``ConvNd`` (registered by name: this pack never imports its plugin)."""

    class CudaConvNd(ConvNd):
        """ConvNd via im2col/col2im kernels and batched GEMMs (1-D and 2-D)."""

        @staticmethod
        def forward(ctx, x, w, b, stride, pads, dilation, groups):
            xp = ctx.xp
            N, O = x.shape[0], w.shape[0]
            out = tuple((s + lo + hi - d * (k - 1) - 1) // st + 1
                        for s, (lo, hi), k, st, d in zip(x.shape[2:], pads, w.shape[2:], stride, dilation))
            geo = _geo(x.shape, w.shape, stride, pads, dilation, out)
            cols = im2col(x, geo)                                              # (N, C*K, L)
            cg = cols.reshape(N, groups, cols.shape[1] // groups, cols.shape[2])  # (N, G, C/G*K, L)
            y = xp.matmul(w.reshape(groups, O // groups, cg.shape[2]), cg)     # (N, G, O/G, L)
            y = y.reshape((N, O) + out)
            if b is not None:
                y += b.reshape((O,) + (1,) * len(out))
            # the reference's bookkeeping too, so create_graph=True can run the reference backward
            ctx.meta = (x.shape, pads, stride, dilation, groups, out, w.shape)
            ctx.cols_of_x = False
            ctx.geo = geo
            ctx.save_for_backward(cg if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None)
            return y

        @staticmethod
        def backward(ctx, dy):
            if ctx._graph_mode:
                return ConvNd.backward(ctx, dy)
            xp = ctx.xp
            cg, w = ctx.saved_tensors
            x_shape, groups, w_shape, geo = ctx.meta[0], ctx.meta[4], ctx.meta[6], ctx.geo
            need_x, need_w, need_b = ctx.needs_input_grad[:3]
            N, O = dy.shape[:2]
            dyg = xp.ascontiguousarray(dy).reshape(N, groups, O // groups, math.prod(dy.shape[2:]))
            dx = dw = db = None
            if need_w:
                dw = xp.matmul(dyg, cg.swapaxes(-1, -2)).sum(axis=0).reshape(w_shape)       # (O, C/G, *k)
            if need_x:
                wm = w.reshape(groups, O // groups, math.prod(w_shape[1:]))
                dcols = xp.matmul(wm.swapaxes(-1, -2), dyg)                                 # (N, G, C/G*K, L)
                dx = col2im(xp.ascontiguousarray(dcols).reshape(N, -1, dcols.shape[-1]), x_shape, geo)
            if need_b:
                db = dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))
            return dx, dw, db, None, None, None, None

    return CudaConvNd


def supports(arrays: list, kwargs: dict) -> bool:
    """1-D/2-D, contiguous float CuPy input and weight of one dtype, not depthwise (its own fast path)."""
    x, w, b = arrays[:3]
    if not (fits(x) and fits(w) and x.dtype == w.dtype and x.ndim in (3, 4) and w.ndim == x.ndim):
        return False
    if b is not None and not (fits(b) and b.dtype == x.dtype):
        return False
    groups = arrays[6]
    return not (groups == x.shape[1] == w.shape[0] and groups > 1)


KERNELS = (("ConvNd", conv_kernel, supports),)
