"""MaxUnpool1d/3d and F.max_unpool1d/3d: scatter pooled values back with ``pool.MaxUnpool``."""

from __future__ import annotations

from typing import Any

from lamina.errors import ShapeError
from lamina.nn import Module

from . import __lamina_plugin_api__  # noqa: F401
from ._conv_utils import check_input_dim, ntuple
from .pool import MaxUnpool


def _unpool_size(sizes: tuple, kernel: tuple, stride: tuple, pad: tuple, output_size: Any) -> tuple[int, ...]:
    """Spatial output size: (S - 1) * stride - 2 * pad + kernel, or ``output_size`` within one stride of it."""
    n = len(kernel)
    default = [(s - 1) * st + k - 2 * p for s, st, k, p in zip(sizes, stride, kernel, pad)]
    if output_size is None:
        out = default
    else:
        out = [int(v) for v in output_size]
        if len(out) == n + 2:
            out = out[2:]
        if len(out) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a "
                             f"length of '{len(out)}'")
        for d in range(n):
            lo, hi = default[d] - stride[d], default[d] + stride[d]
            if not lo < out[d] < hi:
                raise ValueError(f'invalid output_size "{out}" (dim {d} must be between {lo} and {hi})')
    return tuple(out)


def _max_unpool(input: Any, indices: Any, n: int, kernel_size: Any, stride: Any, padding: Any, output_size: Any,
                owner: str) -> Any:
    unbatched = check_input_dim(input, n, owner)
    kernel = ntuple(kernel_size, n, "kernel_size", owner)
    stride = kernel if stride is None else ntuple(stride, n, "stride", owner)
    pad = ntuple(padding, n, "padding", owner)
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched and indices.ndim == n + 1 else indices
    if tuple(idx.shape) != tuple(x.shape):
        raise ShapeError(f"{owner}: expected indices of the input's shape {tuple(input.shape)}, got "
                         f"{tuple(indices.shape)}")
    out = _unpool_size(tuple(x.shape[2:]), kernel, stride, pad, output_size)
    P = 1
    for o in out:
        P *= o
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= P):
        raise ValueError(f"{owner}: expected indices in [0, {P}) for output size {out}, got values in "
                         f"[{int(idx.min())}, {int(idx.max())}]")
    y = MaxUnpool.apply(x, idx.array, out)
    return y.squeeze(0) if unbatched else y


def max_unpool1d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Any:
    """Partial inverse of max_pool1d. Shape: (N, C, L_in) or (C, L_in) -> (N, C, L_out),
    L_out = (L_in - 1) * stride - 2 * padding + kernel_size unless output_size is given."""
    return _max_unpool(input, indices, 1, kernel_size, stride, padding, output_size, "max_unpool1d")


def max_unpool3d(input: Any, indices: Any, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Any:
    """Partial inverse of max_pool3d. Shape: (N, C, D_in, H_in, W_in) or unbatched -> (N, C, D_out, H_out, W_out)."""
    return _max_unpool(input, indices, 3, kernel_size, stride, padding, output_size, "max_unpool3d")


class _MaxUnpoolNd(Module):
    _n = 0

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        name = type(self).__name__
        self.kernel_size = ntuple(kernel_size, self._n, "kernel_size", name)
        self.stride = ntuple(stride if stride is not None else kernel_size, self._n, "stride", name)
        self.padding = ntuple(padding, self._n, "padding", name)

    def forward(self, input: Any, indices: Any, output_size: Any = None) -> Any:
        return _max_unpool(input, indices, self._n, self.kernel_size, self.stride, self.padding, output_size,
                           type(self).__name__)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """Partial inverse of MaxPool1d: non-maximal positions are zero.

    Shape: (N, C, L_in) and indices of that shape -> (N, C, L_out), L_out = (L_in - 1) * stride - 2 * padding
        + kernel_size (or output_size)
    """

    _n = 1


class MaxUnpool3d(_MaxUnpoolNd):
    """Partial inverse of MaxPool3d: non-maximal positions are zero.

    Shape: (N, C, D_in, H_in, W_in) and indices of that shape -> (N, C, D_out, H_out, W_out), each as MaxUnpool1d
    """

    _n = 3
