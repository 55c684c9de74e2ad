"""``InterpolationMode``: the resampling filters by name, with their Pillow constants."""

from __future__ import annotations

from enum import Enum

__all__ = ["InterpolationMode", "as_mode", "pil_filter"]


class InterpolationMode(Enum):
    """Interpolation modes, as ``torchvision.transforms.InterpolationMode``.

    Tensors support ``NEAREST``, ``NEAREST_EXACT``, ``BILINEAR`` and ``BICUBIC``; PIL images all but
    ``NEAREST_EXACT``.
    """

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    # PIL only
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's Image.Resampling values (NEAREST=0, LANCZOS=1, BILINEAR=2, BICUBIC=3, BOX=4, HAMMING=5)
_PIL_CODES = {InterpolationMode.NEAREST: 0, InterpolationMode.LANCZOS: 1, InterpolationMode.BILINEAR: 2,
              InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5}
_FROM_INT = {code: mode for mode, code in _PIL_CODES.items()}


def as_mode(interpolation: InterpolationMode | int) -> InterpolationMode:
    """``interpolation`` as an ``InterpolationMode`` (Pillow's integer constants are accepted too)."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, int) and not isinstance(interpolation, bool):
        if interpolation not in _FROM_INT:
            raise ValueError(f"interpolation as an int must be one of Pillow's filters {sorted(_FROM_INT)}, "
                             f"got {interpolation}")
        return _FROM_INT[interpolation]
    raise TypeError("Argument interpolation should be of type InterpolationMode instead of "
                    f"{type(interpolation).__name__}")


def pil_filter(mode: InterpolationMode) -> int:
    """The Pillow resampling constant of ``mode``; ``NEAREST_EXACT`` has none."""
    if mode not in _PIL_CODES:
        raise ValueError(f"Interpolation mode {mode.value!r} is not supported for PIL images; use one of "
                         f"{[m.value for m in _PIL_CODES]}")
    return _PIL_CODES[mode]
