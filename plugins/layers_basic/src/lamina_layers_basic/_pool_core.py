"""Array-level pooling kernels (max with first-max indices, average with PyTorch's divisors)."""

from __future__ import annotations

import itertools
from typing import Any

from lamina import Tensor
from lamina.autograd import Function

from ._graph_grads import const, scatter_plane, scatter_windows, window_index
from ._im2col import crop_array, offset_slices, pad_array, windows
from ._low_precision import Float32Function

__lamina_plugin_api__ = "1.0"


def _right_pads(sizes, kernel, stride, dilation, pad, out):
    """(left, right) pads so every window of ``out`` fits (ceil_mode may need more on the right)."""
    pairs = []
    for s, k, st, d, p, o in zip(sizes, kernel, stride, dilation, pad, out):
        need = (o - 1) * st + d * (k - 1) + 1 if o > 0 else 0
        pairs.append((p, max(need - s - p, 0)))
    return tuple(pairs)


def _is_tiling(kernel, stride, dilation, pad, sizes, out) -> bool:
    """Non-overlapping windows inside the input: pooling is a reshape, no strided view or padding."""
    return (tuple(kernel) == tuple(stride) and all(d == 1 for d in dilation) and not any(pad)
            and all(o * k <= s for o, k, s in zip(out, kernel, sizes)))


def window_matrix(xp: Any, x: Any, kernel, stride, dilation, pad, out, fill: float) -> Any:
    """Every window, flattened: x (N, C, *S) -> (N, C, *out, K), one copy."""
    n = len(kernel)
    lead = x.shape[:2]
    K = 1
    for k in kernel:
        K *= k
    if _is_tiling(kernel, stride, dilation, pad, x.shape[2:], out):
        # non-overlapping windows: a reshape of the (cropped) input, no strided view needed
        xc = x[(Ellipsis,) + tuple(slice(0, o * k) for o, k in zip(out, kernel))]
        split = lead + tuple(v for o, k in zip(out, kernel) for v in (o, k))
        order = (0, 1) + tuple(2 + 2 * i for i in range(n)) + tuple(3 + 2 * i for i in range(n))
        return xc.reshape(split).transpose(order).reshape(lead + tuple(out) + (K,))
    xpad = pad_array(xp, x, _right_pads(x.shape[2:], kernel, stride, dilation, pad, out), fill)
    view = windows(xp, xpad, kernel, stride, dilation, out)                  # (N, C, *k, *out)
    order = (0, 1) + tuple(range(2 + n, 2 + 2 * n)) + tuple(range(2, 2 + n))
    return view.transpose(order).reshape(lead + tuple(out) + (K,))


def flat_indices(xp: Any, arg: Any, sizes, kernel, stride, dilation, pad, out) -> Any:
    """Kernel-offset argmax (N, C, *out) -> index into the flattened input plane (PyTorch's convention)."""
    n = len(kernel)
    rest = arg
    coords = [None] * n
    for i in reversed(range(n)):
        k_i = rest % kernel[i]
        rest = rest // kernel[i]
        shape = [1] * n
        shape[i] = out[i]
        base = (xp.arange(out[i]) * stride[i] - pad[i]).reshape(shape)
        coords[i] = xp.clip(base + k_i * dilation[i], 0, sizes[i] - 1)
    flat = coords[0]
    for i in range(1, n):
        flat = flat * sizes[i] + coords[i]
    return flat.astype(xp.int64)


def _offsets(kernel):
    return list(itertools.product(*(range(k) for k in kernel)))


class MaxPoolNd(Function):
    """Max over each window, gradient and indices by PyTorch's CPU scan rule (the first max; a NaN wins,
    the last NaN if several). x (N, C, *S) -> y (N, C, *out) [, idx (N, C, *out)]

    Forward is a running ``maximum`` over one strided slice per kernel offset (no window copy);
    backward finds each window's first max with one comparison per offset. Non-overlapping windows
    (kernel == stride, no padding) record the first-max offset as a small int in forward instead.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, pad, dilation, out, return_indices):
        xp = ctx.xp
        ctx.arg = None
        if _is_tiling(kernel, stride, dilation, pad, x.shape[2:], out) and (ctx.needs_input_grad[0] or return_indices):
            y, arg = _tiling_max(xp, x, kernel, out)
            ctx.meta = (x.shape, kernel, out)
            ctx.arg = True
            ctx.save_for_backward(arg)
            if not return_indices:
                return y
            idx = flat_indices(xp, arg, x.shape[2:], kernel, kernel, dilation, pad, out)
            ctx.mark_non_differentiable(idx)
            return y, idx
        pairs = _right_pads(x.shape[2:], kernel, stride, dilation, pad, out)
        xpad = pad_array(xp, x, pairs, -xp.inf)
        y = None
        for offset in _offsets(kernel):
            v = xpad[(Ellipsis,) + offset_slices(offset, stride, dilation, out)]
            y = xp.array(v) if y is None else xp.maximum(y, v)
        ctx.meta = (x.shape, kernel, stride, dilation, pad, pairs, out)
        ctx.save_for_backward(xpad, y)
        if not return_indices:
            return y
        arg = _scan_argmax(xp, xpad, y, kernel, stride, dilation, out)
        idx = flat_indices(xp, arg, x.shape[2:], kernel, stride, dilation, pad, out)
        ctx.mark_non_differentiable(idx)
        return y, idx

    @staticmethod
    def backward(ctx, dy, _didx=None):                              # dy: (N, C, *out)
        xp = ctx.xp
        if isinstance(dy, Tensor):  # create_graph: dy scattered to each window's first max, differentiably
            return (scatter_plane(dy, _max_positions(ctx), ctx.meta[0]),) + (None,) * 6
        if ctx.arg:
            return (_tiling_max_backward(xp, dy, *ctx.saved_tensors, *ctx.meta),) + (None,) * 6
        xpad, y = ctx.saved_tensors
        shape, kernel, stride, dilation, pad, pairs, out = ctx.meta
        disjoint = all(st >= (k - 1) * d + 1 for k, st, d in zip(kernel, stride, dilation))
        dx = (xp.empty if disjoint and not any(pad) and _covers(shape, kernel, stride, out) else xp.zeros)(
            xpad.shape, dtype=dy.dtype)
        arg = _scan_argmax(xp, xpad, y, kernel, stride, dilation, out) if bool((y != y).any()) else None
        seen = None
        offsets = _offsets(kernel)
        for k, offset in enumerate(offsets):
            sl = (Ellipsis,) + offset_slices(offset, stride, dilation, out)
            if arg is not None:
                first = arg == k
            else:
                eq = xpad[sl] == y
                if seen is None:
                    first = seen = eq
                else:
                    first = eq > seen                               # equal to the max and none before it
                    if k + 1 < len(offsets):
                        seen = seen | eq
            if disjoint:                                             # windows don't overlap: plain stores
                xp.multiply(dy, first, out=dx[sl])
            else:
                dx[sl] += dy * first
        return crop_array(dx, pairs), None, None, None, None, None, None


def _max_positions(ctx) -> Any:
    """Flat input-plane position (N, C, *out) of each window's first max (the array path's choice)."""
    xp = ctx.device.backend.xp
    saved = [t.array for t in ctx.saved_tensors]
    if ctx.arg:
        shape, kernel, out = ctx.meta
        ones = (1,) * len(kernel)
        return flat_indices(xp, saved[0], shape[2:], kernel, kernel, ones, (0,) * len(kernel), out)
    shape, kernel, stride, dilation, pad, pairs, out = ctx.meta
    arg = _scan_argmax(xp, saved[0], saved[1], kernel, stride, dilation, out)
    return flat_indices(xp, arg, shape[2:], kernel, stride, dilation, pad, out)


def _tiling_max(xp, x, kernel, out):
    """Max and first-max offset (small ints) over non-overlapping windows: y, arg (N, C, *out).

    One pass per kernel offset: ``v > y`` marks where this offset is the first strictly larger
    value so far, and since offsets come in increasing order the last mark wins, which is a
    running ``maximum`` of ``mark * k``. A NaN is never ``>``; inputs with NaN windows take the scan.
    """
    offsets = _offsets(kernel)
    ones = (1,) * len(kernel)
    small = xp.int8 if len(offsets) < 128 else xp.int32
    y = xp.array(x[(Ellipsis,) + offset_slices(offsets[0], kernel, ones, out)])
    arg = xp.zeros(y.shape, dtype=small)
    mark = xp.empty(y.shape, dtype=bool)
    tmp = xp.empty(y.shape, dtype=small)
    for k in range(1, len(offsets)):
        v = x[(Ellipsis,) + offset_slices(offsets[k], kernel, ones, out)]
        xp.greater(v, y, out=mark)
        xp.maximum(y, v, out=y)
        xp.multiply(mark, small(k), out=tmp)
        xp.maximum(arg, tmp, out=arg)
    if bool(xp.isnan(y).any()):
        arg = _scan_argmax(xp, x, y, kernel, kernel, ones, out)
    return y, arg


def _tiling_max_backward(xp, dy, arg, shape, kernel, out):
    """dx (N, C, *S): each window's dy stored at its first max, one strided store per kernel offset."""
    ones = (1,) * len(kernel)
    dx = (xp.empty if _covers(shape, kernel, kernel, out) else xp.zeros)(shape, dtype=dy.dtype)
    for k, offset in enumerate(_offsets(kernel)):
        xp.multiply(dy, arg == k, out=dx[(Ellipsis,) + offset_slices(offset, kernel, ones, out)])
    return dx


def _covers(shape, kernel, stride, out) -> bool:
    """Windows tile the whole input exactly (so every input position gets a store)."""
    return all(o * st == s and k == st for s, k, st, o in zip(shape[2:], kernel, stride, out))


def _scan_argmax(xp, xpad, y, kernel, stride, dilation, out):
    """Kernel offset of each window's max by PyTorch's scan: ``val > max or isnan(val)`` updates."""
    offsets = _offsets(kernel)
    best = xp.array(xpad[(Ellipsis,) + offset_slices(offsets[0], stride, dilation, out)])
    arg = xp.zeros(y.shape, dtype=xp.int64)
    for k in range(1, len(offsets)):
        v = xpad[(Ellipsis,) + offset_slices(offsets[k], stride, dilation, out)]
        better = (v > best) | (v != v)
        best = xp.where(better, v, best)
        arg = xp.where(better, k, arg)
    return arg


def avg_divisor(xp: Any, sizes, kernel, stride, pad, out, count_include_pad: bool, dtype: Any) -> Any:
    """PyTorch's divisor per output position (*out): window size within (input + padding) or input."""
    n = len(kernel)
    div = None
    for i in range(n):
        start = xp.arange(out[i]) * stride[i] - pad[i]
        end = xp.minimum(start + kernel[i], sizes[i] + pad[i])
        if count_include_pad:
            size = end - start
        else:
            size = xp.minimum(end, sizes[i]) - xp.maximum(start, 0)
        shape = [1] * n
        shape[i] = out[i]
        size = size.reshape(shape)
        div = size if div is None else div * size
    return div.astype(dtype)


class AvgPoolNd(Float32Function):
    """Mean over each window (PyTorch's divisor rules). x (N, C, *S) -> y (N, C, *out)"""

    @staticmethod
    def forward(ctx, x, kernel, stride, pad, out, count_include_pad, divisor_override):
        xp = ctx.xp
        pairs = _right_pads(x.shape[2:], kernel, stride, (1,) * len(kernel), pad, out)
        if divisor_override:
            div = xp.asarray(divisor_override, dtype=x.dtype)
        else:
            div = avg_divisor(xp, x.shape[2:], kernel, stride, pad, out, count_include_pad, x.dtype)
        ctx.meta = (x.shape, kernel, stride, pairs, out, div)
        ones = (1,) * len(kernel)
        if _is_tiling(kernel, stride, ones, pad, x.shape[2:], out) and not divisor_override:
            return window_matrix(xp, x, kernel, stride, ones, pad, out, 0.0).mean(axis=-1)
        xpad = pad_array(xp, x, pairs)
        acc = xp.zeros(x.shape[:2] + tuple(out), dtype=x.dtype)
        if 0 not in out:
            for offset in itertools.product(*(range(k) for k in kernel)):
                acc += xpad[(Ellipsis,) + offset_slices(offset, stride, (1,) * len(kernel), out)]
        return acc / div

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        shape, kernel, stride, pairs, out, div = ctx.meta
        if isinstance(dy, Tensor):  # create_graph: each window's share scattered back, differentiably
            ones = (1,) * len(kernel)
            idx = window_index(tuple(shape[2:]), kernel, stride, ones, tuple(lo for lo, _ in pairs), out)
            g = (dy / const(div, dy, dy.dtype)).reshape(shape[:2] + (1, idx.shape[1]))
            return (scatter_windows(g.expand(shape[:2] + idx.shape), idx, tuple(shape[2:])),) + (None,) * 6
        g = dy / div
        padded = shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(shape[2:], pairs))
        dx = xp.zeros(padded, dtype=dy.dtype)
        if 0 not in out:
            for offset in itertools.product(*(range(k) for k in kernel)):
                dx[(Ellipsis,) + offset_slices(offset, stride, (1,) * len(kernel), out)] += g
        return crop_array(dx, pairs), None, None, None, None, None, None
