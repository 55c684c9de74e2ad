"""Sliding-window machinery shared by convolution, transposed convolution, pooling and fold.

Everything here works on backend arrays with the array namespace ``xp`` and is written once for
any number of spatial dims. ``windows`` is a zero-copy strided view; ``col2im`` is its adjoint,
accumulated with one strided add per kernel offset (never a loop over output positions). Scratch
arrays (padded inputs, column matrices) come from the backend's ``workspace`` (``ws``): on the CPU a
pool that reuses them once nothing references them, so a step does not page-fault fresh memory in.
"""

from __future__ import annotations

import itertools
import math
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


def padded(xp: Any, ws: Any, x: Any, pads: tuple[tuple[int, int], ...]) -> Any:
    """``x`` zero-padded on its last ``len(pads)`` dims in a workspace array (``x`` itself without pads).

    Its border is only ever written with zeros, so a reused array of this tag needs only the interior.
    """
    if not any(lo or hi for lo, hi in pads):
        return x
    n = len(pads)
    shape = x.shape[:-n] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[-n:], pads))
    out = ws.workspace(shape, x.dtype, ("pad", pads), zeros=True)
    inner = out[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[-n:], pads))]
    if x.ndim > n:
        copy_by_rows(ws, inner, x)
    else:
        inner[...] = x
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


def copy_by_rows(ws: Any, dst: Any, src: Any) -> Any:
    """``dst[...] = src`` cut along the first axis for the backend's ``parallel_for`` (a layout copy:
    each piece writes its own rows, so any cut gives the same bits); returns ``dst``."""
    n = dst.shape[0]
    row_bytes = max(dst.nbytes // max(n, 1), 1)

    def copy(start: int, stop: int) -> None:
        dst[start:stop] = src[start:stop]

    ws.parallel_for(n, copy, grain=-(-(1 << 18) // row_bytes))
    return dst


def from_gemm(xp: Any, y: Any, N: int, spatial: tuple[int, ...]) -> Any:
    """(G, O/G, N * L) -> (N, O, *S), contiguous."""
    G, Og = y.shape[:2]
    return xp.ascontiguousarray(y.reshape((G * Og, N) + tuple(spatial)).swapaxes(0, 1))


def is_pointwise(kernel: tuple[int, ...], stride: tuple[int, ...], pads: tuple[tuple[int, int], ...]) -> bool:
    """A 1x1, stride-1, unpadded convolution: its column matrix is the input itself."""
    return all(k == 1 for k in kernel) and all(s == 1 for s in stride) and not any(lo or hi for lo, hi in pads)


def conv_cols(xp: Any, ws: Any, x: Any, pads: tuple[tuple[int, int], ...], groups: int, kernel: tuple[int, ...],
              stride: tuple[int, ...], dilation: tuple[int, ...], out: tuple[int, ...], tag: str,
              dest: Any = None) -> Any:
    """Per-sample im2col: x (N, C, *S) -> cols (N, G, C/G * K, L), rows ordered (c, *k) like the weight.

    The batched GEMM ``w (G, O/G, C/G*K) @ cols`` then writes (N, G, O/G, L), which is already the
    NCHW output: no layout copy on either side. The padded input and the column matrix are
    workspace arrays (the columns go to ``dest``, a contiguous (N, C, *k, *out) array, when given);
    the column copy is cut by sample for the backend's ``parallel_for``. A 1x1, stride-1 unpadded
    convolution needs no column matrix at all.
    """
    N, C = x.shape[:2]
    K = 1
    for k in kernel:
        K *= k
    L = 1
    for o in out:
        L *= o
    if is_pointwise(kernel, stride, pads):
        return x.reshape(N, groups, C // groups, L)
    xpad = padded(xp, ws, x, pads)
    view = windows(xp, xpad, kernel, stride, dilation, out)                # (N, C, *k, *out)
    cols = ws.workspace(view.shape, x.dtype, tag) if dest is None else dest.reshape(view.shape)

    def copy(start: int, stop: int) -> None:
        cols[start:stop] = view[start:stop]

    # samples are independent: the backend may copy them on several threads, 256 KiB or more a piece
    sample_bytes = max(math.prod(view.shape[1:]) * view.itemsize, 1)
    ws.parallel_for(N, copy, grain=-(-(1 << 18) // sample_bytes))
    return cols.reshape(N, groups, C // groups * K, L)


def flipped_weight(xp: Any, w: Any, groups: int) -> Any:
    """w (O, C/G, *k) -> (G, C/G, O/G * K), spatially flipped: the kernel of the input gradient."""
    n = w.ndim - 2
    O, Cg = w.shape[:2]
    wf = w[(slice(None), slice(None)) + (slice(None, None, -1),) * n]
    wf = wf.reshape((groups, O // groups, Cg) + w.shape[2:]).swapaxes(1, 2)   # (G, C/G, O/G, *k)
    return xp.ascontiguousarray(wf).reshape(groups, Cg, O // groups * math.prod(w.shape[2:]))


class _Plane:
    """Stride-1 depthwise geometry on flattened padded planes: every kernel offset is one shift.

    Rows of the output are computed at the padded row width (the extra columns are dropped), so
    each offset reads one contiguous run per (n, c) plane instead of many short rows.
    """

    def __init__(self, xp: Any, shape: tuple[int, ...], pads, dilation, out, kernel) -> None:
        self.N, self.C = shape[:2]
        self.padded = tuple(s + lo + hi for s, (lo, hi) in zip(shape[2:], pads))
        pst = [1] * len(self.padded)
        for i in range(len(self.padded) - 2, -1, -1):
            pst[i] = pst[i + 1] * self.padded[i + 1]
        self.P = pst[0] * self.padded[0]
        self.Q = out[0] * pst[0]
        self.out = out
        self.offsets = [(k, sum(a * d * t for a, d, t in zip(k, dilation, pst)))
                        for k in itertools.product(*(range(v) for v in kernel))]
        self.slack = self.offsets[-1][1]

    def flat(self, xp: Any, ws: Any, x: Any, pads, tag: str) -> Any:
        """x (N, C, *S) zero-padded into a flat buffer with slack for the largest shift."""
        size = self.N * self.C * self.P
        buf = ws.workspace((size + self.slack,), x.dtype, tag)
        buf[size:] = 0
        buf[:size].reshape((self.N, self.C) + self.padded)[...] = pad_array(xp, x, pads)
        return buf

    def shifted(self, buf: Any, off: int) -> Any:
        """(N, C, Q) view of ``buf`` shifted by ``off``."""
        return buf[off:off + self.N * self.C * self.P].reshape(self.N, self.C, self.P)[:, :, :self.Q]

    def crop(self, g: Any) -> Any:
        """Grid (N, C, Q) -> (N, C, *out), dropping the extra columns."""
        g = g.reshape((self.N, self.C, self.out[0]) + self.padded[1:])
        return g[(Ellipsis,) + tuple(slice(0, o) for o in self.out[1:])]


def depthwise_forward(xp: Any, ws: Any, x: Any, w: Any, pads: tuple[tuple[int, int], ...], dilation: tuple[int, ...],
                      out: tuple[int, ...]) -> Any:
    """Stride-1, groups == C == O: y (N, C, *out) = sum over kernel offsets of w[:, 0, offset] * shifted x."""
    C = x.shape[1]
    geo = _Plane(xp, x.shape, pads, dilation, out, w.shape[2:])
    buf = geo.flat(xp, ws, x, pads, "dw_x")
    grid = ws.workspace((geo.N, C, geo.Q), x.dtype, "dw_grid")
    tmp = ws.workspace((geo.N, C, geo.Q), x.dtype, "dw_tmp")
    for i, (k, off) in enumerate(geo.offsets):
        wk = w[(slice(None), 0) + k].reshape(C, 1)
        xp.multiply(geo.shifted(buf, off), wk, out=grid if i == 0 else tmp)
        if i:
            grid += tmp
    return xp.ascontiguousarray(geo.crop(grid))


def depthwise_backward(xp: Any, ws: Any, dy: Any, x: Any, w: Any, x_shape: tuple[int, ...],
                       pads: tuple[tuple[int, int], ...], dilation: tuple[int, ...], out: tuple[int, ...],
                       need_x: bool, need_w: bool) -> tuple[Any, Any]:
    """Gradients of ``depthwise_forward``: dx (N, C, *S) | None, dw (C, 1, *k) | None."""
    C = x_shape[1]
    geo = _Plane(xp, x_shape, pads, dilation, out, w.shape[2:])
    dgrid = ws.workspace((geo.N, C, geo.Q), dy.dtype, "dw_dgrid")
    dgrid[...] = 0
    geo.crop(dgrid)[...] = dy
    tmp = ws.workspace((geo.N, C, geo.Q), dy.dtype, "dw_tmp")
    buf = geo.flat(xp, ws, x, pads, "dw_x") if need_w else None
    dbuf = None
    if need_x:
        dbuf = ws.workspace((geo.N * C * geo.P + geo.slack,), dy.dtype, "dw_dx")
        dbuf[...] = 0
    dw = xp.empty(w.shape, dtype=dy.dtype) if need_w else None
    for k, off in geo.offsets:
        if need_w:
            xp.multiply(dgrid, geo.shifted(buf, off), out=tmp)
            dw[(slice(None), 0) + k] = tmp.sum(axis=(0, 2))
        if need_x:
            xp.multiply(dgrid, w[(slice(None), 0) + k].reshape(C, 1), out=tmp)
            geo.shifted(dbuf, off)[...] += tmp
    dx = None
    if need_x:
        dxpad = dbuf[:geo.N * C * geo.P].reshape((geo.N, C) + geo.padded)
        dx = xp.ascontiguousarray(crop_array(dxpad, pads))
    return dx, dw
