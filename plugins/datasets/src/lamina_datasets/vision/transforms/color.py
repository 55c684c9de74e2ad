"""Colour transforms: ``ColorJitter``, ``Grayscale``, ``RandomGrayscale``."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import lamina
from lamina import nn

from . import functional as F

__all__ = ["ColorJitter", "Grayscale", "RandomGrayscale"]

Range = float | Sequence[float]


def _check_range(value: Range, name: str, center: float = 1.0, bound: tuple[float, float] = (0, float("inf")),
                 clip_first_on_zero: bool = True) -> list[float] | None:
    """A factor range ``[lo, hi]``; a number ``v`` means ``[center - v, center + v]``; None when it is a no-op."""
    if isinstance(value, numbers.Number):
        if value < 0:  # type: ignore[operator]
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        low_high = [center - float(value), center + float(value)]  # type: ignore[arg-type]
        if clip_first_on_zero:
            low_high[0] = max(low_high[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low_high = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= low_high[0] <= low_high[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {low_high}.")
    if low_high[0] == low_high[1] == center:
        return None
    return low_high


class ColorJitter(nn.Module):
    """Random brightness, contrast, saturation and hue, applied in a random order.

    Draws, from lamina's generator: a permutation of the four, then one uniform factor per
    adjustment that is enabled (brightness, contrast, saturation, hue).
    """

    def __init__(self, brightness: Range = 0, contrast: Range = 0, saturation: Range = 0, hue: Range = 0) -> None:
        super().__init__()
        self.brightness = _check_range(brightness, "brightness")
        self.contrast = _check_range(contrast, "contrast")
        self.saturation = _check_range(saturation, "saturation")
        self.hue = _check_range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness: list[float] | None, contrast: list[float] | None, saturation: list[float] | None,
                   hue: list[float] | None) -> tuple[lamina.Tensor, float | None, float | None, float | None,
                                                     float | None]:
        order = lamina.randperm(4)
        factors = [None if r is None else float(lamina.empty(1).uniform_(r[0], r[1]).item())
                   for r in (brightness, contrast, saturation, hue)]
        return order, factors[0], factors[1], factors[2], factors[3]

    def forward(self, img: Any) -> Any:
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        steps = {0: (F.adjust_brightness, b), 1: (F.adjust_contrast, c), 2: (F.adjust_saturation, s),
                 3: (F.adjust_hue, h)}
        for k in order.tolist():
            fn, factor = steps[k]
            if factor is not None:
                img = fn(img, factor)
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class Grayscale(nn.Module):
    """To grayscale with ``num_output_channels`` (1 or 3) channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img: Any) -> Any:
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(nn.Module):
    """To grayscale with probability ``p``, keeping the number of channels."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.p = p

    def forward(self, img: Any) -> Any:
        channels = F.get_dimensions(img)[0]
        if bool(lamina.rand(1) < self.p):
            return F.rgb_to_grayscale(img, num_output_channels=channels)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"
