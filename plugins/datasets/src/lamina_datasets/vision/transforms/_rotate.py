"""Rotation of tensor images ``(..., C, H, W)``: an inverse map from output to input pixels, sampled by gathers.

Coordinates are taken relative to the image centre, pixel centres at half-integers (``align_corners=False``).
Output pixel ``p`` reads input point ``R (p - c) + c`` (``c``: the rotation centre, ``R`` the rotation by
``-angle``, so the picture turns counter-clockwise); points outside the image read zeros, or ``fill``
through a sampled validity mask, as torchvision's ``grid_sample`` route does. Index and weight tables
are NumPy (they depend on sizes only); the gathers are lamina ops, so one body serves every device.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import lamina
import numpy as np
from lamina import Tensor

__all__ = ["rotate"]


def _inverse_map(angle: float, center: tuple[float, float]) -> np.ndarray:
    """2x3 matrix taking centred output coordinates to centred input coordinates."""
    rad = math.radians(angle)
    cos, sin = math.cos(rad), math.sin(rad)
    cx, cy = center
    rot = np.array([[cos, -sin], [sin, cos]])
    shift = np.array([cx, cy]) - rot @ np.array([cx, cy])
    return np.concatenate([rot, shift[:, None]], axis=1)


def _expanded_size(matrix: np.ndarray, w: int, h: int) -> tuple[int, int]:
    """Width and height of the box holding the mapped image corners.

    The box is measured from the image's top-left corner and its edges snapped to 1e-4 before rounding
    outwards, so that float noise does not add a pixel (a 0-degree turn keeps an odd size odd, as Pillow).
    """
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, -0.5 * h, 1.0]])
    mapped = corners @ matrix.T + np.array([0.5 * w, 0.5 * h])
    tol = 1e-4
    high = np.ceil(np.trunc(mapped.max(axis=0) / tol) * tol)
    low = np.floor(np.trunc(mapped.min(axis=0) / tol) * tol)
    size = high - low
    return int(size[0]), int(size[1])


def _taps(matrix: np.ndarray, w: int, h: int, ow: int, oh: int, mode: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(flat input index, weight)`` pairs per output pixel; out-of-image taps get weight 0."""
    ys, xs = np.meshgrid(np.arange(oh) + 0.5 - 0.5 * oh, np.arange(ow) + 0.5 - 0.5 * ow, indexing="ij")
    px = matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2] + 0.5 * w - 0.5
    py = matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2] + 0.5 * h - 0.5
    if mode == "nearest":
        corners = [(np.rint(px), np.rint(py), np.ones_like(px))]
    else:
        x0, y0 = np.floor(px), np.floor(py)
        fx, fy = px - x0, py - y0
        corners = [(x0, y0, (1 - fx) * (1 - fy)), (x0 + 1, y0, fx * (1 - fy)), (x0, y0 + 1, (1 - fx) * fy),
                   (x0 + 1, y0 + 1, fx * fy)]
    taps = []
    for x, y, weight in corners:
        inside = (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
        index = (np.clip(y, 0, h - 1) * w + np.clip(x, 0, w - 1)).astype(np.int64)
        taps.append((index.ravel(), np.where(inside, weight, 0.0).ravel()))
    return taps


def rotate(img: Tensor, angle: float, mode: str, expand: bool, center: Sequence[float] | None,
           fill: Sequence[float] | float | None) -> Tensor:
    """Rotate counter-clockwise by ``angle`` degrees. Shape: (..., C, H, W) -> (..., C, H', W')."""
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode {mode!r} is not supported for tensor rotation; use nearest or bilinear")
    h, w = int(img.shape[-2]), int(img.shape[-1])
    if center is None and angle % 90 == 0 and (expand or h == w):
        # quarter turns about the centre are exact transposes (Pillow takes the same shortcut)
        return lamina.rot90(img, int(angle // 90) % 4, dims=(-2, -1))
    c = (0.0, 0.0) if center is None else (float(center[0]) - 0.5 * w, float(center[1]) - 0.5 * h)
    matrix = _inverse_map(angle, c)
    ow, oh = _expanded_size(matrix, w, h) if expand else (w, h)
    work = img if img.is_floating_point() else img.to(lamina.float32)
    flat = work.reshape(*work.shape[:-2], h * w)
    out = None
    coverage = np.zeros(oh * ow)
    for index, weight in _taps(matrix, w, h, ow, oh, mode):
        gathered = flat.index_select(-1, lamina.as_tensor(index, device=img.device))
        term = gathered * lamina.as_tensor(weight, dtype=work.dtype, device=img.device)
        out = term if out is None else out + term
        coverage += weight
    if fill is not None:
        values = [float(fill)] if isinstance(fill, (int, float)) else [float(v) for v in fill]
        if len(values) not in (1, int(work.shape[-3]) if work.ndim >= 3 else 1):
            raise ValueError(f"The number of elements in 'fill' ({len(values)}) does not match the number of "
                             f"channels of the image ({int(work.shape[-3])})")
        fill_t = lamina.as_tensor(values, dtype=work.dtype, device=img.device).reshape(-1, 1)
        if mode == "nearest":
            outside = lamina.as_tensor(coverage < 0.5, device=img.device)
            out = lamina.where(outside, fill_t.expand_as(out), out)
        else:
            mask = lamina.as_tensor(coverage, dtype=work.dtype, device=img.device)
            out = out * mask + (1.0 - mask) * fill_t
    out = out.reshape(*work.shape[:-2], oh, ow)
    if img.is_floating_point():
        return out
    return out.round().to(img.dtype)
