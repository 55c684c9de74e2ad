"""Fractional max pooling (Graham, 2014): FractionalMaxPool2d/3d and F.fractional_max_pool2d/3d (+ _with_indices).

Each (batch, channel) plane draws one sample u in [0, 1) per spatial dim (``_random_samples``, by default
``lamina.rand`` from the default generator, so ``lamina.manual_seed`` fixes it). Along a dim of size S with
output O and window k the windows start at floor((i + u) * a) - floor(u * a), a = (S - k) / (O - 1), for i < O - 1,
and the last at S - k; computed in the input's dtype, as PyTorch does, so float32 gives PyTorch's windows.
Per window the first maximum wins (a NaN wins over numbers). The output gathers the input at those flat
indices, so the gradient flows to the chosen elements.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina.nn import Module

from . import __lamina_plugin_api__  # noqa: F401
from ._conv_utils import ntuple

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _starts(xp: Any, u: Any, size: int, out: int, k: int) -> Any:
    """u: (P,) samples in the input dtype -> (P, out) window starts along one dim."""
    starts = xp.full(u.shape + (out,), size - k, dtype=xp.int64)
    if out > 1:
        alpha = (xp.asarray(size - k, dtype=u.dtype) / xp.asarray(out - 1, dtype=u.dtype)).astype(u.dtype)
        i = xp.arange(out - 1, dtype=u.dtype)
        first = ((i[None, :] + u[:, None]) * alpha).astype(xp.int64)  # truncation, as the C++ cast
        starts[:, :out - 1] = first - (u * alpha).astype(xp.int64)[:, None]
    return starts


def _fractional(input: Any, n: int, kernel_size: Any, output_size: Any, output_ratio: Any, samples: Any,
                owner: str) -> tuple:
    if output_size is None and output_ratio is None:
        raise ValueError(f"{owner} requires specifying either an output_size or an output_ratio")
    if input.ndim not in (n + 1, n + 2):
        raise IndexError(f"{owner}: expected {n + 1}D (unbatched) or {n + 2}D (batched) input, got {input.ndim}D "
                         f"input of shape {tuple(input.shape)}")
    kernel = ntuple(kernel_size, n, "kernel_size", owner)
    sizes = tuple(int(s) for s in input.shape[-n:])
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * n
        if len(ratio) != n:
            raise ValueError(f"{owner}: expected output_ratio of {n} values, got {output_ratio}")
        output_size = tuple(int(s * r) for s, r in zip(sizes, ratio))
    out = ntuple(output_size, n, "output_size", owner)
    for name, s, o, k in zip(_DIM_NAMES[n], sizes, out, kernel):
        if o + k - 1 > s:
            raise RuntimeError(f"{owner}(): pool {name} {k} too large relative to input {name} {s}")
    unbatched = input.ndim == n + 1
    x = input.unsqueeze(0) if unbatched else input
    N, C = int(x.shape[0]), int(x.shape[1])
    if samples is None:
        samples = lamina.rand(N, C, n, dtype=x.dtype, device=x.device)
    if samples.ndim != 3 or int(samples.shape[0]) != N:
        raise RuntimeError(f"Expect _random_samples to have the shape ({N}, {C}, {n}), got {tuple(samples.shape)}")
    if int(samples.shape[1]) != C:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if int(samples.shape[2]) != n:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {n}, got {int(samples.shape[2])}")
    xp = x.device.backend.xp
    u = samples.detach().to(dtype=x.dtype).array.reshape(N * C, n)
    # PyTorch's sample order: 2-d (W, H), 3-d (T, H, W)
    order = (1, 0) if n == 2 else (0, 1, 2)
    starts = [_starts(xp, u[:, order[d]], sizes[d], out[d], kernel[d]) for d in range(n)]   # each (P, O_d)
    # flat input index of every window element: (P, O_1, ..., O_n, k_1, ..., k_n)
    P = N * C
    flat = xp.zeros((P,) + out + kernel, dtype=xp.int64)
    for d in range(n):
        stride = 1
        for s in sizes[d + 1:]:
            stride *= s
        shape = [P] + [1] * (2 * n)
        shape[1 + d] = out[d]
        pos = starts[d].reshape(shape)
        kshape = [1] * (1 + 2 * n)
        kshape[1 + n + d] = kernel[d]
        flat = flat + (pos + xp.arange(kernel[d]).reshape(kshape)) * stride
    K = 1
    for k in kernel:
        K *= k
    O = 1
    for o in out:
        O *= o
    flat = flat.reshape(P, O, K)
    L = 1
    for s in sizes:
        L *= s
    vals = xp.take_along_axis(x.array.reshape(P, 1, L), flat, axis=2)   # (P, O, K); explicit sizes: P may be 0
    nan = xp.isnan(vals)
    pick = xp.argmax(vals, axis=2)
    last_nan = K - 1 - xp.argmax(nan[:, :, ::-1], axis=2)
    pick = xp.where(nan.any(axis=2), last_nan, pick)
    idx = xp.take_along_axis(flat, pick[..., None], axis=2)[..., 0]            # (P, O)
    indices = lamina.tensor(idx.reshape((N, C) + out), device=x.device)
    # a gather by flat positions over the whole input (differentiable to any order, unlike Tensor.gather's)
    rows = xp.arange(P).reshape(P, 1) * L
    y = x.reshape(-1)[lamina.tensor((idx + rows).reshape(-1), device=x.device)].reshape((N, C) + out)
    if unbatched:
        y, indices = y.squeeze(0), indices.squeeze(0)
    return y, indices


def fractional_max_pool2d_with_indices(input: Any, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> Any:
    """(output, indices). Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out) twice."""
    return _fractional(input, 2, kernel_size, output_size, output_ratio, _random_samples, "fractional_max_pool2d")


def fractional_max_pool2d(input: Any, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out); indices flat over H_in * W_in."""
    y, idx = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio, True, _random_samples)
    return (y, idx) if return_indices else y


def fractional_max_pool3d_with_indices(input: Any, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = False,
                                       _random_samples: Any = None) -> Any:
    """(output, indices). Shape: (N, C, T_in, H_in, W_in) or unbatched -> (N, C, T_out, H_out, W_out) twice."""
    return _fractional(input, 3, kernel_size, output_size, output_ratio, _random_samples, "fractional_max_pool3d")


def fractional_max_pool3d(input: Any, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Any = None) -> Any:
    """Shape: (N, C, T_in, H_in, W_in) or unbatched -> (N, C, T_out, H_out, W_out); indices flat per plane."""
    y, idx = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio, True, _random_samples)
    return (y, idx) if return_indices else y


class _FractionalMaxPoolNd(Module):
    _n = 0
    _fn = None

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Any = None) -> None:
        super().__init__()
        name, n = type(self).__name__, self._n
        self.kernel_size = ntuple(kernel_size, n, "kernel_size", name)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = ntuple(output_size, n, "output_size", name) if output_size is not None else None
        self.output_ratio = (tuple(output_ratio) if isinstance(output_ratio, (list, tuple)) else (output_ratio,) * n) \
            if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Any) -> Any:
        return type(self)._fn(input, self.kernel_size, self.output_size, self.output_ratio, self.return_indices,
                              _random_samples=self._random_samples)


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """Max over pseudo-random overlapping windows of kernel_size that give output_size (or input * output_ratio).

    Shape: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out)
    """

    _n = 2
    _fn = staticmethod(fractional_max_pool2d)


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-D fractional max pooling.

    Shape: (N, C, T_in, H_in, W_in) or (C, T_in, H_in, W_in) -> (N, C, T_out, H_out, W_out)
    """

    _n = 3
    _fn = staticmethod(fractional_max_pool3d)
