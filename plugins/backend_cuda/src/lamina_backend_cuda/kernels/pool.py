"""lamina-layers-basic's ``MaxPoolNd`` on CUDA for 1-D and 2-D: one launch forward (values, winner
offsets and PyTorch's indices), one gather launch backward. 3-D and other layouts use the reference."""

from __future__ import annotations

from functools import cache

import numpy

from ._source import fits, function, geometry_2d, int_args, launch_pointwise


@cache
def maxpool_kernel(MaxPoolNd: type) -> type:
    """The kernel class for the op ``MaxPoolNd`` (registered by name: this pack never imports its plugin)."""

    class CudaMaxPoolNd(MaxPoolNd):
        """Max pooling with the reference's scan rule (first max; a NaN wins, the last NaN if several)."""

        @staticmethod
        def forward(ctx, x, kernel, stride, pad, dilation, out, return_indices):
            import cupy

            geo = geometry_2d(tuple(x.shape), tuple(kernel), tuple(stride), tuple(pad), tuple(dilation), tuple(out))
            y = cupy.empty(x.shape[:2] + tuple(out), dtype=x.dtype)
            arg = cupy.empty(y.shape, dtype=cupy.int32)
            idx = cupy.empty(y.shape, dtype=cupy.int64) if return_indices else arg
            launch_pointwise(function("pool", "lm_maxpool_fwd", x.dtype), y.size,
                             (x, y, arg, idx, numpy.int32(1 if return_indices else 0)) + int_args(geo))
            ctx.pool = (x.shape, geo)
            ctx.save_for_backward(arg)
            if not return_indices:
                return y
            ctx.mark_non_differentiable(idx)
            return y, idx

        @staticmethod
        def backward(ctx, dy, _didx=None):
            import cupy

            (arg,) = ctx.saved_tensors
            shape, geo = ctx.pool
            if ctx._graph_mode:   # dy is a Tensor: the selection is a constant mask, apply it with the namespace
                raise NotImplementedError("MaxPoolNd (CUDA kernel): double backward is not supported")
            dy = cupy.ascontiguousarray(dy)
            dx = cupy.empty(shape, dtype=dy.dtype)
            launch_pointwise(function("pool", "lm_maxpool_bwd", dy.dtype), dx.size, (dy, arg, dx) + int_args(geo))
            return dx, None, None, None, None, None, None

    return CudaMaxPoolNd


def supports(arrays: list, kwargs: dict) -> bool:
    x, kernel = arrays[0], arrays[1]
    return fits(x) and x.ndim in (3, 4) and len(kernel) == x.ndim - 2 and 0 not in arrays[5]


KERNELS = (("MaxPoolNd", maxpool_kernel, supports),)
