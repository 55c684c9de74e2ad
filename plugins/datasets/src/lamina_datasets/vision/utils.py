"""``torchvision.utils``: ``make_grid`` and ``save_image``."""

from __future__ import annotations

import math
import os
from typing import IO, Any

import lamina
from lamina import Tensor
from PIL import Image

__all__ = ["make_grid", "save_image"]


def _rescale_(img: Tensor, low: float, high: float) -> None:
    img.clamp_(min=low, max=high)
    img.sub_(low).div_(max(high - low, 1e-5))


def _normalize_(img: Tensor, value_range: tuple[float, float] | None) -> None:
    if value_range is not None:
        _rescale_(img, value_range[0], value_range[1])
    else:
        _rescale_(img, float(img.min()), float(img.max()))


def make_grid(tensor: Tensor | list[Tensor], nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Tile a batch of images into one image, ``nrow`` per row, ``padding`` pixels of ``pad_value`` apart.

    One-channel images are repeated to three channels. ``normalize`` maps ``value_range`` (default:
    the min and max, per image with ``scale_each``) to [0, 1].

    Shape: (B, C, H, W) or a list of (C, H, W) -> (C', rows * (H + padding) + padding,
    cols * (W + padding) + padding), C' = 3 if C == 1 else C; a single image is returned unpadded.
    """
    if not (isinstance(tensor, Tensor) or (isinstance(tensor, list) and all(isinstance(t, Tensor) for t in tensor))):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if isinstance(tensor, list):
        if not tensor:
            raise TypeError("tensor or list of tensors expected, got an empty list")
        tensor = lamina.stack(tensor, dim=0)
    if tensor.ndim == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 3:
        if tensor.shape[0] == 1:
            tensor = lamina.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.ndim == 4 and tensor.shape[1] == 1:
        tensor = lamina.cat((tensor, tensor, tensor), 1)
    if normalize is True:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        if scale_each is True:
            for img in tensor:
                _normalize_(img, value_range)
        else:
            _normalize_(tensor, value_range)
    if tensor.shape[0] == 1:
        return tensor.squeeze(0)
    count = int(tensor.shape[0])
    cols = min(nrow, count)
    rows = int(math.ceil(count / cols))
    cell_h, cell_w = int(tensor.shape[2]) + padding, int(tensor.shape[3]) + padding
    grid = tensor.new_full((int(tensor.shape[1]), cell_h * rows + padding, cell_w * cols + padding), pad_value)
    for k in range(count):
        y, x = divmod(k, cols)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + cell_h - padding, left:left + cell_w - padding] = tensor[k]
    return grid


def save_image(tensor: Tensor | list[Tensor], fp: str | os.PathLike | IO[bytes], format: str | None = None,
               **kwargs: Any) -> None:
    """``make_grid(tensor, **kwargs)`` scaled from [0, 1] to uint8 (rounded, clipped) and written by Pillow."""
    grid = make_grid(tensor, **kwargs)
    pixels = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", lamina.uint8).numpy()
    Image.fromarray(pixels).save(fp, format=format)
