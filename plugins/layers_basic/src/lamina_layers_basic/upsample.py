"""F.interpolate (nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area) and the Upsample layers.

Interpolation is separable: along each spatial dim, output j is a weighted sum of a few input taps
(1 for nearest, 2 for linear, 4 for bicubic); one Function applies every dim forward and scatters back in
backward.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from lamina import Tensor
from lamina.errors import ShapeError
from lamina.nn import Module

from ._graph_grads import const, scatter_axis
from ._low_precision import Float32Function
from .grid_sample import _cubic
from .padding import _scatter_axis

__lamina_plugin_api__ = "1.0"

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def _axis_map(xp: Any, size: int, out: int, scale: float | None, mode: str, align_corners: bool, dtype: Any):
    """The taps of one dim: [(source index (out,), weight (out,) | None)]; nearest modes have one, unweighted."""
    dst = xp.arange(out, dtype=xp.float64)
    if mode in ("nearest", "nearest-exact"):
        ratio = 1.0 / scale if scale else size / out
        src = xp.floor((dst + 0.5) * ratio if mode == "nearest-exact" else dst * ratio)
        return [(xp.minimum(src.astype(xp.int64), size - 1), None)]
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
        src = dst * ratio
    else:
        ratio = 1.0 / scale if scale else size / out
        src = (dst + 0.5) * ratio - 0.5
        if mode != "bicubic":  # cubic taps may start left of the input (their reads are clamped instead)
            src = xp.maximum(src, 0.0)
    if mode == "bicubic":
        base = xp.floor(src)
        weights = _cubic(xp, src - base)[0]
        return [(xp.clip(base.astype(xp.int64) + (k - 1), 0, size - 1), w.astype(dtype))
                for k, w in enumerate(weights)]
    i0 = xp.minimum(xp.floor(src).astype(xp.int64), size - 1)
    i1 = xp.minimum(i0 + 1, size - 1)
    l1 = (src - i0).astype(dtype)
    return [(i0, (1 - l1).astype(dtype)), (i1, l1)]


def _along(w: Any, axis: int, ndim: int) -> Any:
    return w.reshape((-1,) + (1,) * (ndim - axis - 1))


class Interpolate(Float32Function):
    """x (N, C, *S) -> y (N, C, *out), separable gather with per-dim weights."""

    @staticmethod
    def forward(ctx, x, out, scales, mode, align_corners):
        xp = ctx.xp
        n = len(out)
        maps = tuple(_axis_map(xp, s, o, sc, mode, align_corners, x.dtype)
                     for s, o, sc in zip(x.shape[2:], out, scales))
        y = x
        for i, taps in enumerate(maps):
            axis = x.ndim - n + i
            if taps[0][1] is None:
                y = xp.take(y, taps[0][0], axis=axis)
                continue
            acc = None
            for idx, w in taps:
                term = xp.take(y, idx, axis=axis) * _along(w, axis, x.ndim)
                acc = term if acc is None else acc + term
            y = acc
        ctx.meta = (x.shape, maps)
        return y

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        shape, maps = ctx.meta
        n = len(maps)
        graph = isinstance(dy, Tensor)  # create_graph: the same scatters as differentiable index_adds
        dx = dy
        for i in reversed(range(n)):
            axis = len(shape) - n + i
            size = shape[axis]
            acc = None
            for idx, w in maps[i]:
                g = dx if w is None else dx * _along(const(w, dx, dx.dtype) if graph else w, axis, dx.ndim)
                part = scatter_axis(g, idx, axis, size) if graph else _scatter_axis(xp, g, idx, axis, size)
                acc = part if acc is None else acc + part
            dx = acc
        return dx, None, None, None, None


def interpolate(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Any:
    """Resize the spatial dims of (N, C, *S).

    Shape: input (N, C, *S) -> output (N, C, *size) or (N, C, floor(S * scale_factor))
    """
    owner = "interpolate"
    if mode not in MODES:
        raise NotImplementedError(f"{owner}: mode must be one of {MODES}, got {mode!r}")
    if antialias:
        raise NotImplementedError(f"{owner}: antialias=True is not supported")
    n = input.ndim - 2
    if n < 1 or n > 3:
        raise ShapeError(f"{owner}: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got {input.ndim}-D input of "
                         f"shape {tuple(input.shape)}")
    if mode in _LINEAR_DIMS and _LINEAR_DIMS[mode] != n:
        raise NotImplementedError(f"{owner}: got {input.ndim}D input, but {mode} mode needs "
                                  f"{_LINEAR_DIMS[mode] + 2}D input")
    if align_corners is not None and mode not in _LINEAR_DIMS:
        raise ValueError(f"{owner}: align_corners option can only be set with the interpolating modes: "
                         f"linear | bilinear | trilinear, got mode={mode!r}")
    align_corners = bool(align_corners)
    sizes = tuple(input.shape[2:])
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{owner}: expected exactly one of size or scale_factor, got size={size}, "
                         f"scale_factor={scale_factor}")
    if size is not None:
        out = tuple(int(s) for s in size) if isinstance(size, (list, tuple)) else (int(size),) * n
        if len(out) != n:
            raise ValueError(f"{owner}: expected size with {n} elements (the input's spatial dims {sizes}), got "
                             f"{tuple(size)}")
        scales = (None,) * n
    else:
        sf = tuple(float(s) for s in scale_factor) if isinstance(scale_factor, (list, tuple)) else \
            (float(scale_factor),) * n
        if len(sf) != n:
            raise ValueError(f"{owner}: expected scale_factor with {n} elements (the input's spatial dims {sizes}), "
                             f"got {tuple(scale_factor)}")
        out = tuple(int(math.floor(s * f)) for s, f in zip(sizes, sf))
        scales = (None,) * n if recompute_scale_factor else sf
    if any(o <= 0 for o in out) or any(s <= 0 for s in sizes):
        raise ShapeError(f"{owner}: expected input and output sizes greater than 0, got input {sizes} and output "
                         f"{out}")
    if mode == "area":
        from .adaptive_pool import _adaptive

        return _adaptive(input, out, n, owner, "avg")
    return Interpolate.apply(input, out, scales, mode, align_corners)


def upsample(input: Any, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Any:
    """Deprecated alias of ``interpolate`` (warns, as PyTorch does)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.", UserWarning,
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Any, size: Any = None, scale_factor: Any = None) -> Any:
    """Deprecated: ``interpolate(input, size, scale_factor, mode='nearest')``; warns, as PyTorch does."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Any, size: Any = None, scale_factor: Any = None) -> Any:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``; warns, as PyTorch does."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  UserWarning, stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


class Upsample(Module):
    """Upsample (N, C, *S) by nearest / linear / bilinear / trilinear interpolation.

    Shape: (N, C, *S_in) -> (N, C, *S_out), S_out = size or floor(S_in * scale_factor)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None) -> None:
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners, self.recompute_scale_factor = mode, align_corners, recompute_scale_factor

    def forward(self, input: Any) -> Any:
        return interpolate(input, self.size, self.scale_factor, self.mode, self.align_corners,
                           recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour 2-D upsampling.

    Shape: (N, C, H_in, W_in) -> (N, C, H_out, W_out), H_out = size[0] or floor(H_in * scale_factor)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear 2-D upsampling with align_corners=True.

    Shape: (N, C, H_in, W_in) -> (N, C, H_out, W_out), H_out = size[0] or floor(H_in * scale_factor)
    """

    def __init__(self, size: Any = None, scale_factor: Any = None) -> None:
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)
