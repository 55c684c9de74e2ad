"""Containers and conversions: ``Compose``, ``Lambda``, the ``Random{Apply,Choice,Order}`` wrappers,
``ToTensor``, ``PILToTensor``, ``ToPILImage``, ``ConvertImageDtype``, ``Normalize``.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import lamina
from lamina import Tensor, nn

from . import functional as F

__all__ = ["Compose", "Lambda", "RandomApply", "RandomChoice", "RandomOrder", "ToTensor", "PILToTensor",
           "ToPILImage", "ConvertImageDtype", "Normalize"]


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class Lambda:
    """Apply a user function ``lambd(img)``."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomApply(nn.Module):
    """Apply all of ``transforms`` with probability ``p`` (one draw from lamina's generator), else none."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img: Any) -> Any:
        if bool(self.p < lamina.rand(1)):
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}(\n    p={self.p}{body}\n)"


class RandomChoice:
    """Apply one of ``transforms``, picked with weights ``p`` by Python's ``random`` (as torchvision)."""

    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        if p is not None and len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != {len(transforms)}")
        self.transforms = transforms
        self.p = p

    def __call__(self, *args: Any) -> Any:
        t = random.choices(list(self.transforms), weights=self.p)[0]
        return t(*args)

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)(p={self.p})"


class RandomOrder:
    """Apply ``transforms`` in an order shuffled by Python's ``random`` (as torchvision)."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        order = list(range(len(self.transforms)))
        random.shuffle(order)
        for i in order:
            img = self.transforms[i](img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """PIL image or ndarray ``(H, W[, C])`` -> tensor ``(C, H, W)``; uint8 is scaled to float in [0, 1]."""

    def __call__(self, pic: Any) -> Tensor:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PILToTensor:
    """PIL image -> tensor ``(C, H, W)`` of the same dtype, unscaled."""

    def __call__(self, pic: Any) -> Tensor:
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToPILImage:
    """Tensor ``(C, H, W)`` or ndarray ``(H, W, C)`` -> PIL image (``mode`` guessed from dtype and channels)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


class ConvertImageDtype(nn.Module):
    """Convert a tensor image to ``dtype``, rescaling its intensities."""

    def __init__(self, dtype: lamina.dtype) -> None:
        super().__init__()
        self.dtype = dtype

    def forward(self, image: Tensor) -> Tensor:
        return F.convert_image_dtype(image, self.dtype)


class Normalize(nn.Module):
    """``(x - mean[c]) / std[c]`` per channel. Shape: (..., C, H, W) -> same."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor: Tensor) -> Tensor:
        return F.normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"
