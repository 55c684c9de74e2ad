"""Adaptive average and max pooling: windows [floor(i * L / out), ceil((i + 1) * L / out)) per dim."""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import ShapeError
from lamina.nn import Module

from ._conv_utils import check_input_dim
from ._graph_grads import scatter_plane
from ._low_precision import Float32Function

__lamina_plugin_api__ = "1.0"


def _bounds(xp: Any, size: int, out: int) -> tuple[Any, Any]:
    i = xp.arange(out)
    return (i * size) // out, -((-(i + 1) * size) // out)


def _avg_matrix(xp: Any, size: int, out: int, dtype: Any) -> Any:
    """(out, size) matrix whose row i averages window i."""
    start, end = _bounds(xp, size, out)
    pos = xp.arange(size)
    inside = (pos >= start[:, None]) & (pos < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class AdaptiveAvgPoolNd(Float32Function):
    """Separable: one small averaging matrix per spatial dim. x (N, C, *S) -> y (N, C, *out)"""

    @staticmethod
    def forward(ctx, x, out):
        xp = ctx.xp
        n = len(out)
        mats = tuple(_avg_matrix(xp, s, o, x.dtype) for s, o in zip(x.shape[2:], out))
        y = x
        for i, m in enumerate(mats):
            axis = x.ndim - n + i
            y = (y.swapaxes(axis, -1) @ m.T).swapaxes(axis, -1)
        ctx.mats = mats
        return xp.ascontiguousarray(y)

    @staticmethod
    def backward(ctx, dy):
        n = len(ctx.mats)
        dx = dy
        # the per-dim matrices commute; ending with the last dim leaves dx contiguous (the final
        # matmul writes a fresh array) without xp.ascontiguousarray, which double backward lacks
        for i in range(n):
            axis = dy.ndim - n + i
            dx = (dx.swapaxes(axis, -1) @ ctx.mats[i]).swapaxes(axis, -1)
        return dx, None


def _window_index(xp: Any, size: int, out: int) -> Any:
    """(out, kmax) input positions of each window, padded by repeating the window's last element."""
    start, end = _bounds(xp, size, out)
    kmax = int((end - start).max()) if out else 1
    return xp.minimum(start[:, None] + xp.arange(kmax), end[:, None] - 1)


class AdaptiveMaxPoolNd(Function):
    """Max over each adaptive window (first max wins). x (N, C, *S) -> y, idx (N, C, *out)"""

    @staticmethod
    def forward(ctx, x, out):
        xp = ctx.xp
        n = len(out)
        sizes = x.shape[2:]
        idx = [_window_index(xp, s, o) for s, o in zip(sizes, out)]
        # broadcast the per-dim index arrays to (o_1, k_1, o_2, k_2, ...)
        grids = []
        for i, ix in enumerate(idx):
            shape = [1] * (2 * n)
            shape[2 * i], shape[2 * i + 1] = ix.shape
            grids.append(ix.reshape(shape))
        wins = x[(slice(None), slice(None)) + tuple(grids)]                   # (N, C, o1, k1, o2, k2, ...)
        order = (0, 1) + tuple(2 + 2 * i for i in range(n)) + tuple(3 + 2 * i for i in range(n))
        ks = tuple(int(ix.shape[1]) for ix in idx)
        K = 1
        for k in ks:
            K *= k
        wins = wins.transpose(order).reshape(x.shape[:2] + tuple(out) + (K,))  # K, not -1: N may be 0
        arg = wins.argmax(axis=-1)
        y = xp.take_along_axis(wins, arg[..., None], axis=-1)[..., 0]
        flat = None
        rest = arg
        coords = [None] * n
        for i in reversed(range(n)):
            k_i, rest = rest % ks[i], rest // ks[i]
            shape = [1] * n
            shape[i] = out[i]
            coords[i] = idx[i][xp.arange(out[i]).reshape(shape), k_i]
        flat = coords[0]
        for i in range(1, n):
            flat = flat * sizes[i] + coords[i]
        flat = flat.astype(xp.int64)
        ctx.mark_non_differentiable(flat)
        ctx.save_for_backward(flat)
        ctx.shape = x.shape
        return y, flat

    @staticmethod
    def backward(ctx, dy, _didx):
        xp = ctx.xp
        (flat,) = ctx.saved_tensors
        shape = ctx.shape
        if isinstance(dy, Tensor):  # create_graph: dy scattered to each window's max, differentiably
            return scatter_plane(dy, flat.array, shape), None
        planes = shape[0] * shape[1]
        P = 1
        for s in shape[2:]:
            P *= s
        rows = (xp.arange(planes) * P).reshape(shape[:2] + (1,) * (len(shape) - 2))
        dx = xp.bincount((flat + rows).ravel(), weights=dy.ravel(), minlength=planes * P)
        return dx.astype(dy.dtype).reshape(shape), None


def _out_size(input: Any, output_size: Any, n: int, owner: str) -> tuple[int, ...]:
    vals = tuple(output_size) if isinstance(output_size, (list, tuple)) else (output_size,) * n
    if len(vals) != n:
        raise ValueError(f"{owner}: expected output_size with {n} elements, got {output_size}")
    sizes = tuple(input.shape[-n:])
    out = tuple(s if v is None else int(v) for v, s in zip(vals, sizes))
    if any(o < 0 for o in out):
        raise ValueError(f"{owner}: expected a non-negative output_size, got {output_size}")
    if any(s == 0 for s in sizes):
        raise ShapeError(f"{owner}: expected non-empty spatial dims, got input of shape {tuple(input.shape)}")
    return out


def _adaptive(input: Any, output_size: Any, n: int, owner: str, kind: str, return_indices: bool = False) -> Any:
    unbatched = check_input_dim(input, n, owner)
    x = input.unsqueeze(0) if unbatched else input
    out = _out_size(x, output_size, n, owner)
    if kind == "avg":
        y = AdaptiveAvgPoolNd.apply(x, out)
        return y.squeeze(0) if unbatched else y
    y, idx = AdaptiveMaxPoolNd.apply(x, out)
    if unbatched:
        y, idx = y.squeeze(0), idx.squeeze(0)
    return (y, idx) if return_indices else y


def adaptive_avg_pool1d(input: Any, output_size: Any) -> Any:
    """Shape: (N, C, L_in) or (C, L_in) -> (N, C, output_size)."""
    return _adaptive(input, output_size, 1, "adaptive_avg_pool1d", "avg")


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Any:
    """Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, *output_size); None keeps that dim."""
    return _adaptive(input, output_size, 2, "adaptive_avg_pool2d", "avg")


@autocast_op("fp32")
def adaptive_avg_pool3d(input: Any, output_size: Any) -> Any:
    """Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, *output_size); None keeps that dim."""
    return _adaptive(input, output_size, 3, "adaptive_avg_pool3d", "avg")


def adaptive_max_pool1d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Shape: (N, C, L_in) or (C, L_in) -> (N, C, output_size); indices flat over L_in."""
    return _adaptive(input, output_size, 1, "adaptive_max_pool1d", "max", return_indices)


def adaptive_max_pool2d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, *output_size); indices flat over H_in * W_in."""
    return _adaptive(input, output_size, 2, "adaptive_max_pool2d", "max", return_indices)


def adaptive_max_pool3d(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, *output_size); indices flat per plane."""
    return _adaptive(input, output_size, 3, "adaptive_max_pool3d", "max", return_indices)


def adaptive_max_pool1d_with_indices(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """``adaptive_max_pool1d`` that always returns (output, indices). Shape: (N, C, L_in) -> (N, C, L_out) twice."""
    return _adaptive(input, output_size, 1, "adaptive_max_pool1d_with_indices", "max", True)


def adaptive_max_pool2d_with_indices(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """``adaptive_max_pool2d`` that always returns (output, indices). Shape: (N, C, H_in, W_in) -> (N, C, *out)."""
    return _adaptive(input, output_size, 2, "adaptive_max_pool2d_with_indices", "max", True)


def adaptive_max_pool3d_with_indices(input: Any, output_size: Any, return_indices: bool = False) -> Any:
    """``adaptive_max_pool3d`` that always returns (output, indices). Shape: (N, C, D, H, W) -> (N, C, *out)."""
    return _adaptive(input, output_size, 3, "adaptive_max_pool3d_with_indices", "max", True)


class _AdaptiveNd(Module):
    _n = 0
    _kind = "avg"

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Any) -> Any:
        return _adaptive(input, self.output_size, self._n, type(self).__name__, self._kind)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveMaxNd(_AdaptiveNd):
    _kind = "max"

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Any) -> Any:
        return _adaptive(input, self.output_size, self._n, type(self).__name__, "max", self.return_indices)


class AdaptiveAvgPool1d(_AdaptiveNd):
    """Shape: (N, C, L_in) or (C, L_in) -> (N, C, output_size) or (C, output_size)"""

    _n = 1


class AdaptiveAvgPool2d(_AdaptiveNd):
    """Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out) = output_size (None keeps the input's)"""

    _n = 2


class AdaptiveAvgPool3d(_AdaptiveNd):
    """Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out) = output_size"""

    _n = 3


class AdaptiveMaxPool1d(_AdaptiveMaxNd):
    """Shape: (N, C, L_in) or (C, L_in) -> (N, C, output_size); with return_indices also flat indices"""

    _n = 1


class AdaptiveMaxPool2d(_AdaptiveMaxNd):
    """Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out); indices flat over H_in * W_in"""

    _n = 2


class AdaptiveMaxPool3d(_AdaptiveMaxNd):
    """Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out); indices flat per plane"""

    _n = 3
