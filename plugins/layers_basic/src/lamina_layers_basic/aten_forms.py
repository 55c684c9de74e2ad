"""The top-level ``lamina.<op>`` forms of this plugin's functions, with torch's ``torch.<op>`` signatures.

torch exposes its ATen ops at the top level (``torch.conv2d``, ``torch.dropout(input, p, train)``,
``torch.embedding(weight, indices)``); their argument order and defaults differ from ``F.*`` in places,
so each form here maps torch's call onto this plugin's ``F`` function. Served through the entry-point
group ``lamina.functions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lamina
import numpy as np
from lamina import Tensor

from . import (
    __lamina_plugin_api__,  # noqa: F401
    adaptive_pool,
    conv,
    conv_transpose,
    distance,
    linear,
    padding,
    pool,
    reshaping,
)
from . import dropout as _drop
from . import embedding as _emb

conv1d = conv.conv1d
conv2d = conv.conv2d
conv3d = conv.conv3d
conv_transpose1d = conv_transpose.conv_transpose1d
conv_transpose2d = conv_transpose.conv_transpose2d
conv_transpose3d = conv_transpose.conv_transpose3d
adaptive_avg_pool1d = adaptive_pool.adaptive_avg_pool1d
bilinear = linear.bilinear
cosine_similarity = distance.cosine_similarity
pairwise_distance = distance.pairwise_distance
pixel_shuffle = reshaping.pixel_shuffle
pixel_unshuffle = reshaping.pixel_unshuffle
channel_shuffle = reshaping.channel_shuffle


def _stride(stride: Any) -> Any:
    return None if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else stride


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple[Tensor, Tensor]:
    """torch.adaptive_max_pool1d: (output, indices). Shape: (N, C, L) -> (N, C, output_size) twice"""
    return adaptive_pool.adaptive_max_pool1d(input, output_size, return_indices=True)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    return pool.avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return pool.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
                            ceil_mode: bool = False) -> tuple[Tensor, Tensor]:
    return pool.max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode, return_indices=True)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return pool.max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    return pool.max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def constant_pad_nd(input: Tensor, pad: Sequence[int], value: float = 0) -> Tensor:
    """Pad the last len(pad) // 2 dims with ``value`` (negative pads crop). Shape: (*) -> (*')"""
    return padding.pad(input, list(pad), "constant", value)


def convolution(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Sequence[int], padding: Sequence[int],
                dilation: Sequence[int], transposed: bool, output_padding: Sequence[int], groups: int) -> Tensor:
    """torch.convolution: the N-d (transposed) convolution picked by the input's spatial dims."""
    n = input.ndim - 2
    if n not in (1, 2, 3):
        raise lamina.ShapeError(f"convolution: expected a 3-D, 4-D or 5-D input (N, C, *spatial), got {input.ndim}-D "
                                f"input of shape {list(input.shape)}")
    if transposed:
        fn = (conv_transpose1d, conv_transpose2d, conv_transpose3d)[n - 1]
        return fn(input, weight, bias, stride, padding, output_padding, groups, dilation)
    return (conv1d, conv2d, conv3d)[n - 1](input, weight, bias, stride, padding, dilation, groups)


def conv_tbc(input: Tensor, weight: Tensor, bias: Tensor, pad: int = 0) -> Tensor:
    """Time-batch-channel 1-D convolution.

    Shape: input (T, N, C_in), weight (K, C_in, C_out), bias (C_out,) -> (T', N, C_out)
    """
    if input.ndim != 3 or weight.ndim != 3:
        raise lamina.ShapeError(f"conv_tbc: expected input (T, N, C_in) and weight (K, C_in, C_out), got input "
                                f"{list(input.shape)} and weight {list(weight.shape)}")
    y = conv1d(input.permute(1, 2, 0), weight.permute(2, 1, 0), bias, 1, pad)
    return y.permute(2, 0, 1)


def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.dropout(input, p, train)


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.dropout(input, p, train, inplace=True)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.alpha_dropout(input, p, train)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _drop.alpha_dropout(input, p, train, inplace=True)


def _feature(input: Tensor, p: float, train: bool, inplace: bool, alpha: bool) -> Tensor:
    if input.ndim < 2:
        raise lamina.ShapeError(f"feature_{'alpha_' if alpha else ''}dropout: expected an input with at least 2 "
                                f"dimensions (N, C, *), got {input.ndim}-D input of shape {list(input.shape)}")
    shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    return _drop._dropout(input, p, train, inplace, shape, alpha)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Zero whole channels (dims 0 and 1 index a channel) with probability p. Shape: (N, C, *) -> same"""
    return _feature(input, p, train, False, False)


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _feature(input, p, train, True, False)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Alpha dropout of whole channels. Shape: (N, C, *) -> same"""
    return _feature(input, p, train, False, True)


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    return _feature(input, p, train, True, True)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """torch.embedding: the rows of ``weight`` at ``indices`` (note the order). Shape: (V, D), (*) -> (*, D)"""
    return _emb.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


_BAG_MODES = ("sum", "mean", "max")


def embedding_bag(weight: Tensor, indices: Tensor, offsets: Tensor, scale_grad_by_freq: bool = False, mode: int = 0,
                  sparse: bool = False, per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """torch.embedding_bag: ``(output, offset2bag, bag_size, max_indices)``; ``mode`` 0 sum, 1 mean, 2 max.

    ``output`` is ``F.embedding_bag``'s. The others are what torch's CPU kernel returns for its backward:
    offset2bag (N,) the bag of each index (empty for a float32 sum without padding_idx), bag_size (B,) the
    non-padding count of each bag (zeros for sum), max_indices (B, D) the row picked per bag and feature for max
    (bag_size for mean, zeros for sum), as torch 2.13's CPU kernel.

    Shape: weight (V, D), indices (N,), offsets (B,) or (B + 1,) with include_last_offset -> (B, D), ...
    """
    if mode not in (0, 1, 2):
        raise RuntimeError("`mode` must be sum, mean, or max.")
    if offsets.ndim != 1:
        raise RuntimeError(f"offsets has to be a 1D Tensor, but got Tensor of dimension {offsets.ndim}")
    for what, t in (("#1 'indices'", indices), ("#2 'offsets'", offsets)):
        if t.dtype not in (lamina.int64, lamina.int32):
            raise RuntimeError(f"Expected tensor for argument {what} to have one of the following scalar types: "
                               f"Long, Int; but got {t.type()} instead (while checking arguments for embedding_bag)")
    flat = indices.reshape(-1)
    out = _emb.embedding_bag(flat, weight, offsets, None, 2, scale_grad_by_freq, _BAG_MODES[mode], sparse,
                             per_sample_weights, include_last_offset, padding_idx)
    idx, off = flat.cpu().numpy(), offsets.cpu().numpy()
    bags = len(off) - 1 if include_last_offset else len(off)
    bag_of = np.searchsorted(off[:bags], np.arange(len(idx)), side="right") - 1
    pad = None if padding_idx is None else padding_idx % weight.shape[0]
    keep = np.ones(len(idx), bool) if pad is None else idx != pad
    size = np.bincount(bag_of[keep], minlength=bags)
    if mode == 0:  # torch's float32 fast path skips offset2bag; its zeros have B + 1 rows unless grad is needed
        offset2bag = np.zeros(0, np.int64) if pad is None and weight.dtype == lamina.float32 else bag_of
        graph = lamina.is_grad_enabled() and weight.requires_grad
        size = maxi = np.zeros(len(off) if include_last_offset and not graph else bags, np.int64)
    elif mode == 1:
        offset2bag, maxi = bag_of, size
    else:
        offset2bag, w = bag_of, weight.detach().cpu().numpy()
        maxi = np.zeros((bags, weight.shape[1]), np.int64)
        for b in range(bags):
            rows = idx[keep & (bag_of == b)]
            if len(rows):
                maxi[b] = rows[np.argmax(w[rows], axis=0)]

    def aux(a: np.ndarray) -> Tensor:
        return lamina.tensor(np.asarray(a), dtype=offsets.dtype, device=weight.device)

    return out, aux(offset2bag), aux(size), aux(maxi)


def embedding_renorm_(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> Tensor:
    """Rescale, in place, the rows of ``weight`` at ``indices`` whose norm exceeds ``max_norm``."""
    with lamina.no_grad():
        _emb._renorm_(weight, indices, max_norm, norm_type)
    return weight


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """p-norm distances between all pairs of rows i < j. Shape: (N, M) -> (N * (N - 1) / 2,)"""
    if input.ndim != 2:
        raise lamina.ShapeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if p < 0:
        raise RuntimeError(f"pdist only supports non-negative p values, got {p}")
    rows, cols = np.triu_indices(int(input.shape[0]), 1)  # host indices of the pairs i < j, row-major
    i = lamina.tensor(rows, dtype=lamina.int64, device=input.device)
    j = lamina.tensor(cols, dtype=lamina.int64, device=input.device)
    return distance.PNormFn.apply(input[i] - input[j], float(p), 1, False)
