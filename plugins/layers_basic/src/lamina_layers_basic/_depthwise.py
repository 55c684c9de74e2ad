"""Stride-1 depthwise convolution (groups == C == O) on flat, unpadded planes with masked weights.

Every kernel offset is one flat shift of the whole (N, C, *S) input. Reads that would fall into
the zero padding land on a neighbouring row or plane instead; the weight plane of that offset is
zero there, so they contribute nothing. With the weight expanded to a (C * L,) plane per offset,
each multiply and add runs over N rows of C * L contiguous elements: no padding copy, no crop,
no short rows. A masked read of a non-finite value would give 0 * inf = NaN, so inputs (and
output gradients) that are not all finite take the padded-plane path in ``_im2col`` instead.
"""

from __future__ import annotations

import itertools
from typing import Any

__lamina_plugin_api__ = "1.0"


def applies(xp: Any, x: Any, sizes: tuple[int, ...], out: tuple[int, ...]) -> bool:
    """The output fits in the input grid (padding at most 'same') and ``x`` is all finite."""
    return all(o <= s for o, s in zip(out, sizes)) and bool(xp.isfinite(x).all())


class MaskedPlanes:
    """Geometry: flat shift and masked weight plane (K, C, L) of every kernel offset on an input-sized grid."""

    def __init__(self, xp: Any, w: Any, shape: tuple[int, ...], pads, dilation, out) -> None:
        self.N, self.C = shape[:2]
        sizes = tuple(shape[2:])
        kernel = tuple(w.shape[2:])
        self.sizes, self.out = sizes, tuple(out)
        step = [1] * len(sizes)
        for i in range(len(sizes) - 2, -1, -1):
            step[i] = step[i + 1] * sizes[i + 1]
        self.L = step[0] * sizes[0]
        self.offsets = []
        masks = []
        for k in itertools.product(*(range(v) for v in kernel)):
            shift = [i * d - lo for i, d, (lo, _) in zip(k, dilation, pads)]
            self.offsets.append(sum(s * t for s, t in zip(shift, step)))
            mask = None
            for axis, (s, size) in enumerate(zip(shift, sizes)):
                pos = xp.arange(size) + s
                valid = ((pos >= 0) & (pos < size)).reshape((size,) + (1,) * (len(sizes) - axis - 1))
                mask = valid if mask is None else mask & valid
            masks.append(mask.reshape(-1))
        self.masks = xp.stack(masks).astype(w.dtype)                          # (K, L)
        wk = w.reshape(self.C, len(masks)).T                                  # (K, C)
        self.planes = (wk[:, :, None] * self.masks[:, None, :]).reshape(len(masks), self.C * self.L)
        self.slack = max(abs(o) for o in self.offsets)

    def flat(self, xp: Any, ws: Any, x: Any, tag: str) -> Any:
        """``x`` flattened into a workspace buffer with ``slack`` zeros on each side."""
        size = self.N * self.C * self.L
        buf = ws.workspace((size + 2 * self.slack,), x.dtype, tag)
        buf[:self.slack] = 0
        buf[self.slack + size:] = 0
        buf[self.slack:self.slack + size].reshape(x.shape)[...] = x
        return buf

    def shifted(self, buf: Any, off: int) -> Any:
        """(N, C * L) view of ``buf`` moved by ``off``."""
        start = self.slack + off
        return buf[start:start + self.N * self.C * self.L].reshape(self.N, self.C * self.L)

    def grid(self, xp: Any, ws: Any, dy: Any) -> Any:
        """dy (N, C, *out) as a contiguous (N, C * L) grid (zeros beyond ``out``)."""
        if self.out == self.sizes:
            return xp.ascontiguousarray(dy).reshape(self.N, self.C * self.L)
        g = ws.workspace((self.N, self.C) + self.sizes, dy.dtype, "dwm_dgrid")
        g[...] = 0
        g[(Ellipsis,) + tuple(slice(0, o) for o in self.out)] = dy
        return g.reshape(self.N, self.C * self.L)


def forward(xp: Any, ws: Any, x: Any, w: Any, pads, dilation, out) -> tuple[Any, MaskedPlanes]:
    """y (N, C, *out) = sum over kernel offsets of the masked weight plane times the shifted input."""
    geo = MaskedPlanes(xp, w, x.shape, pads, dilation, out)
    N, C = geo.N, geo.C
    buf = geo.flat(xp, ws, x, "dwm_x")
    exact = geo.out == geo.sizes
    y = xp.empty((N, C * geo.L), dtype=x.dtype) if exact else ws.workspace((N, C * geo.L), x.dtype, "dwm_y")
    tmp = ws.workspace((N, C * geo.L), x.dtype, "dwm_tmp")
    for i, off in enumerate(geo.offsets):
        xp.multiply(geo.shifted(buf, off), geo.planes[i], out=tmp if i else y)
        if i:
            y += tmp
    y = y.reshape((N, C) + geo.sizes)
    if not exact:
        y = xp.ascontiguousarray(y[(Ellipsis,) + tuple(slice(0, o) for o in geo.out)])
    return y, geo


def backward(xp: Any, ws: Any, dy: Any, x: Any, w: Any, x_shape, pads, dilation, out, need_x: bool,
             need_w: bool) -> tuple[Any, Any]:
    """Gradients of ``forward``: dx (N, C, *S) | None, dw (C, 1, *k) | None."""
    geo = MaskedPlanes(xp, w, x_shape, pads, dilation, out)
    N, C, L = geo.N, geo.C, geo.L
    size = N * C * L
    g = geo.grid(xp, ws, dy)                                                  # (N, C * L)
    tmp = ws.workspace((N, C * L), dy.dtype, "dwm_tmp")
    dx = dw = None
    if need_x:
        dx = xp.zeros(size, dtype=dy.dtype)
        flat = tmp.reshape(-1)
        for i, off in enumerate(geo.offsets):
            # dx[p + off] += plane[p] * dy[p]; the dropped ends are masked (zero) terms
            xp.multiply(g, geo.planes[i], out=tmp)
            dx[max(off, 0):size + min(off, 0)] += flat[max(-off, 0):size - max(off, 0)]
        dx = dx.reshape(x_shape)
    if need_w:
        buf = geo.flat(xp, ws, x, "dwm_x")
        cols = []
        for i, off in enumerate(geo.offsets):
            xp.multiply(g, geo.shifted(buf, off), out=tmp)
            cols.append(tmp.sum(axis=0).reshape(C, L) @ geo.masks[i])        # (C,)
        dw = xp.stack(cols, axis=1).reshape(w.shape)
    return dx, dw
