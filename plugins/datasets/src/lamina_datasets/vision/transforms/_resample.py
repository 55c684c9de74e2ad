"""Separable resampling as two matrix products: ``out = Wy @ img @ Wx.T``.

Each builder returns a float64 NumPy matrix ``(out, in)`` whose row ``o`` holds the weights of the
input samples that make output sample ``o``. With ``antialias`` the filters follow Pillow's scheme
(the filter is stretched by the downscale factor and the weights of each row are normalised over
the in-bounds samples), which is what torchvision's antialiased tensor resize reproduces; without it
they follow ``interpolate(..., align_corners=False)`` (border indices clamped).
"""

from __future__ import annotations

import numpy as np

__all__ = ["weights", "nearest_index"]


def _triangle(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    return np.where(x < 1.0, 1.0 - x, 0.0)


def _cubic(a: float):
    def f(x: np.ndarray) -> np.ndarray:
        x = np.abs(x)
        near = ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
        far = ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
        return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))
    return f


_FILTERS = {"bilinear": (_triangle, 1.0), "bicubic": (_cubic(-0.5), 2.0)}


def _antialiased(n_in: int, n_out: int, mode: str) -> np.ndarray:
    kernel, support = _FILTERS[mode]
    scale = n_in / n_out
    stretch = max(scale, 1.0)
    reach = support * stretch
    w = np.zeros((n_out, n_in))
    for o in range(n_out):
        center = (o + 0.5) * scale
        lo = max(int(center - reach + 0.5), 0)
        hi = min(int(center + reach + 0.5), n_in)
        taps = kernel((np.arange(lo, hi) - center + 0.5) / stretch)
        total = taps.sum()
        w[o, lo:hi] = taps / total if total != 0.0 else taps
    return w


def _interpolating(n_in: int, n_out: int, mode: str) -> np.ndarray:
    scale = n_in / n_out
    src = (np.arange(n_out) + 0.5) * scale - 0.5
    w = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    if mode == "bilinear":
        src = np.maximum(src, 0.0)
        i0 = np.floor(src).astype(np.int64)
        frac = src - i0
        i0 = np.minimum(i0, n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        np.add.at(w, (rows, i0), 1.0 - frac)
        np.add.at(w, (rows, i1), frac)
        return w
    kernel = _cubic(-0.75)  # interpolate's bicubic uses A = -0.75
    i0 = np.floor(src).astype(np.int64)
    frac = src - i0
    for k in range(-1, 3):
        np.add.at(w, (rows, np.clip(i0 + k, 0, n_in - 1)), kernel(frac - k))
    return w


def weights(n_in: int, n_out: int, mode: str, antialias: bool) -> np.ndarray:
    """Resampling matrix ``(n_out, n_in)`` for ``mode`` in ``{"bilinear", "bicubic"}``."""
    if antialias:
        return _antialiased(n_in, n_out, mode)
    return _interpolating(n_in, n_out, mode)


def nearest_index(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    """Source index of each output sample: ``floor(o * in / out)`` (``nearest``) or of the pixel centre."""
    scale = n_in / n_out
    src = (np.arange(n_out) + (0.5 if exact else 0.0)) * scale
    return np.minimum(np.floor(src).astype(np.int64), n_in - 1) if n_out else np.zeros(0, np.int64)

