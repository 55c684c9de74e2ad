"""Max (and ``*_with_indices``), average and power-average pooling (1/2/3-d) and MaxUnpool2d: one fused Function
per call."""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import ShapeError
from lamina.nn import Module

from ._conv_utils import check_input_dim, check_positive, conv_out_size, ntuple
from ._graph_grads import const
from ._pool_core import AvgPoolNd, MaxPoolNd

__lamina_plugin_api__ = "1.0"


def _pool_setup(input: Any, n: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
                owner: str) -> tuple:
    unbatched = check_input_dim(input, n, owner)
    x = input.unsqueeze(0) if unbatched else input
    kernel = ntuple(kernel_size, n, "kernel_size", owner)
    stride = kernel if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        ntuple(stride, n, "stride", owner)
    pad = ntuple(padding, n, "padding", owner)
    dilation = ntuple(dilation, n, "dilation", owner)
    check_positive(kernel, "kernel_size", owner)
    check_positive(stride, "stride", owner)
    check_positive(dilation, "dilation", owner)
    check_positive(pad, "padding", owner, allow_zero=True)
    if any(p > k // 2 for p, k in zip(pad, kernel)):
        raise ValueError(f"{owner}: pad should be at most half of kernel size, got padding={pad} and "
                         f"kernel_size={kernel}")
    sizes = tuple(x.shape[2:])
    out = tuple(conv_out_size(s, k, st, d, (p, p), ceil_mode)
                for s, k, st, d, p in zip(sizes, kernel, stride, dilation, pad))
    if any(o <= 0 for o in out):
        raise ShapeError(f"{owner}: expected an output size of at least 1, got output size {out} for input size "
                         f"{sizes} (kernel_size={kernel}, stride={stride}, padding={pad}, dilation={dilation})")
    if x.shape[1] == 0:
        raise ShapeError(f"{owner}: expected input with at least 1 channel, got input of shape {tuple(input.shape)}")
    return x, unbatched, kernel, stride, pad, dilation, out


def _max_pool(input, n, kernel_size, stride, padding, dilation, ceil_mode, return_indices, owner):
    x, unbatched, kernel, stride, pad, dilation, out = _pool_setup(input, n, kernel_size, stride, padding, dilation,
                                                                   ceil_mode, owner)
    if not return_indices:
        y = MaxPoolNd.apply(x, kernel, stride, pad, dilation, out, False)
        return y.squeeze(0) if unbatched else y
    y, idx = MaxPoolNd.apply(x, kernel, stride, pad, dilation, out, True)
    return (y.squeeze(0), idx.squeeze(0)) if unbatched else (y, idx)


def max_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out); indices flat over L_in."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


def max_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out); indices flat over H_in * W_in."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


@autocast_op("fp32")
def max_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out); indices flat per plane."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d")


def max_pool1d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """``max_pool1d`` that always returns (output, indices). Shape: (N, C, L_in) -> (N, C, L_out) twice."""
    return _max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool1d_with_indices")


def max_pool2d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """``max_pool2d`` that always returns (output, indices). Shape: (N, C, H_in, W_in) -> (N, C, H_out, W_out)."""
    return _max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool2d_with_indices")


def max_pool3d_with_indices(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """``max_pool3d`` that always returns (output, indices). Shape: (N, C, D_in, H_in, W_in) -> (N, C, D_out, ...)."""
    return _max_pool(input, 3, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool3d_with_indices")


def _avg_pool(input, n, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, owner):
    x, unbatched, kernel, stride, pad, _, out = _pool_setup(input, n, kernel_size, stride, padding, 1, ceil_mode,
                                                            owner)
    if divisor_override is not None and divisor_override == 0:
        raise ValueError(f"{owner}: divisor must be not zero, got divisor_override={divisor_override}")
    y = AvgPoolNd.apply(x, kernel, stride, pad, out, count_include_pad, divisor_override)
    return y.squeeze(0) if unbatched else y


def avg_pool1d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Any:
    """Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out)."""
    return _avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


def avg_pool2d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
    """Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out)."""
    return _avg_pool(input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d")


@autocast_op("fp32")
def avg_pool3d(input: Any, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Any:
    """Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out)."""
    return _avg_pool(input, 3, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool3d")


def _lp_pool(input: Any, n: int, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool) -> Any:
    kernel = ntuple(kernel_size, n, "kernel_size", f"lp_pool{n}d")
    count = 1
    for k in kernel:
        count *= k
    avg = (avg_pool1d, avg_pool2d, avg_pool3d)[n - 1]
    out = avg(input.pow(norm_type), kernel, stride, 0, ceil_mode)
    # sign * relu(|.|) zeroes the sum's tiny negative round-off before the root, as PyTorch does
    return (out.sign() * out.abs().relu()).mul(count).pow(1.0 / norm_type)


def lp_pool1d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Any:
    """(sum over each window of x ** p) ** (1 / p). Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out)."""
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Any:
    """(sum over each window of x ** p) ** (1 / p). Shape: (N, C, H_in, W_in) -> (N, C, H_out, W_out)."""
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input: Any, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> Any:
    """As lp_pool2d over 3-D windows. Shape: (N, C, D_in, H_in, W_in) -> (N, C, D_out, H_out, W_out)."""
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)


class MaxUnpool(Function):
    """Scatter x into zeros at flat per-plane ``indices``. x, idx (N, C, *in) -> y (N, C, *out)"""

    @staticmethod
    def forward(ctx, x, idx, out):
        xp = ctx.xp
        N, C = x.shape[:2]
        P = 1
        for s in out:
            P *= s
        L = 1
        for s in x.shape[2:]:
            L *= s
        y = xp.zeros((N * C, P), dtype=x.dtype)
        flat = idx.reshape(N * C, L)  # explicit sizes (not -1): an empty batch must reshape too
        y[xp.arange(N * C)[:, None], flat] = x.reshape(N * C, L)
        ctx.save_for_backward(flat)
        ctx.in_shape = x.shape
        ctx.P = P
        return y.reshape((N, C) + tuple(out))

    @staticmethod
    def backward(ctx, dy):                 # dy: (N, C, *out) -> dx: (N, C, *in)
        xp = ctx.xp
        (flat,) = ctx.saved_tensors
        if isinstance(dy, Tensor):  # create_graph: a gather by flat positions, differentiable to any order
            rows = ctx.device.backend.xp.arange(flat.shape[0]).reshape(-1, 1) * ctx.P
            return dy.reshape(-1)[const(flat.array + rows, dy).reshape(-1)].reshape(ctx.in_shape), None, None
        d = dy.reshape(flat.shape[0], ctx.P)
        return xp.take_along_axis(d, flat, axis=1).reshape(ctx.in_shape), None, None


@autocast_op("fp32")
def max_unpool2d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Any:
    """Partial inverse of max_pool2d. Shape: (N, C, H_in, W_in) -> (N, C, H_out, W_out),
    H_out = (H_in - 1) * stride - 2 * padding + kernel_size unless output_size is given."""
    owner = "max_unpool2d"
    unbatched = check_input_dim(input, 2, owner)
    kernel = ntuple(kernel_size, 2, "kernel_size", owner)
    stride = kernel if stride is None else ntuple(stride, 2, "stride", owner)
    pad = ntuple(padding, 2, "padding", owner)
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched and indices.ndim == 3 else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise ShapeError(f"{owner}: expected indices of the input's shape {tuple(input.shape)}, got "
                         f"{tuple(indices.shape)}")
    default = tuple((s - 1) * st - 2 * p + k for s, st, p, k in zip(x.shape[2:], stride, pad, kernel))
    if output_size is None:
        out = default
    else:
        out = tuple(int(v) for v in output_size)[-2:]
        for o, d, st in zip(out, default, stride):
            if not d - st < o < d + st:
                lo = tuple(v - s + 1 for v, s in zip(default, stride))
                hi = tuple(v + s - 1 for v, s in zip(default, stride))
                raise ValueError(f"{owner}: expected output_size between {lo} and {hi}, got {out}")
    P = out[0] * out[1]
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= P):
        raise ValueError(f"{owner}: expected indices in [0, {P}) for output size {out}, got values in "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    y = MaxUnpool.apply(x, idx.array if hasattr(idx, "array") else idx, out)
    return y.squeeze(0) if unbatched else y


class _MaxPoolNd(Module):
    _n = 0
    _fn = None

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Any) -> Any:
        return _max_pool(input, self._n, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                         self.return_indices, type(self).__name__)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows of the last dim.

    Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out),
        L_out = floor((L_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1) (ceil with ceil_mode)
    """

    _n = 1


class MaxPool2d(_MaxPoolNd):
    """Max over sliding 2-D windows.

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out), each size as for MaxPool1d
    """

    _n = 2


class MaxPool3d(_MaxPoolNd):
    """Max over sliding 3-D windows.

    Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out), each size as for MaxPool1d
    """

    _n = 3


class MaxUnpool2d(Module):
    """Partial inverse of MaxPool2d: non-maximal positions are zero.

    Shape: (N, C, H_in, W_in) and indices of that shape -> (N, C, H_out, W_out),
        H_out = (H_in - 1) * stride[0] - 2 * padding[0] + kernel_size[0] (or output_size)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = ntuple(kernel_size, 2, "kernel_size", "MaxUnpool2d")
        self.stride = ntuple(stride if stride is not None else kernel_size, 2, "stride", "MaxUnpool2d")
        self.padding = ntuple(padding, 2, "padding", "MaxUnpool2d")

    def forward(self, input: Any, indices: Any, output_size: Any = None) -> Any:
        return max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(Module):
    """Mean over sliding windows of the last dim.

    Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out), L_out = floor((L_in + 2 * padding - kernel_size) / stride + 1)
    """

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = ntuple(kernel_size, 1, "kernel_size", "AvgPool1d")
        self.stride = ntuple(stride if stride is not None else kernel_size, 1, "stride", "AvgPool1d")
        self.padding = ntuple(padding, 1, "padding", "AvgPool1d")
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Any) -> Any:
        return _avg_pool(input, 1, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, None, "AvgPool1d")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    _n = 0

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, input: Any) -> Any:
        return _avg_pool(input, self._n, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                         self.count_include_pad, self.divisor_override, type(self).__name__)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding 2-D windows.

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out),
        H_out = floor((H_in + 2 * padding[0] - kernel_size[0]) / stride[0] + 1) (ceil with ceil_mode)
    """

    _n = 2


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding 3-D windows.

    Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out), each size as for AvgPool2d
    """

    _n = 3


class _LPPoolNd(Module):
    _fn = staticmethod(lp_pool2d)

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type, self.kernel_size, self.stride, self.ceil_mode = norm_type, kernel_size, stride, ceil_mode

    def forward(self, input: Any) -> Any:
        return type(self)._fn(input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling over the last dim: (sum over each window of x ** p) ** (1 / p).

    Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out), L_out = floor((L_in - kernel_size) / stride + 1)
    """

    _fn = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling: (sum over each window of x ** p) ** (1 / p).

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out), H_out = floor((H_in - kH) / sH + 1)
    """

    _fn = staticmethod(lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling over 3-D windows.

    Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out), each size as for LPPool2d
    """

    _fn = staticmethod(lp_pool3d)
