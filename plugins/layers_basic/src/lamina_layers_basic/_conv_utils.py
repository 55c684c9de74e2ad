"""Argument normalisation shared by convolution, pooling and fold: tuples, padding, output sizes."""

from __future__ import annotations

import math
from typing import Any

from lamina.errors import ShapeError

__lamina_plugin_api__ = "1.0"

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def ntuple(value: Any, n: int, name: str, owner: str) -> tuple[int, ...]:
    """``3 -> (3, 3)``; a sequence must have ``n`` entries."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1 and n > 1:
            value = tuple(value) * n
        if len(value) != n:
            raise ValueError(f"{owner}: expected {name} to be a single int or a tuple of {n} ints, got {tuple(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _pair(value: Any) -> tuple[int, int]:
    return ntuple(value, 2, "value", "_pair")  # type: ignore[return-value]


def check_positive(values: tuple[int, ...], name: str, owner: str, allow_zero: bool = False) -> None:
    lo = 0 if allow_zero else 1
    if any(v < lo for v in values):
        what = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{owner}: expected {name} to be {what}, got {values}")


def same_padding(kernel: tuple[int, ...], dilation: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """(left, right) per dim so that output size == input size at stride 1 (extra on the right)."""
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def conv_padding(padding: Any, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...],
                 owner: str) -> tuple[tuple[int, int], ...]:
    """Normalise ``padding`` (int, tuple, 'same', 'valid') to (left, right) pairs per spatial dim."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{owner}: padding='same' is not supported for strided convolutions, got stride "
                                 f"{stride}")
            return same_padding(kernel, dilation)
        raise ValueError(f"{owner}: invalid padding string {padding!r}, should be one of ('valid', 'same')")
    p = ntuple(padding, n, "padding", owner)
    check_positive(p, "padding", owner, allow_zero=True)
    return tuple((v, v) for v in p)


def conv_out_size(size: int, kernel: int, stride: int, dilation: int, pad: tuple[int, int],
                  ceil_mode: bool = False) -> int:
    """Output length of a sliding window (PyTorch's rule, incl. ceil_mode's last-window drop)."""
    span = size + pad[0] + pad[1] - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1 if span >= 0 else 0
    out = -(-span // stride) + 1 if span >= 0 else 0
    if out > 0 and (out - 1) * stride >= size + pad[0]:
        out -= 1  # the last window would start inside the right padding
    return out


def check_input_dim(x: Any, spatial: int, owner: str, allow_unbatched: bool = True) -> bool:
    """Check ``x.ndim`` for an ``spatial``-d layer; return True when the input is unbatched."""
    nd = x.ndim
    if nd == spatial + 2:
        return False
    if allow_unbatched and nd == spatial + 1:
        return True
    want = f"{spatial + 1}-D (unbatched) or {spatial + 2}-D (batched)" if allow_unbatched else f"{spatial + 2}-D"
    raise ShapeError(f"{owner}: expected {want} input, got {nd}-D input of shape {tuple(x.shape)}")


def spatial_name(n: int) -> str:
    return {1: "L", 2: "H, W", 3: "D, H, W"}[n]


def prod(values: Any) -> int:
    return math.prod(values)
