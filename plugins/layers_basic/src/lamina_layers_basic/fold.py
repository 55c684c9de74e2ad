"""F.unfold (im2col) and F.fold (col2im), and their modules: two adjoint Functions."""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.autograd import Function
from lamina.errors import ShapeError
from lamina.nn import Module

from ._conv_utils import check_positive, conv_out_size, ntuple
from ._graph_grads import gather_windows, scatter_windows, window_index
from ._im2col import col2im, crop_array, pad_array, windows

__lamina_plugin_api__ = "1.0"


class Im2Col(Function):
    """x (N, C, H, W) -> cols (N, C * kH * kW, L), L = number of sliding blocks."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, pad, stride, out):
        xp = ctx.xp
        pairs = tuple((p, p) for p in pad)
        view = windows(xp, pad_array(xp, x, pairs), kernel, stride, dilation, out)   # (N, C, *k, *out)
        ctx.meta = (x.shape, kernel, dilation, pairs, stride, out)
        N, C = x.shape[:2]
        return view.reshape(N, C * kernel[0] * kernel[1], out[0] * out[1])

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        shape, kernel, dilation, pairs, stride, out = ctx.meta
        N, C = shape[:2]
        if isinstance(dy, Tensor):  # create_graph: col2im as a differentiable scatter
            idx = window_index(tuple(shape[2:]), kernel, stride, dilation, tuple(lo for lo, _ in pairs), out)
            return scatter_windows(dy.reshape(N, C, -1, idx.shape[1]), idx, tuple(shape[2:])), None, None, None, \
                None, None
        padded = (N, C) + tuple(s + lo + hi for s, (lo, hi) in zip(shape[2:], pairs))
        d = dy.reshape((N, C) + tuple(kernel) + tuple(out))
        return crop_array(col2im(xp, d, padded, kernel, stride, dilation, out), pairs), None, None, None, None, None


class Col2Im(Function):
    """cols (N, C * kH * kW, L) -> y (N, C, *output_size), overlapping blocks summed."""

    @staticmethod
    def forward(ctx, cols, output_size, kernel, dilation, pad, stride, out):
        xp = ctx.xp
        N = cols.shape[0]
        C = cols.shape[1] // (kernel[0] * kernel[1])
        pairs = tuple((p, p) for p in pad)
        padded = (N, C) + tuple(s + 2 * p for s, p in zip(output_size, pad))
        d = cols.reshape((N, C) + tuple(kernel) + tuple(out))
        ctx.meta = (cols.shape, kernel, dilation, pairs, stride, out)
        return xp.ascontiguousarray(crop_array(col2im(xp, d, padded, kernel, stride, dilation, out), pairs))

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        shape, kernel, dilation, pairs, stride, out = ctx.meta
        if isinstance(dy, Tensor):  # create_graph: im2col as a differentiable gather
            idx = window_index(tuple(dy.shape[2:]), kernel, stride, dilation, tuple(lo for lo, _ in pairs), out)
            return gather_windows(dy, idx).reshape(shape), None, None, None, None, None, None
        view = windows(xp, pad_array(xp, dy, pairs), kernel, stride, dilation, out)
        return view.reshape(shape), None, None, None, None, None, None


def _args(kernel_size, dilation, padding, stride, owner):
    kernel = ntuple(kernel_size, 2, "kernel_size", owner)
    dilation = ntuple(dilation, 2, "dilation", owner)
    pad = ntuple(padding, 2, "padding", owner)
    stride = ntuple(stride, 2, "stride", owner)
    check_positive(kernel, "kernel_size", owner)
    check_positive(dilation, "dilation", owner)
    check_positive(stride, "stride", owner)
    check_positive(pad, "padding", owner, allow_zero=True)
    return kernel, dilation, pad, stride


def unfold(input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """Extract sliding blocks. Shape: (N, C, H, W) or (C, H, W) -> (N, C * prod(kernel_size), L) or (C * K, L)."""
    owner = "unfold"
    if input.ndim not in (3, 4):
        raise ShapeError(f"{owner}: expected 3-D (unbatched) or 4-D (batched) input, got {input.ndim}-D input of "
                         f"shape {tuple(input.shape)}")
    kernel, dilation, pad, stride = _args(kernel_size, dilation, padding, stride, owner)
    x = input.unsqueeze(0) if input.ndim == 3 else input
    out = tuple(conv_out_size(s, k, st, d, (p, p))
                for s, k, st, d, p in zip(x.shape[2:], kernel, stride, dilation, pad))
    if any(o <= 0 for o in out):
        raise ShapeError(f"{owner}: expected the padded input {tuple(s + 2 * p for s, p in zip(x.shape[2:], pad))} to "
                         f"hold at least one block of dilated kernel size "
                         f"{tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))}")
    y = Im2Col.apply(x, kernel, dilation, pad, stride, out)
    return y.squeeze(0) if input.ndim == 3 else y


def fold(input: Any, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Any:
    """Sum sliding blocks back into an image. Shape: (N, C * K, L) or (C * K, L) -> (N, C, *output_size)."""
    owner = "fold"
    if input.ndim not in (2, 3):
        raise ShapeError(f"{owner}: expected 2-D (unbatched) or 3-D (batched) input, got {input.ndim}-D input of "
                         f"shape {tuple(input.shape)}")
    kernel, dilation, pad, stride = _args(kernel_size, dilation, padding, stride, owner)
    size = ntuple(output_size, 2, "output_size", owner)
    x = input.unsqueeze(0) if input.ndim == 2 else input
    K = kernel[0] * kernel[1]
    if x.shape[1] % K:
        raise ShapeError(f"{owner}: expected input.size(1) divisible by the product of kernel_size {kernel} ({K}), "
                         f"got {x.shape[1]}")
    out = tuple(conv_out_size(s, k, st, d, (p, p)) for s, k, st, d, p in zip(size, kernel, stride, dilation, pad))
    if x.shape[2] != out[0] * out[1] or out[0] <= 0 or out[1] <= 0:
        raise ShapeError(f"{owner}: expected input.size(2) to match the number of sliding blocks "
                         f"{out[0]} * {out[1]} = {out[0] * out[1]} for output_size={size}, got {x.shape[2]}")
    y = Col2Im.apply(x, size, kernel, dilation, pad, stride, out)
    return y.squeeze(0) if input.ndim == 2 else y


class Unfold(Module):
    """Extract sliding local blocks (im2col).

    Shape: (N, C, H, W) or (C, H, W) -> (N, C * prod(kernel_size), L),
        L = prod over dims of floor((size + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)
    """

    def __init__(self, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> None:
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input: Any) -> Any:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """Combine sliding local blocks into an image (col2im), summing overlaps.

    Shape: (N, C * prod(kernel_size), L) or (C * K, L) -> (N, C, *output_size) or (C, *output_size)
    """

    def __init__(self, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
                 stride: Any = 1) -> None:
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input: Any) -> Any:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")
