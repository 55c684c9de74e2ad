"""Conv1d/2d/3d: one fused Function per call (im2col + GEMMs per sample or batch-folded), N-d once."""

from __future__ import annotations

import math
from typing import Any

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.errors import DTypeError, ShapeError
from lamina.nn import Module, Parameter

from . import _depthwise as masked_dw
from ._conv_gemm import fold_backward, fold_forward, folds, keeps, sample_backward, sample_forward
from ._conv_utils import PADDING_MODES, check_input_dim, check_positive, conv_out_size, conv_padding, ntuple
from ._graph_grads import conv_grads
from ._im2col import depthwise_backward, depthwise_forward, is_pointwise
from ._low_precision import Float32Function

__lamina_plugin_api__ = "1.0"


class ConvNd(Float32Function):
    """N-d grouped convolution. x (N, C, *S), w (O, C/G, *k), b (O,) | None -> y (N, O, *out).

    The GEMMs (``_conv_gemm``) run per sample, cols (N, G, C/G*K, L), writing NCHW directly, or with
    the batch folded into one GEMM for small outputs with large weights (``folds``). Column matrices
    up to ``keeps``' size are kept for backward, larger ones recomputed there from x. The input
    gradient of a stride-1 convolution is the full correlation of dy with the flipped kernel (im2col
    of dy + one GEMM, no scatter-add); strided ones scatter the column gradient back on phase grids
    (``_phase``) or by col2im. Depthwise convolutions (groups == C == O) multiply-add one strided
    slice per kernel offset instead. Scratch arrays come from the backend's ``workspace`` (pooled on
    the CPU).
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        xp, ws = ctx.xp, ctx.device.backend
        N, C = x.shape[:2]
        O, kernel = w.shape[0], w.shape[2:]
        sizes = x.shape[2:]
        out = tuple(conv_out_size(s, k, st, d, p) for s, k, st, d, p in zip(sizes, kernel, stride, dilation, pads))
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.meta = (x.shape, pads, stride, dilation, groups, out, w.shape)
        ctx.masked = False
        ctx.folded = False
        cols = None
        if _depthwise(groups, C, O, kernel, stride):
            ctx.masked = masked_dw.applies(xp, x, sizes, out)
            if ctx.masked:
                y, _ = masked_dw.forward(xp, ws, x, w, pads, dilation, out)
            else:
                y = depthwise_forward(xp, ws, x, w, pads, dilation, out)
        elif folds(N, out, w.shape, groups):
            ctx.folded = True
            y, cols = fold_forward(xp, ws, x, w, b, pads, stride, dilation, groups, out)   # cols (G, C/G*K, N*L)
        else:
            y, cols = sample_forward(xp, ws, x, w, pads, stride, dilation, groups, out, need_w)   # (N, G, O/G, L)
        # x is kept (in-place edits of it are caught); the columns only while small, else recomputed
        # in backward (a 1x1 convolution's are a view of x: nothing to keep)
        keep = need_w and cols is not None and not is_pointwise(kernel, stride, pads) and keeps(cols)
        ctx.save_for_backward(x if need_w else None, w if need_x else None, cols if keep else None)
        del cols
        y = y.reshape((N, O) + out)
        if b is not None and not ctx.folded:
            y += b.reshape((O,) + (1,) * len(out))
        return y

    @staticmethod
    def backward(ctx, dy):                                                    # dy: (N, O, *out)
        if isinstance(dy, Tensor):  # create_graph: the paths below work on arrays in place
            return _graph_backward(ctx, dy)
        xp, ws = ctx.xp, ctx.device.backend
        x, w, cols = ctx.saved_tensors
        x_shape, pads, stride, dilation, groups, out, w_shape = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        N, C = x_shape[:2]
        O, kernel = w_shape[0], w_shape[2:]
        dx = dw = db = None
        if ctx.masked and bool(xp.isfinite(dy).all()):
            dx, dw = masked_dw.backward(xp, ws, dy, x, w, x_shape, pads, dilation, out, need_x, need_w)
        elif _depthwise(groups, C, O, kernel, stride):
            dx, dw = depthwise_backward(xp, ws, dy, x, w, x_shape, pads, dilation, out, need_x, need_w)
        elif ctx.folded:
            dx, dw = fold_backward(xp, ws, dy, x, w, cols, x_shape, w_shape, pads, stride, dilation, groups, out,
                                   need_x, need_w)
        else:
            dx, dw = sample_backward(xp, ws, dy, x, w, cols, x_shape, w_shape, pads, stride, dilation, groups, out,
                                     need_x, need_w)
        if need_b:
            db = dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))                 # (O,)
        return dx, dw, db, None, None, None, None


def _graph_backward(ctx, dy):
    """ConvNd's gradients as differentiable ops (double backward): the same values, any order."""
    x, w, _ = ctx.saved_tensors
    x_shape, pads, stride, dilation, groups, out, w_shape = ctx.meta
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    dx, dw = conv_grads(dy, x, w, x_shape, w_shape, tuple(lo for lo, _ in pads), stride, dilation, groups, out,
                        need_x, need_w)
    db = dy.sum((0,) + tuple(range(2, dy.ndim))) if need_b else None
    return dx, dw, db, None, None, None, None


def _depthwise(groups, C, O, kernel, stride) -> bool:
    return groups == C == O and math.prod(kernel) > 1 and all(s == 1 for s in stride)


def _check_conv_args(x: Any, w: Any, b: Any, groups: int, n: int, owner: str) -> None:
    if not isinstance(x, lamina.Tensor) or not isinstance(w, lamina.Tensor):
        raise TypeError(f"{owner}: expected input and weight to be Tensors, got {type(x).__name__} and "
                        f"{type(w).__name__}")
    if w.ndim != n + 2:
        raise ShapeError(f"{owner}: expected {n + 2}-D weight (out_channels, in_channels/groups, *kernel_size), got "
                         f"{w.ndim}-D weight of shape {tuple(w.shape)}")
    if groups < 1:
        raise ValueError(f"{owner}: expected groups to be a positive integer, got {groups}")
    if x.dtype != w.dtype or (b is not None and b.dtype != x.dtype):
        got = w.dtype if x.dtype != w.dtype else b.dtype
        raise DTypeError(f"{owner}: expected weight and bias of the input's dtype {x.dtype}, got {got}")
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(f"{owner}: expected input with {w.shape[1] * groups} channels (in_channels), got "
                         f"{x.shape[1]} (input shape {tuple(x.shape)}, weight shape {tuple(w.shape)}, groups={groups})")
    if w.shape[0] % groups:
        raise ShapeError(f"{owner}: expected weight.shape[0] ({w.shape[0]}) to be divisible by groups ({groups})")
    if b is not None and tuple(b.shape) != (w.shape[0],):
        raise ShapeError(f"{owner}: expected bias of shape ({w.shape[0]},) (out_channels), got {tuple(b.shape)}")


@autocast_op("lower_precision_fp")  # F.conv1d/2d/3d and the Conv layers come through here
def conv_nd(input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int, n: int,
            owner: str) -> Any:
    """Validate and run ``ConvNd``; accepts unbatched input (C, *S)."""
    unbatched = check_input_dim(input, n, owner)
    x = input.unsqueeze(0) if unbatched else input
    _check_conv_args(x, weight, bias, groups, n, owner)
    kernel = tuple(weight.shape[2:])
    stride = ntuple(stride, n, "stride", owner)
    dilation = ntuple(dilation, n, "dilation", owner)
    check_positive(stride, "stride", owner)
    check_positive(dilation, "dilation", owner)
    pads = conv_padding(padding, kernel, stride, dilation, owner)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < s for p, s in zip(padded, span)):
        raise ShapeError(f"{owner}: expected padded input size per channel {padded} to be at least the dilated "
                         f"kernel size {span}")
    y = ConvNd.apply(x, weight, bias, stride, pads, dilation, groups)
    return y.squeeze(0) if unbatched else y


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """1-D convolution. Shape: input (N, C_in, L) or (C_in, L); weight (C_out, C_in/groups, kL)."""
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, 1, "conv1d")


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """2-D convolution. Shape: input (N, C_in, H, W) or (C_in, H, W); weight (C_out, C_in/groups, kH, kW)."""
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, 2, "conv2d")


def conv3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1,
           groups: int = 1) -> Any:
    """3-D convolution. Shape: input (N, C_in, D, H, W) or (C_in, D, H, W); weight (C_out, C_in/groups, kD, kH, kW)."""
    return conv_nd(input, weight, bias, stride, padding, dilation, groups, 3, "conv3d")


class _ConvNd(Module):
    """Shared constructor, initialisation and repr of Conv*d and ConvTranspose*d.

    The constructor has PyTorch's private signature (``transposed`` and ``output_padding`` positional), so
    layers written on ``torch.nn.modules.conv._ConvNd`` construct the same way; the spatial rank is the
    class's ``_n``, or ``len(kernel_size)`` for such a subclass.
    """

    _n = 0

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, transposed: bool, output_padding: Any, groups: int, bias: bool, padding_mode: str,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        n = self._n or (len(kernel_size) if isinstance(kernel_size, (list, tuple)) else 1)
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups}")
        if in_channels % groups != 0:
            raise ValueError(f"{name}: in_channels must be divisible by groups, got in_channels={in_channels}, "
                             f"groups={groups}")
        if out_channels % groups != 0:
            raise ValueError(f"{name}: out_channels must be divisible by groups, got out_channels={out_channels}, "
                             f"groups={groups}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {PADDING_MODES}, but got "
                             f"padding_mode={padding_mode!r}")
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name)
        self.stride = ntuple(stride, n, "stride", name)
        self.dilation = ntuple(dilation, n, "dilation", name)
        check_positive(self.kernel_size, "kernel_size", name)
        check_positive(self.stride, "stride", name)
        check_positive(self.dilation, "dilation", name)
        if isinstance(padding, str):
            pairs = conv_padding(padding, self.kernel_size, self.stride, self.dilation, name)
            self.padding = padding
        else:
            self.padding = ntuple(padding, n, "padding", name)
            check_positive(self.padding, "padding", name, allow_zero=True)
            pairs = tuple((p, p) for p in self.padding)
        # F.pad order: last dim first, (left, right) per dim
        self._reversed_padding_repeated_twice = tuple(v for lo_hi in reversed(pairs) for v in lo_hi)
        self.output_padding = ntuple(output_padding, n, "output_padding", name)
        self.transposed = bool(transposed)
        self.padding_mode = padding_mode
        factory = {"device": device, "dtype": dtype}
        if self.transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(lamina.empty(*shape, **factory))
        if bias:
            self.bias = Parameter(lamina.empty(out_channels, **factory))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):  # modules pickled before padding_mode existed
            self.padding_mode = "zeros"

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)) == U(-1/sqrt(fan_in), 1/sqrt(fan_in)); fan_in = weight.size(1) * K
        fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        with lamina.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str) or self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, False, 0, groups, bias,
                         padding_mode, device, dtype)

    def _conv_forward(self, input: Any, weight: Any, bias: Any) -> Any:
        """This layer's convolution with another weight and bias (weight standardisation, ...): the
        padding_mode, stride, padding, dilation and groups are the layer's."""
        name = type(self).__name__
        if self.padding_mode != "zeros":
            from .padding import pad

            check_input_dim(input, self._n, name)
            input = pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            return conv_nd(input, weight, bias, self.stride, 0, self.dilation, self.groups, self._n, name)
        return conv_nd(input, weight, bias, self.stride, self.padding, self.dilation, self.groups, self._n, name)

    def forward(self, input: Any) -> Any:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_Conv):
    """1-D convolution over (N, C_in, L).

    Shape:
        input (N, C_in, L_in) or (C_in, L_in) -> output (N, C_out, L_out) or (C_out, L_out),
        L_out = floor((L_in + 2 * padding - dilation * (kernel_size - 1) - 1) / stride + 1)
    """

    _n = 1


class Conv2d(_Conv):
    """2-D convolution over (N, C_in, H, W).

    Shape:
        input (N, C_in, H_in, W_in) or (C_in, H_in, W_in) -> output (N, C_out, H_out, W_out) or (C_out, H_out, W_out),
        H_out = floor((H_in + 2 * padding[0] - dilation[0] * (kernel_size[0] - 1) - 1) / stride[0] + 1), W likewise
    """

    _n = 2


class Conv3d(_Conv):
    """3-D convolution over (N, C_in, D, H, W).

    Shape:
        input (N, C_in, D_in, H_in, W_in) or (C_in, D_in, H_in, W_in) -> output (N, C_out, D_out, H_out, W_out)
        or unbatched, each spatial size as for Conv1d with that dim's arguments
    """

    _n = 3
