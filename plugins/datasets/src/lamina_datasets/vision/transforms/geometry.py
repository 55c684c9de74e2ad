"""Geometric transforms: ``Resize``, ``CenterCrop``, ``Pad``, ``RandomCrop``, ``RandomResizedCrop``,
``RandomHorizontalFlip``, ``RandomVerticalFlip``, ``RandomRotation``.

Random parameters are drawn from lamina's default generator in torchvision's order, so
``lamina.manual_seed`` makes a pipeline reproducible. Each takes a PIL image or a tensor
``(..., C, H, W)`` and returns the same kind.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Sequence
from typing import Any

import lamina
from lamina import Tensor, nn

from . import functional as F
from ._modes import InterpolationMode, as_mode

__all__ = ["Resize", "CenterCrop", "Pad", "RandomCrop", "RandomResizedCrop", "RandomHorizontalFlip",
           "RandomVerticalFlip", "RandomRotation"]

_SIZE_MSG = "Please provide only two dimensions (h, w) for size."


def _setup_size(size: int | Sequence[int], error_msg: str) -> tuple[int, int] | Sequence[int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[call-overload]
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if len(size) != 2:  # type: ignore[arg-type]
        raise ValueError(error_msg)
    return size  # type: ignore[return-value]


def _randint(high: int) -> int:
    return int(lamina.randint(0, high, size=(1,)).item())


def _uniform(low: float, high: float) -> float:
    return float(lamina.empty(1).uniform_(low, high).item())


class Resize(nn.Module):
    """Resize to ``size``: ``(h, w)``, or an int for the shorter edge (aspect ratio kept).

    PIL images always antialias; tensors do when ``antialias`` (bilinear and bicubic).
    """

    def __init__(self, size: int | Sequence[int], interpolation: InterpolationMode | int =
                 InterpolationMode.BILINEAR, max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = as_mode(interpolation)
        self.antialias = antialias

    def forward(self, img: Any) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, interpolation={self.interpolation.value}, "
                f"max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(nn.Module):
    """The central ``size`` window (zero-padded if the image is smaller)."""

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = _setup_size(size, _SIZE_MSG)

    def forward(self, img: Any) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class Pad(nn.Module):
    """Pad the borders by ``padding`` (int, 2 or 4 values) with ``padding_mode``."""

    def __init__(self, padding: int | Sequence[int], fill: float | Sequence[float] = 0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} "
                             "element tuple")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def forward(self, img: Any) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"


class RandomCrop(nn.Module):
    """A random ``size`` window, after optional ``padding``; ``pad_if_needed`` pads a small image up to size."""

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a uniformly drawn window (no draw when it covers the image)."""
        _, h, w = F.get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        i = _randint(h - th + 1)
        j = _randint(w - tw + 1)
        return i, j, th, tw

    def __init__(self, size: int | Sequence[int], padding: int | Sequence[int] | None = None,
                 pad_if_needed: bool = False, fill: float | Sequence[float] = 0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = tuple(_setup_size(size, _SIZE_MSG))
        self.padding, self.pad_if_needed = padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    def forward(self, img: Any) -> Any:
        if self.padding is not None:
            img = F.pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = F.get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = F.pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = F.pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)  # type: ignore[arg-type]
        return F.crop(img, i, j, h, w)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomResizedCrop(nn.Module):
    """Crop a random area fraction ``scale`` with aspect ratio in ``ratio`` (log-uniform), resized to ``size``.

    Ten tries at a window that fits; then the central crop clamped to ``ratio``.
    """

    def __init__(self, size: int | Sequence[int], scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.size = _setup_size(size, _SIZE_MSG)
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = as_mode(interpolation)
        self.antialias = antialias
        self.scale, self.ratio = scale, ratio

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of the window to crop."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        # the log-ratio bounds and the exp are float32 tensor ops, as torchvision computes them
        log_ratio = lamina.log(lamina.tensor([float(ratio[0]), float(ratio[1])]))
        log_lo, log_hi = float(log_ratio[0]), float(log_ratio[1])
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect = float(lamina.exp(lamina.empty(1).uniform_(log_lo, log_hi)).item())
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return _randint(height - h + 1), _randint(width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def forward(self, img: Any) -> Any:
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self) -> str:
        scale = tuple(round(s, 4) for s in self.scale)
        ratio = tuple(round(r, 4) for r in self.ratio)
        return (f"{type(self).__name__}(size={self.size}, scale={scale}, ratio={ratio}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


class RandomHorizontalFlip(nn.Module):
    """Mirror left-right with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, img: Any) -> Any:
        return F.hflip(img) if bool(lamina.rand(1) < self.p) else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomVerticalFlip(nn.Module):
    """Mirror top-bottom with probability ``p``."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, img: Any) -> Any:
        return F.vflip(img) if bool(lamina.rand(1) < self.p) else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


def _angle_range(degrees: float | Sequence[float]) -> list[float]:
    if isinstance(degrees, numbers.Number):
        if degrees < 0:  # type: ignore[operator]
            raise ValueError("If degrees is a single number, it must be positive.")
        return [-float(degrees), float(degrees)]  # type: ignore[arg-type]
    if not isinstance(degrees, Sequence) or len(degrees) != 2:
        raise (TypeError if not isinstance(degrees, Sequence) else ValueError)(
            "degrees should be a sequence of length 2.")
    return [float(d) for d in degrees]


class RandomRotation(nn.Module):
    """Rotate by an angle drawn uniformly from ``degrees`` (counter-clockwise; nearest or bilinear)."""

    def __init__(self, degrees: float | Sequence[float], interpolation: InterpolationMode | int =
                 InterpolationMode.NEAREST, expand: bool = False, center: Sequence[int] | None = None,
                 fill: float | Sequence[float] = 0) -> None:
        super().__init__()
        self.degrees = _angle_range(degrees)
        if center is not None and (not isinstance(center, Sequence) or len(center) != 2):
            raise ValueError("center should be a sequence of length 2.")
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.interpolation = as_mode(interpolation)
        self.expand, self.center, self.fill = expand, center, fill

    @staticmethod
    def get_params(degrees: list[float]) -> float:
        return _uniform(float(degrees[0]), float(degrees[1]))

    def forward(self, img: Any) -> Any:
        angle = self.get_params(self.degrees)
        fill = self.fill
        if isinstance(img, Tensor):
            channels = F.get_dimensions(img)[0]
            fill = [float(fill)] * channels if isinstance(fill, (int, float)) else [float(f) for f in fill]
        return F.rotate(img, angle, self.interpolation, self.expand, self.center, fill)

    def __repr__(self) -> str:
        text = (f"{type(self).__name__}(degrees={self.degrees}, interpolation={self.interpolation.value}, "
                f"expand={self.expand}")
        if self.center is not None:
            text += f", center={self.center}"
        if self.fill is not None:
            text += f", fill={self.fill}"
        return text + ")"
