"""Sliding-window machinery shared by convolution, transposed convolution, pooling and fold.

Everything here works on backend arrays with the array namespace ``xp`` and is written once for
any number of spatial dims. ``windows`` is a zero-copy strided view; ``col2im`` is its adjoint,
accumulated with one strided add per kernel offset (never a loop over output positions).
"""

from __future__ import annotations

import itertools
from typing import Any

__lamina_plugin_api__ = "1.0"


def pad_array(xp: Any, x: Any, pads: tuple[tuple[int, int], ...], value: float = 0.0) -> Any:
    """Pad the last ``len(pads)`` dims of ``x`` by (left, right) with a constant (all pads >= 0)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    n = len(pads)
    shape = x.shape[:-n] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[-n:], pads))
    out = xp.full(shape, value, dtype=x.dtype) if value else xp.zeros(shape, dtype=x.dtype)
    out[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[-n:], pads))] = x
    return out


def crop_array(x: Any, pads: tuple[tuple[int, int], ...]) -> Any:
    """Inverse of ``pad_array``: a view without the padding."""
    if not any(lo or hi for lo, hi in pads):
        return x
    n = len(pads)
    return x[(Ellipsis,) + tuple(slice(lo, s - hi) for s, (lo, hi) in zip(x.shape[-n:], pads))]


def windows(xp: Any, x: Any, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
            out: tuple[int, ...]) -> Any:
    """Zero-copy view of every window: x (*lead, *S) -> (*lead, *kernel, *out)."""
    n = len(kernel)
    st = x.strides
    sp = st[len(st) - n:]
    shape = x.shape[:x.ndim - n] + tuple(kernel) + tuple(out)
    strides = st[:len(st) - n] + tuple(s * d for s, d in zip(sp, dilation)) + tuple(s * t for s, t in zip(sp, stride))
    return xp.lib.stride_tricks.as_strided(x, shape=shape, strides=strides)


def offset_slices(offset: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                  out: tuple[int, ...]) -> tuple[slice, ...]:
    """The input positions read by kernel offset ``offset`` over all outputs, as slices."""
    return tuple(slice(i * d, i * d + s * (o - 1) + 1, s) for i, d, s, o in zip(offset, dilation, stride, out))


def col2im(xp: Any, cols: Any, shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
           dilation: tuple[int, ...], out: tuple[int, ...]) -> Any:
    """Adjoint of ``windows``: cols (*lead, *kernel, *out) summed back into an array of ``shape``."""
    n = len(kernel)
    lead = cols.ndim - 2 * n
    dx = xp.zeros(shape, dtype=cols.dtype)
    if 0 in out:
        return dx
    for offset in itertools.product(*(range(k) for k in kernel)):
        dx[(Ellipsis,) + offset_slices(offset, stride, dilation, out)] += cols[(slice(None),) * lead + offset]
    return dx


def gemm_cols(xp: Any, xpad: Any, groups: int, kernel: tuple[int, ...], stride: tuple[int, ...],
              dilation: tuple[int, ...], out: tuple[int, ...]) -> Any:
    """im2col in GEMM layout: xpad (N, C, *S) -> cols (G, C/G * K, N * L), one contiguous copy."""
    n = len(kernel)
    N, C = xpad.shape[:2]
    view = windows(xp, xpad, kernel, stride, dilation, out)               # (N, C, *k, *out)
    order = (1,) + tuple(range(2, 2 + n)) + (0,) + tuple(range(2 + n, 2 + 2 * n))
    cols = xp.ascontiguousarray(view.transpose(order))                   # (C, *k, N, *out)
    K = 1
    for k in kernel:
        K *= k
    L = 1
    for o in out:
        L *= o
    return cols.reshape(groups, C // groups * K, N * L)


def gemm_col2im(xp: Any, dcols: Any, shape: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                dilation: tuple[int, ...], out: tuple[int, ...]) -> Any:
    """Adjoint of ``gemm_cols``: dcols (G, C/G * K, N * L) -> array of ``shape`` = (N, C, *S)."""
    n = len(kernel)
    N, C = shape[:2]
    d = dcols.reshape((C,) + tuple(kernel) + (N,) + tuple(out))          # (C, *k, N, *out)
    order = (1 + n, 0) + tuple(range(1, 1 + n)) + tuple(range(2 + n, 2 + 2 * n))
    return col2im(xp, d.transpose(order), shape, kernel, stride, dilation, out)


def to_gemm(x: Any, groups: int) -> Any:
    """(N, C, *S) -> (G, C/G, N * L): the channels-first layout a grouped GEMM wants (one copy)."""
    N, C = x.shape[:2]
    return x.swapaxes(0, 1).reshape(groups, C // groups, -1)


def from_gemm(xp: Any, y: Any, N: int, spatial: tuple[int, ...]) -> Any:
    """(G, O/G, N * L) -> (N, O, *S), contiguous."""
    G, Og = y.shape[:2]
    return xp.ascontiguousarray(y.reshape((G * Og, N) + tuple(spatial)).swapaxes(0, 1))
