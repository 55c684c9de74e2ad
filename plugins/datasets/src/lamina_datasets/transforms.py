"""Image transforms, as ``torchvision.transforms`` (without PIL).

An image is either a NumPy array ``(H, W)`` or ``(H, W, C)`` (what a PIL image is to torchvision:
the datasets hand these out) or a tensor ``(..., C, H, W)`` (after ``ToTensor``). ``ToTensor``
turns the first into the second; ``Normalize`` needs a float tensor; the geometric transforms
(``RandomCrop``, ``RandomHorizontalFlip``, ``Resize``) take either and return the same kind. A
batch ``(N, C, H, W)`` is transformed as a whole (one crop offset, one flip decision).

Random decisions are drawn from lamina's default generator (``lamina.manual_seed`` makes them
reproducible) or from the ``generator`` given to the transform.

This is the NumPy-array flavour; ``lamina_datasets.vision.transforms`` is torchvision's own surface
(PIL images and tensors). ``Compose`` and ``Lambda`` are the same classes in both, and ``ToTensor``
converts arrays with ``vision``'s ``to_tensor``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lamina
import numpy as np
from lamina import Tensor

from .vision.transforms import functional as _vision_functional
from .vision.transforms.conversion import Compose, Lambda

__all__ = ["Compose", "ToTensor", "Normalize", "RandomCrop", "RandomHorizontalFlip", "Lambda", "Resize"]

Image = Any  # np.ndarray (H, W[, C]) or Tensor (..., C, H, W)


def _hw(img: Image, who: str) -> tuple[int, int]:
    """Height and width of ``img``, validating its kind and rank."""
    if isinstance(img, Tensor):
        if img.ndim < 2:
            raise ValueError(f"{who}: expected a tensor image (..., H, W), got shape {tuple(img.shape)}")
        return int(img.shape[-2]), int(img.shape[-1])
    if isinstance(img, np.ndarray):
        if img.ndim not in (2, 3):
            raise ValueError(f"{who}: expected an array image (H, W) or (H, W, C), got shape {img.shape}")
        return int(img.shape[0]), int(img.shape[1])
    raise TypeError(f"{who}: expected a lamina Tensor or a NumPy array, got {type(img).__name__}")


def _pair(size: int | Sequence[int], who: str) -> tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) == 1:
        return int(size[0]), int(size[0])
    if len(size) != 2:
        raise ValueError(f"{who}: expected size as an int or (h, w), got {size!r}")
    return int(size[0]), int(size[1])


class ToTensor:
    """NumPy image ``(H, W)`` or ``(H, W, C)`` -> tensor ``(C, H, W)``; uint8 is scaled to float32 in [0, 1].

    Other dtypes keep their values and dtype, as in torchvision.
    """

    def __call__(self, pic: np.ndarray) -> Tensor:
        if isinstance(pic, Tensor) or not isinstance(pic, np.ndarray):
            raise TypeError(f"ToTensor: expected a NumPy array (H, W) or (H, W, C), got {type(pic).__name__}")
        if pic.ndim not in (2, 3):
            raise ValueError(f"ToTensor: expected an array (H, W) or (H, W, C), got shape {pic.shape}")
        return _vision_functional.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """``(x - mean[c]) / std[c]`` per channel of a float tensor ``(..., C, H, W)``.

    Shape: (..., C, H, W) -> (..., C, H, W)
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = tuple(float(m) for m in mean)
        self.std = tuple(float(s) for s in std)
        if len(self.mean) != len(self.std):
            raise ValueError(f"Normalize: expected mean and std of equal length, got {len(self.mean)} and "
                             f"{len(self.std)}")
        if any(s == 0.0 for s in self.std):
            raise ValueError(f"Normalize: expected std without zeros (division by zero), got {self.std}")
        self.inplace = inplace

    def __call__(self, tensor: Tensor) -> Tensor:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"Normalize: expected a tensor (..., C, H, W), got {type(tensor).__name__}")
        if not tensor.is_floating_point():
            raise TypeError(f"Normalize: expected a float tensor, got {tensor.dtype}")
        if tensor.ndim < 3:
            raise ValueError(f"Normalize: expected a tensor image (..., C, H, W), got shape {tuple(tensor.shape)}")
        channels = int(tensor.shape[-3])
        if len(self.mean) not in (1, channels):
            raise ValueError(f"Normalize: expected mean/std with 1 or C={channels} values, got {len(self.mean)}")
        mean = lamina.tensor(self.mean, dtype=tensor.dtype, device=tensor.device).reshape(-1, 1, 1)
        std = lamina.tensor(self.std, dtype=tensor.dtype, device=tensor.device).reshape(-1, 1, 1)
        if self.inplace:
            return tensor.sub_(mean).div_(std)
        return (tensor - mean) / std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={list(self.mean)}, std={list(self.std)})"


class RandomCrop:
    """Crop a random ``size`` window, after padding every border by ``padding`` (constant ``fill``).

    ``padding`` is an int (all sides), ``(left/right, top/bottom)`` or ``(left, top, right, bottom)``.
    ``pad_if_needed`` pads an image smaller than ``size`` up to it.

    Shape: (..., H, W) or (H, W[, C]) -> (..., h, w) or (h, w[, C])
    """

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float = 0, generator: lamina.Generator | None = None) -> None:
        self.size = _pair(size, "RandomCrop")
        if padding is None:
            pad = (0, 0, 0, 0)
        elif isinstance(padding, int):
            pad = (padding,) * 4
        elif len(padding) == 2:
            pad = (padding[0], padding[1], padding[0], padding[1])
        elif len(padding) == 4:
            pad = tuple(padding)  # type: ignore[assignment]
        else:
            raise ValueError(f"RandomCrop: expected padding as an int or 2 or 4 ints, got {padding!r}")
        if any(p < 0 for p in pad):
            raise ValueError(f"RandomCrop: expected non-negative padding, got {padding!r}")
        self.padding, self._pad = padding, pad
        self.pad_if_needed, self.fill, self.generator = pad_if_needed, fill, generator

    def __call__(self, img: Image) -> Image:
        h, w = _hw(img, "RandomCrop")
        left, top, right, bottom = self._pad
        th, tw = self.size
        if self.pad_if_needed:
            top, bottom = top + max(0, th - (h + top + bottom)), bottom + max(0, th - (h + top + bottom))
            left, right = left + max(0, tw - (w + left + right)), right + max(0, tw - (w + left + right))
        ph, pw = h + top + bottom, w + left + right
        if ph < th or pw < tw:
            raise ValueError(f"RandomCrop: expected an image of at least {th}x{tw} after padding, got {ph}x{pw}")
        img = _pad(img, top, bottom, left, right, self.fill)
        i = int(lamina.randint(0, ph - th + 1, (1,), generator=self.generator).item())
        j = int(lamina.randint(0, pw - tw + 1, (1,), generator=self.generator).item())
        if isinstance(img, Tensor):
            return img[..., i:i + th, j:j + tw]
        return img[i:i + th, j:j + tw]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


def _pad(img: Image, top: int, bottom: int, left: int, right: int, fill: float) -> Image:
    if not (top or bottom or left or right):
        return img
    h, w = _hw(img, "RandomCrop")
    if isinstance(img, Tensor):
        out = lamina.full((*img.shape[:-2], h + top + bottom, w + left + right), fill, dtype=img.dtype,
                          device=img.device)
        out[..., top:top + h, left:left + w] = img
        return out
    widths = [(top, bottom), (left, right)] + [(0, 0)] * (img.ndim - 2)
    return np.pad(img, widths, mode="constant", constant_values=fill)


class RandomHorizontalFlip:
    """Mirror the image left-right with probability ``p``.

    Shape: (..., H, W) or (H, W[, C]) -> same
    """

    def __init__(self, p: float = 0.5, generator: lamina.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: expected 0 <= p <= 1, got {p}")
        self.p, self.generator = p, generator

    def __call__(self, img: Image) -> Image:
        _hw(img, "RandomHorizontalFlip")
        if lamina.rand(1, generator=self.generator).item() >= self.p:
            return img
        if isinstance(img, Tensor):
            return img.flip(-1)
        return np.ascontiguousarray(img[:, ::-1])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class Resize:
    """Nearest-neighbour resize to ``size``: ``(h, w)``, or an int for the shorter edge (aspect ratio kept).

    Source index of output pixel ``i`` is ``floor(i * in / out)``, as ``interpolate(mode="nearest")``.

    Shape: (..., H, W) or (H, W[, C]) -> (..., h, w) or (h, w[, C])
    """

    def __init__(self, size: int | Sequence[int], interpolation: str = "nearest") -> None:
        if interpolation != "nearest":
            raise ValueError(f"Resize: interpolation must be one of ['nearest'], got {interpolation!r}")
        if not isinstance(size, int) and len(size) not in (1, 2):
            raise ValueError(f"Resize: expected size as an int or (h, w), got {size!r}")
        self.size, self.interpolation = size, interpolation

    def _target(self, h: int, w: int) -> tuple[int, int]:
        if isinstance(self.size, int) or len(self.size) == 1:
            short = self.size if isinstance(self.size, int) else int(self.size[0])
            if h <= w:
                return short, max(1, int(short * w / h))
            return max(1, int(short * h / w)), short
        return int(self.size[0]), int(self.size[1])

    def __call__(self, img: Image) -> Image:
        h, w = _hw(img, "Resize")
        oh, ow = self._target(h, w)
        rows = np.minimum((np.arange(oh) * h) // oh, h - 1)
        cols = np.minimum((np.arange(ow) * w) // ow, w - 1)
        if isinstance(img, Tensor):
            r = lamina.as_tensor(rows, device=img.device)
            c = lamina.as_tensor(cols, device=img.device)
            return img.index_select(-2, r).index_select(-1, c)
        return img[rows][:, cols]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation})"
