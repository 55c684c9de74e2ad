"""NumPy float64 references for the part-A records (slow, loop-friendly, written for clarity)."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__lamina_plugin_api__ = "1.0"


def ref_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    n = w.ndim - 2
    st, dl = _tup(stride, n), _tup(dilation, n)
    if padding == "same":
        pads = [(d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2) for k, d in zip(w.shape[2:], dl)]
    else:
        pads = [(p, p) for p in _tup(0 if padding == "valid" else padding, n)]
    x = np.pad(x, [(0, 0), (0, 0)] + pads)
    span = [d * (k - 1) + 1 for k, d in zip(w.shape[2:], dl)]
    win = sliding_window_view(x, span, axis=tuple(range(2, 2 + n)))          # (N, C, *pos, *span)
    win = win[(Ellipsis,) + tuple(slice(None, None, d) for d in dl)]          # dilation
    win = win[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in st)]
    N, C = x.shape[:2]
    O = w.shape[0]
    xg = win.reshape((N, groups, C // groups) + win.shape[2:])
    wg = w.reshape((groups, O // groups) + w.shape[1:])
    sp = "defg"[:n]
    ks = "pqrs"[:n]
    y = np.einsum(f"nGc{sp}{ks},Goc{ks}->nGo{sp}", xg, wg).reshape((N, O) + win.shape[2:2 + n])
    return y if b is None else y + b.reshape((-1,) + (1,) * n)


def ref_conv_transpose(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    n = w.ndim - 2
    st, pd, op, dl = (_tup(v, n) for v in (stride, padding, output_padding, dilation))
    N, Cin = x.shape[:2]
    Cout = w.shape[1] * groups
    k = w.shape[2:]
    full = [(s - 1) * t + d * (kk - 1) + 1 + o for s, t, d, kk, o in zip(x.shape[2:], st, dl, k, op)]
    y = np.zeros((N, Cout) + tuple(full))
    xg = x.reshape((N, groups, Cin // groups) + x.shape[2:])
    wg = w.reshape((groups, Cin // groups) + w.shape[1:])
    for off in itertools.product(*(range(kk) for kk in k)):
        contrib = np.einsum("nGc...,Gco->nGo...", xg, wg[(Ellipsis,) + off]).reshape((N, Cout) + x.shape[2:])
        sl = tuple(slice(o * d, o * d + t * (s - 1) + 1, t) for o, d, t, s in zip(off, dl, st, x.shape[2:]))
        y[(Ellipsis,) + sl] += contrib
    y = y[(Ellipsis,) + tuple(slice(p, f - p) for p, f in zip(pd, full))]
    return y if b is None else y + b.reshape((-1,) + (1,) * n)


def ref_pool(x, kind, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, count_include_pad=True,
             divisor_override=None):
    n = x.ndim - 2
    k = _tup(kernel_size, n)
    st = k if stride is None else _tup(stride, n)
    pd, dl = _tup(padding, n), _tup(dilation, n)
    out = []
    for s, kk, t, p, d in zip(x.shape[2:], k, st, pd, dl):
        span = s + 2 * p - d * (kk - 1) - 1
        o = (-(-span // t) if ceil_mode else span // t) + 1
        if ceil_mode and (o - 1) * t >= s + p:
            o -= 1
        out.append(o)
    y = np.zeros(x.shape[:2] + tuple(out))
    for pos in itertools.product(*(range(o) for o in out)):
        starts = [q * t - p for q, t, p in zip(pos, st, pd)]
        idx = [np.arange(a, a + d * (kk - 1) + 1, d) for a, kk, d in zip(starts, k, dl)]
        valid = [i[(i >= 0) & (i < s)] for i, s in zip(idx, x.shape[2:])]
        win = x[(Ellipsis,) + np.ix_(*valid)].reshape(x.shape[:2] + (-1,))
        if kind == "max":
            y[(Ellipsis,) + pos] = win.max(-1)
        else:
            ends = [min(a + kk, s + p) for a, kk, s, p in zip(starts, k, x.shape[2:], pd)]
            div = math.prod(e - a for e, a in zip(ends, starts)) if count_include_pad else win.shape[-1]
            y[(Ellipsis,) + pos] = win.sum(-1) / (divisor_override or div)
    return y


def ref_adaptive(x, out, kind):
    out = tuple(s if o is None else o for o, s in zip(out, x.shape[2:]))
    y = np.zeros(x.shape[:2] + out)
    for pos in itertools.product(*(range(o) for o in out)):
        sl = tuple(slice(i * s // o, -(-(i + 1) * s // o)) for i, s, o in zip(pos, x.shape[2:], out))
        win = x[(Ellipsis,) + sl].reshape(x.shape[:2] + (-1,))
        y[(Ellipsis,) + pos] = win.max(-1) if kind == "max" else win.mean(-1)
    return y


def ref_pad(x, pad, mode="constant", value=0.0):
    n = len(pad) // 2
    pairs = [(pad[2 * i], pad[2 * i + 1]) for i in reversed(range(n))]
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for s, (lo, hi) in zip(x.shape[x.ndim - n:], pairs))
    x = x[(Ellipsis,) + crop]
    widths = [(0, 0)] * (x.ndim - n) + [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
    return np.pad(x, widths, np_mode, **({"constant_values": value} if mode == "constant" else {}))


def ref_interpolate(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    n = x.ndim - 2
    if size is not None:
        out, scales = _tup(size, n), (None,) * n
    else:
        scales = tuple(float(s) for s in _tup(scale_factor, n))
        out = tuple(int(math.floor(s * f)) for s, f in zip(x.shape[2:], scales))
    y = x
    for i, (s, o, sc) in enumerate(zip(x.shape[2:], out, scales)):
        dst = np.arange(o, dtype=np.float64)
        if mode == "nearest":
            mat = np.zeros((o, s))
            mat[np.arange(o), np.minimum(np.floor(dst * (1 / sc if sc else s / o)).astype(int), s - 1)] = 1
        elif mode == "bicubic":
            # Keys' cubic convolution kernel (a = -0.75) at the distance to 4 taps; reads clamped to the input
            src = dst * ((s - 1) / (o - 1) if o > 1 else 0.0) if align_corners else \
                (dst + 0.5) * (1 / sc if sc else s / o) - 0.5
            mat = np.zeros((o, s))
            for j in (-1, 0, 1, 2):
                tap = np.floor(src) + j
                r = np.abs(src - tap)
                a = -0.75
                wgt = np.where(r <= 1, ((a + 2) * r - (a + 3)) * r * r + 1,
                               np.where(r < 2, ((a * r - 5 * a) * r + 8 * a) * r - 4 * a, 0.0))
                np.add.at(mat, (np.arange(o), np.clip(tap, 0, s - 1).astype(int)), wgt)
        else:
            if align_corners:
                src = dst * ((s - 1) / (o - 1) if o > 1 else 0.0)
            else:
                src = np.maximum((dst + 0.5) * (1 / sc if sc else s / o) - 0.5, 0)
            i0 = np.minimum(np.floor(src).astype(int), s - 1)
            i1 = np.minimum(i0 + 1, s - 1)
            mat = np.zeros((o, s))
            np.add.at(mat, (np.arange(o), i0), 1 - (src - i0))
            np.add.at(mat, (np.arange(o), i1), src - i0)
        y = np.moveaxis(np.moveaxis(y, 2 + i, -1) @ mat.T, -1, 2 + i)
    return y


def ref_unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = (_tup(v, 2) for v in (kernel_size, dilation, padding, stride))
    C = x.shape[1]
    w = np.eye(C * k[0] * k[1]).reshape(C * k[0] * k[1], C, k[0], k[1])
    y = ref_conv(x, w, None, s, p, d)
    return y.reshape(y.shape[0], y.shape[1], -1)


def ref_fold(cols, output_size, kernel_size, dilation=1, padding=0, stride=1):
    k, d, p, s = (_tup(v, 2) for v in (kernel_size, dilation, padding, stride))
    size = _tup(output_size, 2)
    N, CK, _ = cols.shape
    C = CK // (k[0] * k[1])
    out = [(sz + 2 * pp - dd * (kk - 1) - 1) // ss + 1 for sz, pp, dd, kk, ss in zip(size, p, d, k, s)]
    w = np.eye(CK).reshape(CK, C, k[0], k[1])
    y = np.zeros((N, C) + tuple(sz + 2 * pp for sz, pp in zip(size, p)))
    if all(o > 0 for o in out):
        full = ref_conv_transpose(cols.reshape(N, CK, *out), w, None, s, 0, 0, 1, d)
        y[..., :full.shape[2], :full.shape[3]] = full
    return y[..., p[0]:p[0] + size[0], p[1]:p[1] + size[1]]


def _tup(v: Any, n: int) -> tuple:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,) * n
