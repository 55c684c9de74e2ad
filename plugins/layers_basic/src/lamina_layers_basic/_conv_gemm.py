"""Convolution's GEMMs in two layouts: per sample (``sample_*``) and batch-folded (``fold_*``).

Per sample, cols (N, G, C/G*K, L) and a batched GEMM write the NCHW output directly; samples whose
columns are large are handled one at a time (still in cache for their GEMM, no batch-sized buffer).
A per-sample GEMM ``w (O, C*K) @ cols (C*K, L)`` has only ``L`` columns; at L = 16 (ResNet-18's
512-channel stage, 4x4 outputs) BLAS rereads the whole weight for every sample and runs far below
its peak, and the weight gradient's per-sample products (N, C*K, O) cost N times the weight's memory
before they are summed. Folding the batch into the columns, ``cols (G, C/G*K, N*L)`` in (c, *k, n,
*out) order, makes each direction one large GEMM; it costs one transpose of the output (forward) and
of dy (backward), which is cheap when L is small. ``folds`` is the measured rule for when.
"""

from __future__ import annotations

import math
from typing import Any

import lamina

from ._im2col import col2im, conv_cols, crop_array, flipped_weight, from_gemm, gemm_col2im, padded, windows
from ._phase import strided_input_grad

__lamina_plugin_api__ = "1.0"

#: fold the batch when one sample's output has at most this many positions and a group's weight has
#: at least ``FOLD_MIN_WEIGHT`` entries. Measured on ResNet-18's and the CIFAR nets' shapes (batch 32,
#: one thread, fold / per-sample time of forward + backward): 0.5 at L = 16 and 0.85-0.9 at L = 64 for
#: 256-512 channels (each small per-sample GEMM packs the whole weight again), 0.75 for the 1x1
#: 256 -> 512 at L = 16; 1.0 at L = 64 for 64-128 channels, 1.1-1.2 for the 1x1 128 -> 256 at L = 64
#: (32K weights) and at L = 256 (the per-sample GEMMs are wide enough there, the folded layout's
#: transposes cost extra), 2 for 8 groups of 16 channels (tiny weights stay in cache).
FOLD_MAX_L = 64
FOLD_MIN_WEIGHT = 1 << 16

#: column matrices up to this size are kept from forward to backward, larger ones recomputed there.
#: Recomputing is one copy (about 5 ms per 38 MB); keeping a large one costs its memory and, once the
#: kept ones outgrow the scratch pool, fresh page-faulted memory every step (ResNet-18's ~530 MB of
#: columns: peak RSS 1135 -> 549 MiB and a faster step); small nets (the MNIST ConvNet, 2-14 MB) ran
#: 8% slower recomputing theirs.
KEEP_COLS_BYTES = 16 << 20


#: on one thread, per-sample columns of at least this size a sample are built and used one sample at
#: a time (ResNet-18's first stage, 2.4 MB a sample: fwd+bwd 113 -> 98 ms; its second, 1.2 MB: 97 ->
#: 91 ms). On two threads the batched copy cut by sample won (61 vs 69 ms at 1.2 MB a sample). Both
#: make the same GEMM calls and sum in the same order, so the bits do not depend on the choice.
ONE_AT_A_TIME_BYTES = 1 << 20


def _one_at_a_time(x: Any, kernel: tuple[int, ...], out: tuple[int, ...]) -> bool:
    big = x.shape[1] * math.prod(kernel) * math.prod(out) * x.itemsize >= ONE_AT_A_TIME_BYTES
    return x.shape[0] > 1 and big and lamina.get_num_threads() == 1


def keeps(cols: Any) -> bool:
    """Whether a column matrix is small enough to keep for backward."""
    return cols.nbytes <= KEEP_COLS_BYTES


def folds(N: int, out: tuple[int, ...], w_shape: tuple[int, ...], groups: int) -> bool:
    """Whether a convolution with batch ``N``, output sizes ``out`` and weight (O, C/G, *k) runs batch-folded."""
    return N > 1 and math.prod(out) <= FOLD_MAX_L and w_shape[0] // groups * math.prod(w_shape[1:]) >= FOLD_MIN_WEIGHT


def fold_cols(xp: Any, ws: Any, x: Any, pads: tuple[tuple[int, int], ...], groups: int, kernel: tuple[int, ...],
              stride: tuple[int, ...], dilation: tuple[int, ...], out: tuple[int, ...], tag: str) -> Any:
    """im2col with the batch folded in: x (N, C, *S) -> cols (G, C/G * K, N * L), rows ordered (c, *k).

    A workspace array, copied channel by channel on the backend's ``parallel_for`` (each piece
    writes only its own channels, so the bits do not depend on the thread count).
    """
    n = len(kernel)
    N, C = x.shape[:2]
    xpad = padded(xp, ws, x, pads)
    view = windows(xp, xpad, kernel, stride, dilation, out)                 # (N, C, *k, *out)
    order = (1,) + tuple(range(2, 2 + n)) + (0,) + tuple(range(2 + n, 2 + 2 * n))
    view = view.transpose(order)                                            # (C, *k, N, *out)
    cols = ws.workspace(view.shape, x.dtype, tag)

    def copy(start: int, stop: int) -> None:
        cols[start:stop] = view[start:stop]

    channel_bytes = max(math.prod(view.shape[1:]) * view.itemsize, 1)
    ws.parallel_for(C, copy, grain=-(-(1 << 18) // channel_bytes))
    return cols.reshape(groups, C // groups * math.prod(kernel), N * math.prod(out))


def fold_forward(xp: Any, ws: Any, x: Any, w: Any, b: Any, pads, stride, dilation, groups: int,
                 out: tuple[int, ...]) -> tuple[Any, Any]:
    """y (N, O, *out) = conv(x, w) + b, as one GEMM per group over the folded columns; and the columns."""
    N = x.shape[0]
    O, kernel = w.shape[0], tuple(w.shape[2:])
    cols = fold_cols(xp, ws, x, pads, groups, kernel, stride, dilation, out, "cols")   # (G, C/G*K, N*L)
    yg = xp.matmul(w.reshape(groups, O // groups, cols.shape[1]), cols)               # (G, O/G, N*L)
    y = xp.empty((N, O, math.prod(out)), dtype=yg.dtype)
    yt = yg.reshape(O, N, -1).swapaxes(0, 1)                                            # (N, O, L) view
    if b is None:
        y[...] = yt
    else:
        xp.add(yt, b.reshape(O, 1), out=y)   # the bias rides on the layout copy
    return y.reshape((N, O) + tuple(out)), cols


def fold_backward(xp: Any, ws: Any, dy: Any, x: Any, w: Any, cols: Any, x_shape: tuple[int, ...],
                  w_shape: tuple[int, ...], pads, stride, dilation, groups: int, out: tuple[int, ...], need_x: bool,
                  need_w: bool) -> tuple[Any, Any]:
    """Gradients of ``fold_forward``: dx (N, C, *S) | None, dw (O, C/G, *k) | None (x is None without
    ``need_w``, w without ``need_x``).

    The columns kept from forward, or else recomputed from x; either way released before the input
    gradient takes its own, so at most one column buffer is alive at a time.
    """
    N, C = x_shape[:2]
    sizes = tuple(x_shape[2:])
    O, kernel = w_shape[0], tuple(w_shape[2:])
    Og, L = O // groups, math.prod(out)
    dyt = ws.workspace((O, N, L), dy.dtype, "dy_t")
    dyt[...] = dy.reshape(N, O, L).swapaxes(0, 1)
    dyg = dyt.reshape(groups, Og, N * L)                                    # (G, O/G, N*L)
    dw = dx = None
    if need_w:
        if cols is None:
            cols = fold_cols(xp, ws, x, pads, groups, kernel, stride, dilation, out, "cols")  # (G, C/G*K, N*L)
        # the columns as the GEMM's rows: measured faster than dyg @ cols^T on these shapes
        dw = xp.matmul(cols, dyg.swapaxes(-1, -2)).swapaxes(-1, -2).reshape(w_shape)
        del cols
    if need_x:
        span = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
        if all(s == 1 for s in stride) and all(lo <= sp and hi <= sp for (lo, hi), sp in zip(pads, span)):
            # full correlation of dy with the flipped kernel, over the unpadded input only
            full = tuple((sp - lo, sp - hi) for (lo, hi), sp in zip(pads, span))
            dcols = fold_cols(xp, ws, dy, full, groups, kernel, stride, dilation, sizes, "cols")  # (G, O/G*K, N*S)
            dx = from_gemm(xp, xp.matmul(flipped_weight(xp, w, groups), dcols), N, sizes)
        else:
            wm = w.reshape(groups, Og, -1)
            dcols = xp.matmul(wm.swapaxes(-1, -2), dyg)                     # (G, C/G*K, N*L)
            padded_sizes = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, pads))
            dxpad = gemm_col2im(xp, dcols, (N, C) + padded_sizes, kernel, stride, dilation, out)
            dx = crop_array(dxpad, pads)
    return dx, dw


def sample_forward(xp: Any, ws: Any, x: Any, w: Any, pads, stride, dilation, groups: int,
                   out: tuple[int, ...]) -> tuple[Any, Any]:
    """y (N, G, O/G, L) = w (G, O/G, C/G*K) @ cols per sample (no bias); and the columns, None when
    they were built one sample at a time."""
    N = x.shape[0]
    O, kernel = w.shape[0], tuple(w.shape[2:])
    wg = w.reshape(groups, O // groups, -1)
    if not _one_at_a_time(x, kernel, out):
        cols = conv_cols(xp, ws, x, pads, groups, kernel, stride, dilation, out, "cols")   # (N, G, C/G*K, L)
        return xp.matmul(wg, cols), cols
    y = xp.empty((N, groups, O // groups, math.prod(out)), dtype=x.dtype)
    for n in range(N):
        xp.matmul(wg, conv_cols(xp, ws, x[n:n + 1], pads, groups, kernel, stride, dilation, out, "cols1"),
                  out=y[n:n + 1])
    return y, None


def _weight_grad(xp: Any, cols: Any, dyg: Any, batch_axis: int | None) -> Any:
    """dw (G, O/G, C/G*K) from cols (..., G, C/G*K, L) and dyg (..., G, O/G, L), summed over
    ``batch_axis``: the longer side as the GEMM's rows (measured faster), summed before any transpose."""
    if cols.shape[-2] >= dyg.shape[-2]:
        p = xp.matmul(cols, dyg.swapaxes(-1, -2))
        return (p if batch_axis is None else p.sum(axis=batch_axis)).swapaxes(-1, -2)
    p = xp.matmul(dyg, cols.swapaxes(-1, -2))
    return p if batch_axis is None else p.sum(axis=batch_axis)


def sample_backward(xp: Any, ws: Any, dy: Any, x: Any, w: Any, cols: Any, x_shape: tuple[int, ...],
                    w_shape: tuple[int, ...], pads, stride, dilation, groups: int, out: tuple[int, ...],
                    need_x: bool, need_w: bool) -> tuple[Any, Any]:
    """Gradients of ``sample_forward``: dx (N, C, *S) | None, dw (O, C/G, *k) | None; ``cols`` as kept
    by forward or None (recomputed from x)."""
    N = x_shape[0]
    O, kernel = w_shape[0], tuple(w_shape[2:])
    dyg = dy.reshape(N, groups, O // groups, math.prod(out))                 # (N, G, O/G, L)
    dw: Any = None
    dx: Any = None
    if need_w and cols is None and _one_at_a_time(x, kernel, out):
        for n in range(N):
            cols = conv_cols(xp, ws, x[n:n + 1], pads, groups, kernel, stride, dilation, out, "cols1")
            part = _weight_grad(xp, cols, dyg[n:n + 1], None)[0]                 # (G, O/G, C/G*K)
            dw = part.copy() if dw is None else xp.add(dw, part, out=dw)   # the batched sum's order
        del cols
        dw = dw.reshape(w_shape)
    elif need_w:
        if cols is None:
            cols = conv_cols(xp, ws, x, pads, groups, kernel, stride, dilation, out, "cols")
        dw = _weight_grad(xp, cols, dyg, 0)
        del cols   # free for the input gradient's columns (same tag: one buffer when shapes match)
        dw = dw.reshape(w_shape)                                              # (O, C/G, *k)
    if need_x:
        dx = _sample_input_grad(xp, ws, dyg, w, x_shape, pads, stride, dilation, groups, out)
    return dx, dw


def _sample_input_grad(xp: Any, ws: Any, dyg: Any, w: Any, x_shape: tuple[int, ...], pads, stride, dilation,
                       groups: int, out: tuple[int, ...]) -> Any:
    """dx (N, C, *S) from dyg (N, G, O/G, L)."""
    N, C = x_shape[:2]
    sizes, kernel = x_shape[2:], w.shape[2:]
    span = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    if all(s == 1 for s in stride) and all(lo <= sp and hi <= sp for (lo, hi), sp in zip(pads, span)):
        # full correlation of dy with the flipped kernel, computed only over the unpadded input
        full = tuple((sp - lo, sp - hi) for (lo, hi), sp in zip(pads, span))
        dyo = dyg.reshape((N, w.shape[0]) + tuple(out))
        wf = flipped_weight(xp, w, groups)
        if _one_at_a_time(dyo, kernel, sizes):
            dx = xp.empty((N, groups, C // groups, math.prod(sizes)), dtype=dyg.dtype)
            for n in range(N):
                xp.matmul(wf, conv_cols(xp, ws, dyo[n:n + 1], full, groups, kernel, stride, dilation, sizes, "cols1"),
                          out=dx[n:n + 1])
            return dx.reshape(x_shape)
        dcols = conv_cols(xp, ws, dyo, full, groups, kernel, stride, dilation, sizes, "cols")  # (N, G, O/G*K, S)
        return xp.matmul(wf, dcols).reshape(x_shape)
    if 0 not in out and bool(xp.isfinite(w).all()):
        # non-finite weights would turn the zero columns of the phase layout into NaN
        return strided_input_grad(xp, ws, dyg, w, x_shape, pads, stride, dilation, groups, out)
    wm = w.reshape(groups, w.shape[0] // groups, math.prod(w.shape[1:]))
    dcols = xp.matmul(wm.swapaxes(-1, -2), dyg)                               # (N, G, C/G*K, L)
    padded_sizes = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, pads))
    dxpad = col2im(xp, dcols.reshape((N, C) + tuple(kernel) + tuple(out)), (N, C) + padded_sizes, kernel, stride,
                   dilation, out)
    return crop_array(dxpad, pads)
