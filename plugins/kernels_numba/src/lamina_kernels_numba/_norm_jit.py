"""The compiled loops of the normalisation kernels (imported only when a kernel is first built).

Two layouts, as lamina-norms' ``Spec`` describes them:
    channels  x viewed (N, C, L), statistics per channel over N and L (batch norm), weight (C,)
    rows      x viewed (R, D), statistics per row over D (layer norm, RMS norm), weight (D,)
Sums run in float64 in a fixed order; each group is handled by one thread, and the column sums of
the row layout are taken over fixed blocks of rows and then added block by block, so the results
are the same on any number of threads.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

ROW_BLOCK = 64  # rows per block of the rows layout's parameter gradients (fixed: not the thread count)


@njit(parallel=True, cache=True)
def channels_forward(x, w, b, eps, y, mean, var, rstd):  # pragma: no cover (compiled)
    N, C, L = x.shape
    m = N * L
    for c in prange(C):
        s = 0.0
        for n in range(N):
            for i in range(L):
                s += x[n, c, i]
        mu = s / m
        v = 0.0
        for n in range(N):
            for i in range(L):
                d = x[n, c, i] - mu
                v += d * d
        v /= m
        r = 1.0 / math.sqrt(v + eps)
        scale = r * w[c] if w.shape[0] else r
        shift = (b[c] if b.shape[0] else 0.0) - mu * scale
        for n in range(N):
            for i in range(L):
                y[n, c, i] = x[n, c, i] * scale + shift
        mean[c] = mu
        var[c] = v
        rstd[c] = r


@njit(parallel=True, cache=True)
def channels_backward(x, dy, w, mean, rstd, dx, dw, db, need_x):  # pragma: no cover (compiled)
    N, C, L = x.shape
    m = N * L
    for c in prange(C):
        mu = mean[c]
        r = rstd[c]
        s1 = 0.0
        s2 = 0.0
        for n in range(N):
            for i in range(L):
                g = dy[n, c, i]
                s1 += g
                s2 += g * (x[n, c, i] - mu)
        s2 *= r  # sum(dy * xhat)
        db[c] = s1
        dw[c] = s2
        if need_x:
            k1 = r * w[c] if w.shape[0] else r
            a = s1 / m
            bq = s2 * r / m
            for n in range(N):
                for i in range(L):
                    dx[n, c, i] = k1 * (dy[n, c, i] - a - (x[n, c, i] - mu) * bq)


@njit(parallel=True, cache=True)
def rows_forward(x, w, b, eps, center, y, mean, var, rstd):  # pragma: no cover (compiled)
    R, D = x.shape
    for r in prange(R):
        mu = 0.0
        if center:
            for j in range(D):
                mu += x[r, j]
            mu /= D
        v = 0.0
        for j in range(D):
            d = x[r, j] - mu
            v += d * d
        v /= D
        q = 1.0 / math.sqrt(v + eps)
        for j in range(D):
            t = (x[r, j] - mu) * q
            if w.shape[0]:
                t *= w[j]
            if b.shape[0]:
                t += b[j]
            y[r, j] = t
        mean[r] = mu
        var[r] = v
        rstd[r] = q


@njit(parallel=True, cache=True)
def rows_backward(x, dy, w, mean, rstd, center, dx, need_x, partial_w, partial_b):  # pragma: no cover
    R, D = x.shape
    blocks = partial_w.shape[0]
    for k in prange(blocks):
        for j in range(D):
            partial_w[k, j] = 0.0
            partial_b[k, j] = 0.0
        for r in range(k * ROW_BLOCK, min(R, (k + 1) * ROW_BLOCK)):
            mu = mean[r]
            q = rstd[r]
            sg = 0.0
            sgx = 0.0
            for j in range(D):
                xh = (x[r, j] - mu) * q
                partial_w[k, j] += dy[r, j] * xh
                partial_b[k, j] += dy[r, j]
                g = dy[r, j] * w[j] if w.shape[0] else dy[r, j]
                sg += g
                sgx += g * xh
            if need_x:
                a = sg / D if center else 0.0
                c = sgx / D
                for j in range(D):
                    g = dy[r, j] * w[j] if w.shape[0] else dy[r, j]
                    dx[r, j] = q * (g - a - (x[r, j] - mu) * q * c)


def block_sums(partial: np.ndarray) -> np.ndarray:
    """Add the blocks' partial column sums one block after another (a fixed order)."""
    out = partial[0].copy()
    for k in range(1, partial.shape[0]):
        out += partial[k]
    return out
