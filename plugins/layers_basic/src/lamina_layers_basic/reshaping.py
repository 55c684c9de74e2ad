"""Layers that only move elements: Flatten, Unflatten, PixelShuffle, PixelUnshuffle, ChannelShuffle.

Each is a composition of the core's reshape / permute ops (views where possible), so autograd needs
no hand-written backward.
"""

from __future__ import annotations

from collections.abc import Sequence

import lamina
from lamina import Tensor
from lamina.nn import Module

from . import __lamina_plugin_api__  # noqa: F401


def _check_factor(name: str, arg: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: expected {arg} to be a positive integer, got {value!r}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Move r*r channel blocks into space. Shape: (*, C r^2, H, W) -> (*, C, H r, W r)"""
    r = upscale_factor
    _check_factor("pixel_shuffle", "upscale_factor", r)
    if input.ndim < 3:
        raise lamina.ShapeError(f"pixel_shuffle: expected input (*, C, H, W) with at least 3 dims, "
                                f"got shape {list(input.shape)}")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise lamina.ShapeError(f"pixel_shuffle: expected the channel dimension (size(-3)={c}) to be divisible by "
                                f"upscale_factor**2 = {r * r}")
    n = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)  # (*, C, H, r, W, r)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Inverse of pixel_shuffle. Shape: (*, C, H r, W r) -> (*, C r^2, H, W)"""
    r = downscale_factor
    _check_factor("pixel_unshuffle", "downscale_factor", r)
    if input.ndim < 3:
        raise lamina.ShapeError(f"pixel_unshuffle: expected input (*, C, H, W) with at least 3 dims, "
                                f"got shape {list(input.shape)}")
    *batch, c, h, w = input.shape
    if h % r or w % r:
        raise lamina.ShapeError(f"pixel_unshuffle: expected height and width divisible by downscale_factor={r}, "
                                f"got size(-2)={h}, size(-1)={w}")
    n = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)  # (*, C, r, r, H, W)
    return x.reshape(*batch, c * r * r, h // r, w // r)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of ``groups`` groups. Shape: (N, C, *) -> (N, C, *)"""
    _check_factor("channel_shuffle", "groups", groups)
    if input.ndim < 3:
        raise lamina.ShapeError(f"channel_shuffle: expected input (N, C, *) with at least 3 dims, "
                                f"got shape {list(input.shape)}")
    n, c, *rest = input.shape
    if c % groups:
        raise lamina.ShapeError(f"channel_shuffle: expected the number of channels ({c}) to be divisible by "
                                f"groups ({groups})")
    x = input.reshape(n, groups, c // groups, *rest).transpose(1, 2)
    return x.reshape(n, c, *rest)


class Flatten(Module):
    """Flatten dims ``start_dim`` .. ``end_dim`` into one.

    Shape: input (*, S_start, ..., S_end, *) -> output (*, S_start * ... * S_end, *).
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input: Tensor) -> Tensor:
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Expand dim ``dim`` into ``unflattened_size``.

    Shape: input (*, S_dim, *) -> output (*, U_1, ..., U_n, *) with prod(U) = S_dim (one U may be -1).
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        super().__init__()
        if not isinstance(dim, int):
            raise TypeError(f"Unflatten: expected dim to be an int, got {type(dim).__name__}")
        if not isinstance(unflattened_size, (tuple, list)) or not all(
                isinstance(s, int) and not isinstance(s, bool) for s in unflattened_size):
            raise TypeError(f"Unflatten: expected unflattened_size to be a tuple or list of ints, "
                            f"got {unflattened_size!r}")
        self.dim, self.unflattened_size = dim, unflattened_size

    def forward(self, input: Tensor) -> Tensor:
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class PixelShuffle(Module):
    """Rearrange (*, C r^2, H, W) into (*, C, H r, W r) (sub-pixel convolution).

    Shape: input (*, C * r^2, H, W) -> output (*, C, H * r, W * r), r = upscale_factor.
    """

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Inverse of PixelShuffle.

    Shape: input (*, C, H * r, W * r) -> output (*, C * r^2, H, W), r = downscale_factor.
    """

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Split the channels into ``groups`` groups and interleave them (ShuffleNet).

    Shape: input (N, C, *) -> output (N, C, *), C divisible by groups.
    """

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
