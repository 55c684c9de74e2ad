"""Kernels on tensor images ``(..., C, H, W)`` (``torchvision.transforms._functional_tensor``'s role).

Written with lamina ops only, so one body serves every device; index and weight tables are built
with NumPy (they depend on sizes, not on pixels) and moved to the image's device.
"""

from __future__ import annotations

from collections.abc import Sequence

import lamina
import numpy as np
from lamina import Tensor

from . import _resample

__all__ = ["dimensions", "max_value", "convert_image_dtype", "resize", "pad", "crop", "hflip", "vflip",
           "rgb_to_grayscale", "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue",
           "adjust_gamma"]

_INT_MAX = {lamina.uint8: 255, lamina.int8: 127, lamina.int16: 32767, lamina.int32: 2**31 - 1,
            lamina.int64: 2**63 - 1, lamina.bool: 1}


def dimensions(img: Tensor) -> list[int]:
    """``[channels, height, width]`` of ``(..., C, H, W)``; a 2-d image has one channel."""
    if img.ndim < 2:
        raise TypeError(f"Tensor is not a torch image: expected at least 2 dimensions (H, W), got {img.ndim}")
    channels = 1 if img.ndim == 2 else int(img.shape[-3])
    return [channels, int(img.shape[-2]), int(img.shape[-1])]


def _channels_in(img: Tensor, permitted: Sequence[int]) -> int:
    c = dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {list(permitted)}, but found {c}")
    return c


def max_value(dtype: lamina.dtype) -> float:
    """The value of full intensity: 1.0 for floats, the largest value of an integer dtype."""
    if dtype.is_floating_point:
        return 1.0
    return _INT_MAX.get(dtype, int(lamina.iinfo(dtype).max))


def convert_image_dtype(image: Tensor, dtype: lamina.dtype) -> Tensor:
    """Rescale intensities from ``image.dtype``'s range to ``dtype``'s ([0, 1] for floats, [0, max] for ints)."""
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == lamina.float32 and dtype in (lamina.int32, lamina.int64)) or \
                (image.dtype == lamina.float64 and dtype == lamina.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # 1 - eps keeps 1.0 from landing on max + 1 while every bin keeps its width
        return image.mul(max_value(dtype) + 1.0 - 1e-3).to(dtype)
    in_max = max_value(image.dtype)
    if dtype.is_floating_point:
        return image.to(dtype) / in_max
    out_max = max_value(dtype)
    if in_max > out_max:
        factor = int((in_max + 1) // (out_max + 1))
        # the ranges' sizes are powers of two, so floor division is a shift (exact for every integer width)
        return image.bitwise_right_shift(factor.bit_length() - 1).to(dtype)
    factor = int((out_max + 1) // (in_max + 1))
    return image.to(dtype) * factor


def resize(img: Tensor, size: Sequence[int], mode: str, antialias: bool) -> Tensor:
    """Resize the last two dims to ``size = (h, w)``; ``mode`` is nearest, nearest-exact, bilinear or bicubic."""
    _, h, w = dimensions(img)
    oh, ow = int(size[0]), int(size[1])
    if mode in ("nearest", "nearest-exact"):
        rows = lamina.as_tensor(_resample.nearest_index(h, oh, mode == "nearest-exact"), device=img.device)
        cols = lamina.as_tensor(_resample.nearest_index(w, ow, mode == "nearest-exact"), device=img.device)
        return img.index_select(-2, rows).index_select(-1, cols)
    if mode not in ("bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode {mode!r} is not supported for tensors; use one of "
                         "['nearest', 'nearest-exact', 'bilinear', 'bicubic']")
    work = img if img.is_floating_point() else img.to(lamina.float32)
    wy = lamina.as_tensor(_resample.weights(h, oh, mode, antialias), dtype=work.dtype, device=img.device)
    wx = lamina.as_tensor(_resample.weights(w, ow, mode, antialias), dtype=work.dtype, device=img.device)
    out = wy @ work @ wx.T
    if img.is_floating_point():
        return out
    top = max_value(img.dtype)
    return out.round().clamp(0, top).to(img.dtype)


def _pad_index(n: int, before: int, after: int, mode: str) -> np.ndarray:
    if mode == "reflect" and (before >= n or after >= n):
        raise RuntimeError(f"Padding size should be less than the corresponding input dimension, but got: "
                           f"padding ({before}, {after}) for a dimension of size {n}")
    return np.pad(np.arange(n), (before, after), mode=mode)


def pad(img: Tensor, left: int, top: int, right: int, bottom: int, fill: float, padding_mode: str) -> Tensor:
    """Pad each border (negative amounts crop). Modes: constant (``fill``), edge, reflect, symmetric."""
    if min(left, top, right, bottom) < 0:
        h, w = int(img.shape[-2]), int(img.shape[-1])
        img = img[..., -min(top, 0):h + min(bottom, 0), -min(left, 0):w + min(right, 0)]
        left, top, right, bottom = max(left, 0), max(top, 0), max(right, 0), max(bottom, 0)
    if not (left or top or right or bottom):
        return img
    h, w = int(img.shape[-2]), int(img.shape[-1])
    if padding_mode == "constant":
        out = lamina.full((*img.shape[:-2], h + top + bottom, w + left + right), fill, dtype=img.dtype,
                          device=img.device)
        out[..., top:top + h, left:left + w] = img
        return out
    rows = lamina.as_tensor(_pad_index(h, top, bottom, padding_mode), device=img.device)
    cols = lamina.as_tensor(_pad_index(w, left, right, padding_mode), device=img.device)
    return img.index_select(-2, rows).index_select(-1, cols)


def crop(img: Tensor, top: int, left: int, height: int, width: int) -> Tensor:
    """The window ``[top, top + height) x [left, left + width)``; the part outside the image is zeros."""
    _, h, w = dimensions(img)
    bottom, right = top + height, left + width
    if left >= 0 and top >= 0 and right <= w and bottom <= h:
        return img[..., top:bottom, left:right]
    inside = img[..., max(top, 0):max(min(bottom, h), 0), max(left, 0):max(min(right, w), 0)]
    in_h, in_w = int(inside.shape[-2]), int(inside.shape[-1])
    pad_top, pad_left = min(max(-top, 0), height), min(max(-left, 0), width)
    return pad(inside, pad_left, pad_top, width - in_w - pad_left, height - in_h - pad_top, 0, "constant")


def hflip(img: Tensor) -> Tensor:
    return img.flip(-1)


def vflip(img: Tensor) -> Tensor:
    return img.flip(-2)


def rgb_to_grayscale(img: Tensor, num_output_channels: int = 1) -> Tensor:
    """ITU-R 601-2 luma ``0.2989 R + 0.587 G + 0.114 B`` (integer images truncate, as a cast does).

    Shape: (..., 3 or 1, H, W) -> (..., num_output_channels, H, W)
    """
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    c = _channels_in(img, [1, 3])
    if c == 3:
        r, g, b = img.unbind(-3)
        gray = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(-3)
    else:
        gray = img.clone()
    if num_output_channels == 3:
        return gray.expand(*img.shape[:-3], 3, *img.shape[-2:]).clone()
    return gray


def _blend(img1: Tensor, img2: Tensor | float, ratio: float) -> Tensor:
    bound = max_value(img1.dtype)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, bound).to(img1.dtype)


def adjust_brightness(img: Tensor, factor: float) -> Tensor:
    _channels_in(img, [1, 3])
    return _blend(img, 0.0, factor)


def adjust_contrast(img: Tensor, factor: float) -> Tensor:
    c = _channels_in(img, [3, 1])
    work = img.dtype if img.is_floating_point() else lamina.float32
    source = rgb_to_grayscale(img) if c == 3 else img
    mean = source.to(work).mean(dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, factor)


def adjust_saturation(img: Tensor, factor: float) -> Tensor:
    if _channels_in(img, [1, 3]) == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), factor)


def _rgb_to_hsv(img: Tensor) -> Tensor:
    r, g, b = img.unbind(-3)
    maxc = img.amax(dim=-3)
    minc = img.amin(dim=-3)
    flat = maxc == minc
    delta = maxc - minc
    ones = lamina.ones_like(maxc)
    s = delta / lamina.where(flat, ones, maxc)
    divisor = lamina.where(flat, ones, delta)
    rc, gc, bc = (maxc - r) / divisor, (maxc - g) / divisor, (maxc - b) / divisor
    is_r = maxc == r
    is_g = (maxc == g) & ~is_r
    h = lamina.where(is_r, bc - gc, lamina.where(is_g, 2.0 + rc - bc, 4.0 + gc - rc))
    h = lamina.where(flat, lamina.zeros_like(h), h)
    h = lamina.fmod(h / 6.0 + 1.0, 1.0)
    return lamina.stack((h, s, maxc), dim=-3)


def _hsv_to_rgb(img: Tensor) -> Tensor:
    h, s, v = img.unbind(-3)
    sector = lamina.floor(h * 6.0)
    f = h * 6.0 - sector
    sector = sector.to(lamina.int32) % 6
    p = (v * (1.0 - s)).clamp(0.0, 1.0)
    q = (v * (1.0 - s * f)).clamp(0.0, 1.0)
    t = (v * (1.0 - s * (1.0 - f))).clamp(0.0, 1.0)
    table = ((v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q))  # (r, g, b) per sector
    out = [lamina.zeros_like(v) for _ in range(3)]
    for k, rgb in enumerate(table):
        hit = sector == k
        out = [lamina.where(hit, src, acc) for src, acc in zip(rgb, out)]
    return lamina.stack(out, dim=-3)


def adjust_hue(img: Tensor, hue_factor: float) -> Tensor:
    if _channels_in(img, [1, 3]) == 1:
        return img
    dtype = img.dtype
    work = img if img.is_floating_point() else img.to(lamina.float32) / 255.0
    hsv = _rgb_to_hsv(work)
    h, s, v = hsv.unbind(-3)
    h = (h + hue_factor) % 1.0
    out = _hsv_to_rgb(lamina.stack((h, s, v), dim=-3))
    return out if dtype.is_floating_point else (out * 255.0).to(dtype)


def adjust_gamma(img: Tensor, gamma: float, gain: float) -> Tensor:
    dtype = img.dtype
    work = img if img.is_floating_point() else convert_image_dtype(img, lamina.float32)
    out = (gain * work.pow(gamma)).clamp(0, 1)
    return convert_image_dtype(out, dtype)
