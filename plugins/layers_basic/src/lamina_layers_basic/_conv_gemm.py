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

from ._im2col import (
    col2im,
    conv_cols,
    copy_by_rows,
    crop_array,
    flipped_weight,
    gemm_col2im,
    is_pointwise,
    padded,
    windows,
)
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


#: the per-sample path runs on pieces of the batch (``parallel_for``, BLAS on one thread inside each
#: piece): a piece builds the columns of about this many bytes of samples at a time (at least one
#: sample) and runs their GEMMs while those columns are still in cache. ResNet-18's first stage (2.4 MB
#: of columns a sample) on one thread: fwd+bwd 113 -> 98 ms one sample at a time; on two threads a
#: sample per thread beat the batched copy + two-thread GEMM 2.6x.
SUB_BYTES = 1 << 20

#: at most this many pieces of the batch, each summing its own part of the weight gradient (the parts
#: are then added in piece order: the cut, and so the bits, depend on the shapes only)
MAX_PIECES = 8


def _cuts(N: int, sample_bytes: int) -> tuple[int, int]:
    """(samples a piece, samples a GEMM) for a batch of ``N`` with ``sample_bytes`` of columns a sample."""
    sub = max(1, SUB_BYTES // max(sample_bytes, 1))
    return max(sub, -(-N // MAX_PIECES)), sub


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
        copy_by_rows(ws, y, yt)
    else:
        def add(start: int, stop: int) -> None:
            xp.add(yt[start:stop], b.reshape(O, 1), out=y[start:stop])   # the bias rides on the layout copy

        ws.parallel_for(N, add, grain=-(-(1 << 18) // max(y[0].nbytes, 1)))
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
    copy_by_rows(ws, dyt, dy.reshape(N, O, L).swapaxes(0, 1))
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
            dxg = xp.matmul(flipped_weight(xp, w, groups), dcols)                # (G, C/G, N*S)
            dx = copy_by_rows(ws, xp.empty(x_shape, dtype=dxg.dtype), dxg.reshape((C, N) + sizes).swapaxes(0, 1))
        else:
            wm = w.reshape(groups, Og, -1)
            dcols = xp.matmul(wm.swapaxes(-1, -2), dyg)                     # (G, C/G*K, N*L)
            padded_sizes = tuple(s + lo + hi for s, (lo, hi) in zip(sizes, pads))
            dxpad = gemm_col2im(xp, dcols, (N, C) + padded_sizes, kernel, stride, dilation, out)
            dx = crop_array(dxpad, pads)
    return dx, dw


def sample_forward(xp: Any, ws: Any, x: Any, w: Any, pads, stride, dilation, groups: int, out: tuple[int, ...],
                   keep: bool = False) -> tuple[Any, Any]:
    """y (N, G, O/G, L) = w (G, O/G, C/G*K) @ cols per sample (no bias), on pieces of the batch; and the
    columns (N, G, C/G*K, L) when ``keep`` and they fit ``keeps`` (built into one array), else None."""
    N, C = x.shape[:2]
    O, kernel = w.shape[0], tuple(w.shape[2:])
    K, L = math.prod(kernel), math.prod(out)
    wg = w.reshape(groups, O // groups, -1)
    y = xp.empty((N, groups, O // groups, L), dtype=x.dtype)
    pointwise = is_pointwise(kernel, stride, pads)
    full = None
    if keep and not pointwise and N * C * K * L * x.itemsize <= KEEP_COLS_BYTES:
        full = ws.workspace((N, C) + kernel + tuple(out), x.dtype, "cols")
    grain, sub = _cuts(N, C * K * L * x.itemsize)

    def piece(start: int, stop: int) -> None:
        for s in range(start, stop, sub):
            e = min(s + sub, stop)
            cols = conv_cols(xp, ws, x[s:e], pads, groups, kernel, stride, dilation, out, "cols1",
                             None if full is None else full[s:e])
            xp.matmul(wg, cols, out=y[s:e])

    ws.parallel_for(N, piece, grain=grain)
    return y, None if full is None else full.reshape(N, groups, C // groups * K, L)


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
    by forward or None (recomputed from x).

    Both run on the pieces of the batch that forward used: per sub-batch the columns of x for the
    weight gradient and those of dy for the input gradient, each GEMM'd while in cache; each piece
    returns its part of the weight gradient, added in piece order.
    """
    N, C = x_shape[:2]
    sizes = tuple(x_shape[2:])
    O, kernel = w_shape[0], tuple(w_shape[2:])
    K, L = math.prod(kernel), math.prod(out)
    dyg = dy.reshape(N, groups, O // groups, L)                              # (N, G, O/G, L)
    dyo = dyg.reshape((N, O) + tuple(out))
    span = tuple(d * (k - 1) for k, d in zip(kernel, dilation))
    full_corr = all(s == 1 for s in stride) and all(lo <= sp and hi <= sp for (lo, hi), sp in zip(pads, span))
    full = tuple((sp - lo, sp - hi) for (lo, hi), sp in zip(pads, span))
    dx = wf = None
    phase = False
    if need_x:
        if full_corr:
            wf = flipped_weight(xp, w, groups)                                # (G, C/G, O/G * K)
        else:
            # non-finite weights would turn the zero columns of the phase layout into NaN: col2im then
            phase = 0 not in out and bool(xp.isfinite(w).all())
            wm = w.reshape(groups, O // groups, -1)
    # the phase layout's calls cost more than one per batch; on one thread it runs once (no sum over
    # samples in the input gradient: the cut does not change its bits)
    whole_phase = phase and lamina.get_num_threads() == 1
    if need_x and not whole_phase:
        dx = xp.empty(x_shape, dtype=dy.dtype)
    grain, sub = _cuts(N, C * K * L * dy.itemsize)

    def piece(start: int, stop: int) -> Any:
        dw = None
        for s in range(start, stop, sub):
            e = min(s + sub, stop)
            if need_w:
                c = cols[s:e] if cols is not None else conv_cols(xp, ws, x[s:e], pads, groups, kernel, stride,
                                                                  dilation, out, "cols1")
                part = _weight_grad(xp, c, dyg[s:e], 0)                       # (G, O/G, C/G*K)
                del c
                dw = part if dw is None else xp.add(dw, part, out=dw)
            if not need_x:
                continue
            if full_corr:
                # full correlation of dy with the flipped kernel, computed only over the unpadded input
                dcols = conv_cols(xp, ws, dyo[s:e], full, groups, kernel, (1,) * len(kernel), dilation, sizes,
                                  "dcols1")                                   # (n, G, O/G*K, S)
                xp.matmul(wf, dcols, out=dx[s:e].reshape(dcols.shape[:2] + (C // groups, -1)))
            elif whole_phase:
                continue
            elif phase:
                dx[s:e] = strided_input_grad(xp, ws, dyg[s:e], w, (e - s,) + tuple(x_shape[1:]), pads, stride,
                                             dilation, groups, out)
            else:
                dcols = xp.matmul(wm.swapaxes(-1, -2), dyg[s:e])               # (n, G, C/G*K, L)
                padded_sizes = tuple(a + lo + hi for a, (lo, hi) in zip(sizes, pads))
                dxpad = col2im(xp, dcols.reshape((e - s, C) + kernel + tuple(out)), (e - s, C) + padded_sizes,
                               kernel, stride, dilation, out)
                dx[s:e] = crop_array(dxpad, pads)
        return dw

    parts = ws.parallel_for(N, piece, grain=grain)
    if whole_phase:
        dx = strided_input_grad(xp, ws, dyg, w, x_shape, pads, stride, dilation, groups, out)
    dw = None
    if need_w and not parts:   # an empty batch
        dw = xp.zeros(w_shape, dtype=dy.dtype)
    elif need_w:
        dw = parts[0]
        for part in parts[1:]:
            dw = xp.add(dw, part, out=dw)
        dw = dw.reshape(w_shape)                                              # (O, C/G, *k)
    return dx, dw
