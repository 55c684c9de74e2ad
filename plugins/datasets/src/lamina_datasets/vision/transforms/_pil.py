"""Kernels on PIL images (``torchvision.transforms._functional_pil``'s role).

Every function takes and returns a ``PIL.Image.Image``; the public ``functional`` module checks
arguments and dispatches here or to ``_tensor``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageEnhance, ImageOps

__all__ = ["is_pil", "dimensions", "resize", "pad", "crop", "hflip", "vflip", "to_grayscale",
           "adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma", "rotate"]


def is_pil(img: object) -> bool:
    return isinstance(img, Image.Image)


def dimensions(img: Image.Image) -> list[int]:
    """``[channels, height, width]``."""
    channels = len(img.getbands())
    width, height = img.size
    return [channels, height, width]


def resize(img: Image.Image, size: Sequence[int], resample: int) -> Image.Image:
    """``size`` is ``(h, w)``."""
    return img.resize((int(size[1]), int(size[0])), resample)


def _fill_for(img: Image.Image, fill: float | Sequence[float] | None) -> int | float | tuple:
    """``fill`` in the form Pillow wants for ``img``'s mode: one number per band."""
    bands = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)):
        value = int(fill) if img.mode not in ("F",) else float(fill)
        return value if bands == 1 else tuple([value] * bands)
    fill = tuple(fill)
    if len(fill) == 1:
        fill = fill * bands
    if len(fill) != bands:
        raise ValueError(f"The number of elements in 'fill' does not match the number of bands of the image "
                         f"({len(fill)} != {bands})")
    return fill[0] if bands == 1 else tuple(int(v) for v in fill)


def pad(img: Image.Image, left: int, top: int, right: int, bottom: int, fill: float | Sequence[float],
        padding_mode: str) -> Image.Image:
    """Pad (or, for negative amounts, crop) each border."""
    if min(left, top, right, bottom) < 0:
        width, height = img.size
        img = img.crop((-min(left, 0), -min(top, 0), width + min(right, 0), height + min(bottom, 0)))
        left, top, right, bottom = max(left, 0), max(top, 0), max(right, 0), max(bottom, 0)
    if not (left or top or right or bottom):
        return img
    if padding_mode == "constant":
        if img.mode == "P":
            palette = img.getpalette()
            out = ImageOps.expand(img, border=(left, top, right, bottom), fill=_fill_for(img, fill))
            out.putpalette(palette)
            return out
        return ImageOps.expand(img, border=(left, top, right, bottom), fill=_fill_for(img, fill))
    arr = np.asarray(img)
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (arr.ndim - 2)
    padded = np.ascontiguousarray(np.pad(arr, widths, mode=padding_mode))
    out = Image.frombytes(img.mode, (padded.shape[1], padded.shape[0]), padded.tobytes())
    if img.mode == "P":
        out.putpalette(img.getpalette())
    return out


def crop(img: Image.Image, top: int, left: int, height: int, width: int) -> Image.Image:
    """Pillow fills the part of the box outside the image with zeros."""
    return img.crop((left, top, left + width, top + height))


def hflip(img: Image.Image) -> Image.Image:
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


def vflip(img: Image.Image) -> Image.Image:
    return img.transpose(Image.Transpose.FLIP_TOP_BOTTOM)


def to_grayscale(img: Image.Image, num_output_channels: int) -> Image.Image:
    gray = img.convert("L")
    if num_output_channels == 1:
        return gray
    arr = np.asarray(gray)
    return Image.fromarray(np.dstack([arr, arr, arr]), "RGB")


def adjust_brightness(img: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Brightness(img).enhance(factor)


def adjust_contrast(img: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Contrast(img).enhance(factor)


def adjust_saturation(img: Image.Image, factor: float) -> Image.Image:
    return ImageEnhance.Color(img).enhance(factor)


def adjust_hue(img: Image.Image, hue_factor: float) -> Image.Image:
    """Rotate the hue channel of the HSV image by ``hue_factor`` turns (uint8 hue wraps around)."""
    if img.mode in ("L", "1", "I", "F"):
        return img
    mode = img.mode
    h, s, v = img.convert("HSV").split()
    hue = np.asarray(h).astype(np.int64)
    shift = int(np.uint8(np.int64(hue_factor * 255) % 256))
    h = Image.fromarray(((hue + shift) % 256).astype(np.uint8), "L")
    return Image.merge("HSV", (h, s, v)).convert(mode)


def adjust_gamma(img: Image.Image, gamma: float, gain: float) -> Image.Image:
    mode = img.mode
    rgb = img.convert("RGB")
    table = [min(255, max(0, int((255 + 1 - 1e-3) * gain * (i / 255.0) ** gamma))) for i in range(256)]
    return rgb.point(table * 3).convert(mode)


def rotate(img: Image.Image, angle: float, resample: int, expand: bool, center: Sequence[int] | None,
           fill: float | Sequence[float] | None) -> Image.Image:
    return img.rotate(angle, resample, expand, center, fillcolor=_fill_for(img, fill))
