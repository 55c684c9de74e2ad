"""``F.pad`` (constant, reflect, replicate, circular; negative pads crop) and the padding layers (1/2/3-d)."""

from __future__ import annotations

from typing import Any

import numpy as np
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import ShapeError
from lamina.nn import Module

from ._conv_utils import ntuple
from ._graph_grads import scatter_axis

__lamina_plugin_api__ = "1.0"

MODES = ("constant", "reflect", "replicate", "circular")


def _source_index(xp: Any, size: int, lo: int, hi: int, mode: str) -> Any:
    """For each output position along one dim, the input position it copies (-1: constant fill)."""
    src = xp.arange(-lo, size + hi)
    if mode == "reflect":
        src = xp.abs(src)
        src = xp.where(src > size - 1, 2 * (size - 1) - src, src)
    elif mode == "replicate":
        src = xp.clip(src, 0, size - 1)
    elif mode == "circular":
        # negative pads crop first; the wrap-around then reads the cropped input (PyTorch's rule)
        c0, c1 = max(-lo, 0), max(-hi, 0)
        src = (src - c0) % (size - c0 - c1) + c0
    return src


def _scatter_axis(xp: Any, dy: Any, idx: Any, axis: int, size: int) -> Any:
    """Adjoint of ``xp.take(x, idx, axis)``: sum the rows of dy into their source positions."""
    moved = xp.moveaxis(dy, axis, 0)
    dx = xp.zeros((size,) + moved.shape[1:], dtype=dy.dtype)
    xp.add.at(dx, idx, moved)
    return xp.moveaxis(dx, 0, axis)


class Pad(Function):
    """Pad the last dims. x (*, S_1..S_n) -> y (*, S_i + lo_i + hi_i); pairs given first dim first."""

    @staticmethod
    def forward(ctx, x, pairs, mode, value):
        xp = ctx.xp
        n = len(pairs)
        dims = x.shape[x.ndim - n:]
        ctx.meta = (x.shape, pairs, mode)
        if mode == "constant":
            out_shape = x.shape[:x.ndim - n] + tuple(s + lo + hi for s, (lo, hi) in zip(dims, pairs))
            y = xp.full(out_shape, value, dtype=x.dtype) if value else xp.zeros(out_shape, dtype=x.dtype)
            src, dst = _constant_slices(dims, pairs)
            y[dst] = x[src]
            return y
        y = x
        for k, (s, (lo, hi)) in enumerate(zip(dims, pairs)):
            if lo or hi:
                y = xp.take(y, _source_index(xp, s, lo, hi, mode), axis=x.ndim - n + k)
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        shape, pairs, mode = ctx.meta
        n = len(pairs)
        dims = shape[len(shape) - n:]
        if mode == "constant":
            dx = xp.zeros(shape, dtype=dy.dtype)
            src, dst = _constant_slices(dims, pairs)
            dx[src] = dy[dst]
            return dx, None, None, None
        graph = isinstance(dy, Tensor)  # create_graph: the same scatter as a differentiable index_add
        dx = dy
        for k in reversed(range(n)):
            s, (lo, hi) = dims[k], pairs[k]
            if lo or hi:
                axis = len(shape) - n + k
                if graph:
                    dx = scatter_axis(dx, _source_index(np, s, lo, hi, mode), axis, s)
                else:
                    dx = _scatter_axis(xp, dx, _source_index(xp, s, lo, hi, mode), axis, s)
        return dx, None, None, None


def _constant_slices(dims: tuple[int, ...], pairs: tuple[tuple[int, int], ...]) -> tuple[tuple, tuple]:
    """Slices of the input kept and of the output they land in (negative pads crop the input)."""
    src, dst = [], []
    for s, (lo, hi) in zip(dims, pairs):
        src.append(slice(max(-lo, 0), s - max(-hi, 0)))
        dst.append(slice(max(lo, 0), max(lo, 0) + max(s - max(-lo, 0) - max(-hi, 0), 0)))
    return (Ellipsis,) + tuple(src), (Ellipsis,) + tuple(dst)


def pad(input: Any, pad: Any, mode: str = "constant", value: float | None = None) -> Any:
    """Pad the last ``len(pad) // 2`` dims; ``pad`` = (left_last, right_last, left_prev, right_prev, ...).

    Shape: input (*, S_n) -> output (*, S_n + pad[0] + pad[1]) for the last dim, and so on backwards.
    """
    pad = tuple(int(p) for p in pad)
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {MODES}, got {mode!r}")
    if len(pad) % 2:
        raise ValueError(f"pad: padding length must be divisible by 2, got {len(pad)}")
    n = len(pad) // 2
    if n > input.ndim:
        raise ValueError(f"pad: padding length too large: {len(pad)} values pad {n} dims of a {input.ndim}-D input")
    if mode != "constant":
        if value not in (None, 0, 0.0):
            raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument, got value={value}")
        if n > 3 or input.ndim not in (n + 1, n + 2):
            raise NotImplementedError(
                f"pad: {mode} padding of the last {n} dims expects a {n + 1}-D (unbatched) or {n + 2}-D (batched) "
                f"input, got {input.ndim}-D input of shape {tuple(input.shape)}")
    pairs = tuple((pad[2 * k], pad[2 * k + 1]) for k in reversed(range(n)))
    dims = tuple(input.shape[input.ndim - n:])
    for k, (s, (lo, hi)) in enumerate(zip(dims, pairs)):
        dim = input.ndim - n + k
        if s + lo + hi < 0 or (mode == "constant" and s + lo + hi < 0):
            raise ShapeError(f"pad: expected a non-negative output size at dim {dim}, got {s} + {lo} + {hi}")
        if mode == "reflect" and (lo >= s or hi >= s):
            raise ShapeError(f"pad: reflect padding expects each pad to be less than the input size at dim {dim}, "
                             f"got pads ({lo}, {hi}) for size {s}")
        if mode == "circular" and (lo > s or hi > s):
            raise ShapeError(f"pad: circular padding expects each pad to be at most the input size at dim {dim}, "
                             f"got pads ({lo}, {hi}) for size {s}")
        if mode in ("replicate", "reflect", "circular") and s == 0 and (lo or hi):
            raise ShapeError(f"pad: {mode} padding expects a non-empty dim {dim}, got size 0")
    if mode == "replicate" or (mode == "reflect" and n < 3):
        return _pad_fp32(input, pairs, mode, 0.0)
    return Pad.apply(input, pairs, mode, 0.0 if value is None else float(value))


@autocast_op("fp32")  # torch's reflection_pad1d/2d and replication_pad1d/2d/3d run in float32 under autocast
def _pad_fp32(input: Any, pairs: tuple, mode: str, value: float) -> Any:
    return Pad.apply(input, pairs, mode, value)


class _PadNd(Module):
    _n = 0
    _mode = "constant"
    #: check the input's rank in the layer; otherwise F.pad reports a bad rank as PyTorch's layer does
    #: (constant pads of any rank >= n; reflect/replicate raise NotImplementedError), circular pads check it
    _rank_check = True

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        self.padding = ntuple(padding, 2 * self._n, "padding", type(self).__name__)
        self.value = value

    def _check(self, input: Any) -> None:
        if input.ndim not in (self._n + 1, self._n + 2):
            raise ShapeError(f"{type(self).__name__}: expected {self._n + 1}-D (unbatched) or {self._n + 2}-D "
                             f"(batched) input, got {input.ndim}-D input of shape {tuple(input.shape)}")

    def forward(self, input: Any) -> Any:
        if self._rank_check:
            self._check(input)
        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ConstantPad1d(_PadNd):
    """Pad the last dim with a constant.

    Shape: (N, C, W_in) or (C, W_in) -> (N, C, W_in + left + right) or (C, W_out)
    """

    _n = 1

    def __init__(self, padding: int | tuple[int, int], value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(_PadNd):
    """Pad the last two dims with a constant; padding = (left, right, top, bottom).

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_in + top + bottom, W_in + left + right)
    """

    _n = 2

    def __init__(self, padding: int | tuple[int, int, int, int], value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dims with zeros; padding = (left, right, top, bottom).

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_in + top + bottom, W_in + left + right)
    """

    def __init__(self, padding: int | tuple[int, int, int, int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad2d(_PadNd):
    """Pad the last two dims with their reflection (edge not repeated); each pad < that dim's size.

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_in + top + bottom, W_in + left + right)
    """

    _n = 2
    _mode = "reflect"

    def __init__(self, padding: int | tuple[int, int, int, int]) -> None:
        super().__init__(padding)


class ReplicationPad2d(_PadNd):
    """Pad the last two dims by repeating the edge values.

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_in + top + bottom, W_in + left + right)
    """

    _n = 2
    _mode = "replicate"

    def __init__(self, padding: int | tuple[int, int, int, int]) -> None:
        super().__init__(padding)


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its reflection (edge not repeated); each pad < the dim's size.

    Shape: (N, C, W_in) or (C, W_in) -> (N, C, W_in + left + right)
    """

    _n = 1
    _mode = "reflect"
    _rank_check = False

    def __init__(self, padding: int | tuple[int, int]) -> None:
        super().__init__(padding)


class ReflectionPad3d(_PadNd):
    """Pad the last three dims with their reflection; padding = (left, right, top, bottom, front, back).

    Shape: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in) -> (N, C, D_in + front + back, H_in + top + bottom,
        W_in + left + right)
    """

    _n = 3
    _mode = "reflect"
    _rank_check = False

    def __init__(self, padding: int | tuple[int, int, int, int, int, int]) -> None:
        super().__init__(padding)


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge values.

    Shape: (N, C, W_in) or (C, W_in) -> (N, C, W_in + left + right)
    """

    _n = 1
    _mode = "replicate"
    _rank_check = False

    def __init__(self, padding: int | tuple[int, int]) -> None:
        super().__init__(padding)


class ReplicationPad3d(_PadNd):
    """Pad the last three dims by repeating the edge values.

    Shape: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in) -> padded as ReflectionPad3d
    """

    _n = 3
    _mode = "replicate"
    _rank_check = False

    def __init__(self, padding: int | tuple[int, int, int, int, int, int]) -> None:
        super().__init__(padding)


class CircularPad1d(_PadNd):
    """Pad the last dim by wrapping around (the values of the other end).

    Shape: (N, C, W_in) or (C, W_in) -> (N, C, W_in + left + right)
    """

    _n = 1
    _mode = "circular"

    def __init__(self, padding: int | tuple[int, int]) -> None:
        super().__init__(padding)


class CircularPad2d(_PadNd):
    """Pad the last two dims by wrapping around; padding = (left, right, top, bottom).

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_in + top + bottom, W_in + left + right)
    """

    _n = 2
    _mode = "circular"

    def __init__(self, padding: int | tuple[int, int, int, int]) -> None:
        super().__init__(padding)


class CircularPad3d(_PadNd):
    """Pad the last three dims by wrapping around; padding = (left, right, top, bottom, front, back).

    Shape: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in) -> padded as ReflectionPad3d
    """

    _n = 3
    _mode = "circular"

    def __init__(self, padding: int | tuple[int, int, int, int, int, int]) -> None:
        super().__init__(padding)


class ConstantPad3d(_PadNd):
    """Pad the last three dims with a constant; padding = (left, right, top, bottom, front, back).

    Shape: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in) -> padded as ReflectionPad3d
    """

    _n = 3
    _rank_check = False

    def __init__(self, padding: int | tuple[int, int, int, int, int, int], value: float) -> None:
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ZeroPad1d(ConstantPad1d):
    """Pad the last dim with zeros.

    Shape: (N, C, W_in) or (C, W_in) -> (N, C, W_in + left + right)
    """

    _rank_check = False

    def __init__(self, padding: int | tuple[int, int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dims with zeros.

    Shape: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in) -> padded as ReflectionPad3d
    """

    def __init__(self, padding: int | tuple[int, int, int, int, int, int]) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"
