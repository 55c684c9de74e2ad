"""Joining, splitting and rearranging copies: cat, stack, split, chunk, flip, roll, repeat.

Split results are views (slices); the others copy.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from typing import Any

from .._base.errors import ShapeError
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import normalize_dim, shape_arg


class Cat(Function):
    """Concatenate along ``axis``. xs: each (..., n_i, ...) -> (..., sum n_i, ...)"""

    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        ctx.sizes = [x.shape[axis] for x in xs]
        return ctx.xp.concatenate(xs, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        out = [None]
        start = 0
        for n in ctx.sizes:
            idx = (builtins.slice(None),) * ctx.axis + (builtins.slice(start, start + n),)
            out.append(dy[idx])
            start += n
        return tuple(out)


class Stack(Function):
    @staticmethod
    def forward(ctx, axis, *xs):
        ctx.axis = axis
        return ctx.xp.stack(xs, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        n = dy.shape[ctx.axis]
        pre = (builtins.slice(None),) * ctx.axis
        return (None,) + tuple(dy[pre + (i,)] for i in range(n))


class Flip(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return ctx.xp.flip(x, axes)

    @staticmethod
    def backward(ctx, dy):
        return ctx.xp.flip(dy, ctx.axes), None


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return ctx.xp.roll(x, shifts, axes)

    @staticmethod
    def backward(ctx, dy):
        neg = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        return ctx.xp.roll(dy, neg, ctx.axes), None, None


class Tile(Function):
    """PyTorch's ``repeat``: tile x by ``reps`` (len(reps) >= x.ndim)."""

    @staticmethod
    def forward(ctx, x, reps):
        lead = len(reps) - x.ndim
        ctx.shape = (1,) * lead + x.shape
        ctx.reps = reps
        ctx.in_shape = x.shape
        return ctx.xp.tile(x.reshape(ctx.shape), reps)

    @staticmethod
    def backward(ctx, dy):
        inter = []
        for r, s in zip(ctx.reps, ctx.shape):
            inter += [r, s]
        g = dy.reshape(tuple(inter)).sum(axis=tuple(range(0, len(inter), 2)))
        return g.reshape(ctx.in_shape), None


def _check_same(tensors, op: str):
    if len(tensors) == 0:
        raise RuntimeError(f"{op}: expected a non-empty list of Tensors")
    from ._util import promote_pair

    ts = list(tensors)
    first = ts[0]
    for i in range(1, len(ts)):
        if ts[i]._data.dtype != first._data.dtype:
            first, _ = promote_pair(first, ts[i])
    dt = first.dtype
    return [x if x.dtype is dt else x.to(dt) for x in ts]


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    ts = _check_same(tensors, "cat")
    ts = [x for x in ts if not (x.ndim == 1 and x.shape[0] == 0)] or ts[:1]  # legacy: skip empty 1-D
    ref = ts[0]
    axis = normalize_dim(dim, ref.ndim, "cat")
    for i, x in enumerate(ts):
        if x.ndim != ref.ndim or any(a != b for k, (a, b) in enumerate(zip(x.shape, ref.shape)) if k != axis):
            raise ShapeError(f"cat: expected all tensors to have shape {list(ref.shape)} except in dimension {axis}, "
                             f"got {list(x.shape)} for tensor {i}")
    return Cat.apply(axis, *ts)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    ts = _check_same(tensors, "stack")
    ref = ts[0]
    for i, x in enumerate(ts):
        if x.shape != ref.shape:
            raise ShapeError(f"stack: expected each tensor to be equal size, but got {list(ref.shape)} at entry 0 and "
                             f"{list(x.shape)} at entry {i}")
    n = ref.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"stack: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return Stack.apply(dim % n, *ts)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    return cat([x.reshape(1, -1) if x.ndim == 1 else x for x in tensors], 0)


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    axis = normalize_dim(dim, input.ndim, "narrow")
    idx = (builtins.slice(None),) * axis + (builtins.slice(start, start + length),)
    return input[idx]


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    axis = normalize_dim(dim, tensor.ndim, "split")
    n = tensor.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step <= 0 and n > 0:
            raise RuntimeError(f"split: split_size must be positive, got {step}")
        sizes = [builtins.min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != n:
            raise RuntimeError(f"split: split_with_sizes expects split_sizes to sum exactly to {n} "
                               f"(input tensor's size at dimension {axis}), but got split_sizes={sizes}")
    out, start = [], 0
    for s in sizes:
        out.append(narrow(tensor, axis, start, s))
        start += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError(f"chunk: number of chunks must be greater than 0, got {chunks}")
    n = input.shape[normalize_dim(dim, input.ndim, "chunk")]
    size = -(-n // chunks) if n else 1
    return split(input, builtins.max(size, 1), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    axis = normalize_dim(dim, input.ndim, "unbind")
    return tuple(input[(builtins.slice(None),) * axis + (i,)] for i in range(input.shape[axis]))


def select(input: Tensor, dim: int, index: int) -> Tensor:
    axis = normalize_dim(dim, input.ndim, "select")
    return input[(builtins.slice(None),) * axis + (index,)]


def flip(input: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    return Flip.apply(input, tuple(normalize_dim(d, input.ndim, "flip") for d in dims))


def fliplr(input: Tensor) -> Tensor:
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    return flip(input, (0,))


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    if dims is None:
        flat = Roll.apply(input.reshape(-1), shifts if isinstance(shifts, int) else tuple(shifts)[0], 0)
        return flat.reshape(input.shape)
    shifts_t = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims_t = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts_t) != len(dims_t):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts_t)}, dims: {len(dims_t)}")
    return Roll.apply(input, shifts_t, tuple(normalize_dim(d, input.ndim, "roll") for d in dims_t))


def repeat(input: Tensor, *sizes) -> Tensor:
    reps = shape_arg(sizes)
    if len(reps) < input.ndim:
        raise RuntimeError("repeat: Number of dimensions of repeat dims can not be smaller than number of dimensions "
                           f"of tensor ({len(reps)} < {input.ndim})")
    return Tile.apply(input, reps)


def tile(input: Tensor, dims) -> Tensor:
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input: Tensor, repeats, dim: int | None = None) -> Tensor:
    from .indexing import index_select

    if dim is None:
        input, dim = input.reshape(-1), 0
    axis = normalize_dim(dim, input.ndim, "repeat_interleave")
    xp = input.device.backend.xp
    reps = repeats._data if isinstance(repeats, Tensor) else repeats
    idx = xp.repeat(xp.arange(input.shape[axis]), reps)
    return index_select(input, axis, Tensor._make(idx, input.device))


class CombineMethods:
    """Splitting, joining, flipping and tiling as ``Tensor`` methods."""

    __slots__ = ()
    repeat = repeat
    tile = tile
    repeat_interleave = repeat_interleave
    split = split
    chunk = chunk
    unbind = unbind
    narrow = narrow
    select = select
    fliplr = fliplr
    flipud = flipud
    roll = roll

    def flip(self: Tensor, *dims: Any) -> Tensor:
        return flip(self, dims[0] if len(dims) == 1 else dims)

    def __iter__(self: Tensor) -> Iterator[Tensor]:
        if not self.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return iter(unbind(self, 0))
