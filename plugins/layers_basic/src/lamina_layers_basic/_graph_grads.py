"""Gradients as differentiable lamina ops: the backward of every op here under ``create_graph=True``.

Under create_graph the engine calls a backward with Tensors; the fused array kernels (im2col GEMMs,
strided in-place adds) cannot record a graph, so each Function switches to these composite forms
there and keeps its array path for ordinary backward. Everything is built from core ops whose own
gradients the engine derives to any order: gathers by advanced indexing, ``index_add`` and
``scatter_add`` (their adjoints), ``matmul`` and sums. Index maps are integer constants, built on
the host with NumPy (or taken from the forward's argmax) and moved to the gradient's device.

Sliding windows use one map for every family: ``window_index`` gives, per kernel offset and output
position, the flat input position read, or the extra slot ``S`` where the window reads padding.
Gathering through it is im2col (convolution's columns, unfold), scattering back is col2im (the
input gradient of convolution and pooling, fold, transposed convolution).
"""

from __future__ import annotations

import math
from typing import Any

import lamina
import numpy as np
from lamina import Tensor

__lamina_plugin_api__ = "1.0"


def const(values: Any, like: Tensor, dtype: Any = None) -> Tensor:
    """A constant Tensor on ``like``'s device from host or device array ``values`` (int64 for integer maps)."""
    if hasattr(values, "get") and not isinstance(values, np.ndarray):  # a CuPy array: through the host
        values = values.get()
    host = np.asarray(values)
    if dtype is None and host.dtype.kind in "iub":
        host = host.astype(np.int64)
    return lamina.as_tensor(host, dtype=dtype, device=like.device)


def window_index(sizes: tuple[int, ...], kernel: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...], lo: tuple[int, ...], out: tuple[int, ...]) -> np.ndarray:
    """Flat input position (K, L) read by kernel offset k of output position l; ``prod(sizes)`` where it
    reads padding (``lo`` on the left of each dim, as much as needed on the right)."""
    n = len(kernel)
    S = math.prod(sizes)
    flat = np.zeros((1,) * (2 * n), dtype=np.int64)
    valid = np.ones((1,) * (2 * n), dtype=bool)
    for i in range(n):
        shape = [1] * (2 * n)
        shape[i], shape[n + i] = kernel[i], out[i]
        pos = (np.arange(kernel[i])[:, None] * dilation[i] + np.arange(out[i])[None, :] * stride[i] - lo[i])
        pos = pos.reshape(shape)
        valid = valid & (pos >= 0) & (pos < sizes[i])
        flat = flat * sizes[i] + pos
    flat = np.broadcast_to(np.where(valid, flat, S), tuple(kernel) + tuple(out))
    return flat.reshape(math.prod(kernel), math.prod(out))


def gather_windows(x: Tensor, idx: np.ndarray, fill: float = 0.0) -> Tensor:
    """im2col: x (N, C, *S) -> cols (N, C, K, L) through ``window_index`` map ``idx``; padding reads ``fill``."""
    N, C = x.shape[:2]
    S = math.prod(x.shape[2:])
    pad = lamina.full((N, C, 1), fill, dtype=x.dtype, device=x.device)
    plane = lamina.cat([x.reshape(N, C, S), pad], 2)                          # (N, C, S + 1)
    return plane[:, :, const(idx, x)]


def scatter_windows(cols: Tensor, idx: np.ndarray, sizes: tuple[int, ...]) -> Tensor:
    """col2im, the adjoint of ``gather_windows``: cols (N, C, K, L) summed back into (N, C, *sizes)."""
    N, C = cols.shape[:2]
    S = math.prod(sizes)
    acc = lamina.zeros(N, C, S + 1, dtype=cols.dtype, device=cols.device)
    acc = acc.index_add(2, const(idx.reshape(-1), cols), cols.reshape(N, C, idx.size))
    return acc[:, :, :S].reshape((N, C) + tuple(sizes))


def scatter_plane(dy: Tensor, flat: Any, shape: tuple[int, ...]) -> Tensor:
    """dx (N, C, *S) with dy (N, C, *out) added at flat plane positions ``flat`` (N, C, *out) (max pooling)."""
    N, C = shape[:2]
    acc = lamina.zeros(N, C, math.prod(shape[2:]), dtype=dy.dtype, device=dy.device)
    L = math.prod(dy.shape[2:])  # explicit sizes, not -1: N may be 0
    return acc.scatter_add(2, const(flat, dy).reshape(N, C, L), dy.reshape(N, C, L)).reshape(shape)


def take_axis(x: Tensor, index: Any, axis: int) -> Tensor:
    """``x`` indexed by integer map ``index`` (M,) along ``axis``: the size there becomes M."""
    return x[(slice(None),) * axis + (const(index, x),)]


def scatter_axis(dy: Tensor, index: Any, axis: int, size: int) -> Tensor:
    """Adjoint of ``take_axis``: dy's slices along ``axis`` added into ``size`` slots at ``index``."""
    shape = tuple(dy.shape[:axis]) + (size,) + tuple(dy.shape[axis + 1:])
    acc = lamina.zeros(*shape, dtype=dy.dtype, device=dy.device)
    return acc.index_add(axis, const(index, dy).reshape(-1), dy)


def conv_grads(dy: Tensor, x: Tensor | None, w: Tensor | None, x_shape: tuple[int, ...], w_shape: tuple[int, ...],
               lo: tuple[int, ...], stride, dilation, groups: int, out: tuple[int, ...], need_x: bool,
               need_w: bool) -> tuple[Tensor | None, Tensor | None]:
    """Gradients of a grouped convolution y (N, O, *out) = w (O, C/G, *k) * x (N, C, *S) with left pads ``lo``:
    dx (N, C, *S) = col2im(w^T dy), dw (O, C/G, *k) = dy cols(x)^T, summed over the batch."""
    N, C = x_shape[:2]
    O, kernel = w_shape[0], tuple(w_shape[2:])
    K, L = math.prod(kernel), math.prod(out)
    idx = window_index(tuple(x_shape[2:]), kernel, stride, dilation, lo, out)
    dyg = dy.reshape(N, groups, O // groups, L)                               # (N, G, O/G, L)
    dx = dw = None
    if need_x:
        wg = w.reshape(groups, O // groups, C // groups * K)
        dcols = lamina.matmul(wg.transpose(1, 2), dyg)                        # (N, G, C/G*K, L)
        dx = scatter_windows(dcols.reshape(N, C, K, L), idx, tuple(x_shape[2:]))
    if need_w:
        cols = gather_windows(x, idx).reshape(N, groups, C // groups * K, L)
        dw = lamina.matmul(dyg, cols.transpose(2, 3)).sum(0).reshape(w_shape)  # (G, O/G, C/G*K) summed over N
    return dx, dw


def conv_transpose_grads(dy: Tensor, x: Tensor | None, w: Tensor | None, x_shape: tuple[int, ...],
                         w_shape: tuple[int, ...], padding: tuple[int, ...], stride, dilation, groups: int,
                         need_x: bool, need_w: bool) -> tuple[Tensor | None, Tensor | None]:
    """Gradients of a transposed convolution (the adjoint of convolution) y (N, C_out, *out) from
    x (N, C_in, *S), w (C_in, C_out/G, *k): dx = w cols(dy), dw = x cols(dy)^T summed over the batch."""
    N, Cin = x_shape[:2]
    sizes, kernel = tuple(x_shape[2:]), tuple(w_shape[2:])
    K, L = math.prod(kernel), math.prod(sizes)
    Cout = w_shape[1] * groups
    idx = window_index(tuple(dy.shape[2:]), kernel, stride, dilation, padding, sizes)
    cols = gather_windows(dy, idx).reshape(N, groups, Cout // groups * K, L)   # (N, G, C_out/G*K, L)
    dx = dw = None
    if need_x:
        wm = w.reshape(groups, Cin // groups, Cout // groups * K)
        dx = lamina.matmul(wm, cols).reshape(x_shape)                         # (N, G, C_in/G, L)
    if need_w:
        xg = x.reshape(N, groups, Cin // groups, L)
        dw = lamina.matmul(xg, cols.transpose(2, 3)).sum(0).reshape(w_shape)
    return dx, dw


def rows_grad(xp: Any, g: Tensor, flat: Any, num: int, by_freq: bool, padding_idx: int | None) -> Tensor:
    """An embedding's dweight (V, D) from the gradients g (K, D) of rows ``flat`` (K,): scatter-added, each
    scaled by 1 / its row's count with ``by_freq``, none into ``padding_idx``."""
    if by_freq:
        g = g / const(xp.bincount(flat, minlength=num)[flat], g, g.dtype)[:, None]
    if padding_idx is not None:
        g = g * const(flat != padding_idx, g, g.dtype)[:, None]
    return scatter_axis(g, flat, 0, num)


def bag_grads(xp: Any, dy: Tensor, weight: Tensor, psw: Tensor | None, idx: Any, bag: Any, mode: str, by_freq: bool,
              counts: Any, first: Any, need_w: bool, need_psw: bool) -> tuple[Tensor | None, Tensor | None]:
    """embedding_bag's dweight (V, D) and dper_sample_weights (K,) from dy (B, D): rows ``idx`` (K,) in bags
    ``bag`` (K,) of ``counts`` (B,) rows; in max mode ``first`` (B, D) is the position of each max."""
    V, D = weight.shape
    dw = dpsw = None
    if mode == "max":
        if need_w:
            hit = first < idx.shape[0]                                      # (B, D): non-empty bags
            cols = xp.broadcast_to(xp.arange(D), hit.shape)
            target = idx[first[hit]] * D + cols[hit]                        # flat (V * D) positions
            g = dy.reshape(-1)[const(xp.flatnonzero(hit), dy)]
            dw = scatter_axis(g, target, 0, V * D).reshape(V, D)
        return dw, None
    g = dy[const(bag, dy)]                                                  # (K, D)
    if mode == "mean":
        g = g / const(xp.maximum(counts, 1)[bag], g, g.dtype)[:, None]
    if psw is not None and need_psw:
        dpsw = (g * weight[const(idx, g)]).sum(1)
    if need_w:
        if psw is not None:
            g = g * psw[:, None]
        dw = rows_grad(xp, g, idx, V, by_freq, None)
    return dw, dpsw
