"""ConvTranspose1d/2d/3d: the adjoint of convolution as one fused Function (GEMM + col2im), N-d once."""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.amp import autocast_op
from lamina.errors import DTypeError, ShapeError

from ._conv_utils import check_input_dim, check_positive, ntuple
from ._graph_grads import conv_transpose_grads
from ._im2col import crop_array, from_gemm, gemm_col2im, gemm_cols, pad_array, to_gemm
from ._low_precision import Float32Function
from .conv import _ConvNd

__lamina_plugin_api__ = "1.0"


class ConvTransposeNd(Float32Function):
    """x (N, C_in, *S), w (C_in, C_out/G, *k), b (C_out,) -> y (N, C_out, *out),
    out = (S - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1."""

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, dilation, groups):
        xp = ctx.xp
        N = x.shape[0]
        kernel = w.shape[2:]
        sizes = x.shape[2:]
        full = tuple((s - 1) * st + d * (k - 1) + 1 + op
                     for s, st, d, k, op in zip(sizes, stride, dilation, kernel, output_padding))
        cout = w.shape[1] * groups
        xg = to_gemm(x, groups)                                             # (G, C_in/G, N*L)
        wm = w.reshape(groups, w.shape[0] // groups, -1)                    # (G, C_in/G, C_out/G*K)
        dcols = (wm.swapaxes(-1, -2) @ xg).astype(x.dtype, copy=False)      # (G, C_out/G*K, N*L) (bf16: f32 GEMM)
        y = gemm_col2im(xp, dcols, (N, cout) + full, kernel, stride, dilation, sizes)
        pairs = tuple((p, p) for p in padding)
        y = crop_array(y, pairs)
        if b is not None:
            y = y + b.reshape((-1,) + (1,) * len(kernel))
        else:
            y = xp.ascontiguousarray(y)
        need_x, need_w = ctx.needs_input_grad[:2]
        ctx.save_for_backward(xg if need_w else None, w if need_x else None, x if need_w else None)
        ctx.meta = (x.shape, w.shape, pairs, full, stride, dilation, groups)
        return y

    @staticmethod
    def backward(ctx, dy):                                                  # dy: (N, C_out, *out)
        xp = ctx.xp
        xg, w, x = ctx.saved_tensors
        x_shape, w_shape, pairs, full, stride, dilation, groups = ctx.meta
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if isinstance(dy, Tensor):  # create_graph: differentiable ops instead of the GEMM + col2im arrays
            dx, dw = conv_transpose_grads(dy, x, w, x_shape, w_shape, tuple(lo for lo, _ in pairs), stride, dilation,
                                          groups, need_x, need_w)
            db = dy.sum((0,) + tuple(range(2, dy.ndim))) if need_b else None
            return dx, dw, db, None, None, None, None, None
        kernel, sizes = w_shape[2:], x_shape[2:]
        dypad = pad_array(xp, dy, pairs)                                    # (N, C_out, *full)
        cols = gemm_cols(xp, dypad, groups, kernel, stride, dilation, sizes)  # (G, C_out/G*K, N*L)
        dx = dw = db = None
        if need_x:
            wm = w.reshape(groups, w_shape[0] // groups, -1)
            dx = from_gemm(xp, wm @ cols, x_shape[0], sizes)                # (N, C_in, *S)
        if need_w:
            dw = (xg @ cols.swapaxes(-1, -2)).reshape(w_shape)             # (C_in, C_out/G, *k)
        if need_b:
            db = dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))
        return dx, dw, db, None, None, None, None, None


@autocast_op("lower_precision_fp")  # F.conv_transpose*d and the layers come through here
def conv_transpose_nd(input: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any,
                      groups: int, dilation: Any, n: int, owner: str) -> Any:
    unbatched = check_input_dim(input, n, owner)
    x = input.unsqueeze(0) if unbatched else input
    if weight.ndim != n + 2:
        raise ShapeError(f"{owner}: expected {n + 2}-D weight (in_channels, out_channels/groups, *kernel_size), "
                         f"got {weight.ndim}-D weight of shape {tuple(weight.shape)}")
    if groups < 1:
        raise ValueError(f"{owner}: expected groups to be a positive integer, got {groups}")
    if x.shape[1] != weight.shape[0]:
        raise ShapeError(f"{owner}: expected input with {weight.shape[0]} channels (in_channels), got {x.shape[1]} "
                         f"(input shape {tuple(input.shape)}, weight shape {tuple(weight.shape)})")
    if weight.shape[0] % groups:
        raise ShapeError(f"{owner}: expected weight.shape[0] ({weight.shape[0]}) to be divisible by groups ({groups})")
    if bias is not None and tuple(bias.shape) != (weight.shape[1] * groups,):
        raise ShapeError(f"{owner}: expected bias of shape ({weight.shape[1] * groups},) (out_channels), got "
                         f"{tuple(bias.shape)}")
    kernel = tuple(weight.shape[2:])
    stride = ntuple(stride, n, "stride", owner)
    dilation = ntuple(dilation, n, "dilation", owner)
    padding = ntuple(padding, n, "padding", owner)
    check_positive(stride, "stride", owner)
    check_positive(dilation, "dilation", owner)
    check_positive(padding, "padding", owner, allow_zero=True)
    output_padding = ntuple(output_padding, n, "output_padding", owner)
    for op, st, d in zip(output_padding, stride, dilation):
        if not (op < st or op < d):
            raise ValueError(f"{owner}: output padding must be smaller than either stride or dilation, got "
                             f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    out = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1
                for s, st, p, d, k, op in zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out):
        raise ShapeError(f"{owner}: expected a positive output size, got {out} for input size "
                         f"{tuple(x.shape[2:])} (padding={padding})")
    if x.dtype != weight.dtype or (bias is not None and bias.dtype != x.dtype):
        raise DTypeError(f"{owner}: expected weight and bias of the input's dtype {x.dtype}, got "
                         f"{weight.dtype if x.dtype != weight.dtype else bias.dtype}")
    y = ConvTransposeNd.apply(x, weight, bias, stride, padding, output_padding, dilation, groups)
    return y.squeeze(0) if unbatched else y


def conv_transpose1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """Shape: input (N, C_in, L_in), weight (C_in, C_out/groups, kL) -> (N, C_out, L_out)."""
    return conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                             "conv_transpose1d")


def conv_transpose2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """Shape: input (N, C_in, H_in, W_in), weight (C_in, C_out/groups, kH, kW) -> (N, C_out, H_out, W_out)."""
    return conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                             "conv_transpose2d")


def conv_transpose3d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0,
                     output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Any:
    """Shape: input (N, C_in, D_in, H_in, W_in), weight (C_in, C_out/groups, kD, kH, kW) -> (N, C_out, *out)."""
    return conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                             "conv_transpose3d")


class _ConvTransposeNd(_ConvNd):
    """Base of ConvTranspose*d, with PyTorch's private constructor signature and ``_output_padding``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any, padding: Any,
                 dilation: Any, transposed: bool, output_padding: Any, groups: int, bias: bool, padding_mode: str,
                 device: Any = None, dtype: Any = None) -> None:
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f'{name}: only "zeros" padding mode is supported, got padding_mode={padding_mode!r}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, transposed,
                         output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input: Any, output_size: Any, stride: Any, padding: Any, kernel_size: Any,
                        num_spatial_dims: int, dilation: Any = None) -> Any:
        """The output_padding that makes the output ``output_size`` (spatial sizes, or with the batch and
        channel dims in front); the layer's own ``output_padding`` when it is None. A missing dilation is 1."""
        if output_size is None:
            return tuple(self.output_padding)
        n = num_spatial_dims
        lead = 2 if input.ndim == n + 2 else 1
        if len(output_size) == lead + n:
            output_size = output_size[lead:]
        if len(output_size) != n:
            raise ValueError(f"ConvTranspose{n}D: for {input.ndim}D input, output_size must have {n} or {lead + n} "
                             f"elements (got {len(output_size)})")
        lo = [(input.shape[lead + d] - 1) * stride[d] - 2 * padding[d]
              + (1 if dilation is None else dilation[d]) * (kernel_size[d] - 1) + 1 for d in range(n)]
        hi = [lo[d] + stride[d] - 1 for d in range(n)]
        for d in range(n):
            if not lo[d] <= output_size[d] <= hi[d]:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {lo} to "
                                 f"{hi} (for an input of {input.shape[2:]})")
        return [int(output_size[d]) - lo[d] for d in range(n)]


class _ConvTranspose(_ConvTransposeNd):
    """ConvTranspose*d's public constructor and forward."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of ints, got {padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, True, output_padding,
                         groups, bias, padding_mode, device, dtype)

    def forward(self, input: Any, output_size: Any = None) -> Any:
        name = type(self).__name__
        if self.padding_mode != "zeros":
            raise ValueError(f"Only `zeros` padding mode is supported for {name}")
        if output_size is not None:
            check_input_dim(input, self._n, name)
        output_padding = self._output_padding(input, output_size, self.stride, self.padding, self.kernel_size,
                                              self._n, self.dilation)
        return conv_transpose_nd(input, self.weight, self.bias, self.stride, self.padding, output_padding,
                                 self.groups, self.dilation, self._n, name)


class ConvTranspose1d(_ConvTranspose):
    """Transposed 1-D convolution (the gradient of Conv1d wrt its input).

    Shape: (N, C_in, L_in) or (C_in, L_in) -> (N, C_out, L_out),
        L_out = (L_in - 1) * stride - 2 * padding + dilation * (kernel_size - 1) + output_padding + 1
    """

    _n = 1


class ConvTranspose2d(_ConvTranspose):
    """Transposed 2-D convolution (the gradient of Conv2d wrt its input).

    Shape: (N, C_in, H_in, W_in) or (C_in, H_in, W_in) -> (N, C_out, H_out, W_out), each size as for ConvTranspose1d
    """

    _n = 2


class ConvTranspose3d(_ConvTranspose):
    """Transposed 3-D convolution (the gradient of Conv3d wrt its input).

    Shape: (N, C_in, D_in, H_in, W_in) or unbatched -> (N, C_out, D_out, H_out, W_out), sizes as for ConvTranspose1d
    """

    _n = 3
