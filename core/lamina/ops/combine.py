"""Joining, splitting and rearranging copies: cat, stack, split, chunk, flip, roll, repeat.

Split results are views (slices); the others copy.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Sequence
from typing import Any

from .._base.errors import ShapeError
from .._tensor import Tensor
from ..autograd import function as _function
from ..autograd.autocast_state import autocast_op
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


@autocast_op("promote")
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


@autocast_op("promote")
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
    n = input.shape[axis]
    if isinstance(start, Tensor):
        start = int(start.item())
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    start = start + n if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
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
    if _function._observers or len(sizes) < 2:  # tracers and exporters see the slices they know
        out, start = [], 0
        for s in sizes:
            out.append(narrow(tensor, axis, start, s))
            start += s
        return tuple(out)
    out = Split.apply(tensor, axis, tuple(sizes))
    for t in out:  # views sharing the version counter, as slices
        t._vc, t._base = tensor._vc, tensor if tensor._base is None else tensor._base
    return out


class Split(Function):
    """Slices of x along ``axis`` (views). x (..., sum s_i, ...) -> pieces (..., s_i, ...)

    One node for all the pieces: the backward writes their gradients (zeros where none came) into one
    array, where slicing each piece separately would make, and then add up, a zero-padded array per piece.
    """

    @staticmethod
    def forward(ctx, x, axis, sizes):
        ctx.axis, ctx.sizes, ctx.shape = axis, sizes, x.shape
        out, start, lead = [], 0, (builtins.slice(None),) * axis
        for n in sizes:
            out.append(x[lead + (builtins.slice(start, start + n),)])
            start += n
        return tuple(out)

    @staticmethod
    def backward(ctx, *gs):
        given = [g for g in gs if g is not None]
        if not given:
            return None, None, None
        if any(isinstance(g, Tensor) for g in given):  # create_graph: a differentiable concatenation
            from .creation import zeros

            parts = [g if g is not None else zeros(*m[0], dtype=given[0].dtype, device=given[0].device)
                     for g, m in zip(gs, ctx._out_meta)]
            return cat(parts, ctx.axis), None, None
        dx = ctx.xp.empty(ctx.shape, dtype=given[0].dtype)
        start, lead = 0, (builtins.slice(None),) * ctx.axis
        for g, n in zip(gs, ctx.sizes):
            dx[lead + (builtins.slice(start, start + n),)] = 0 if g is None else g
            start += n
        return dx, None, None


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


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """0-/1-D tensors as columns, joined with the 2-D ones along dim 1."""
    return cat([t.reshape(-1, 1) if t.ndim < 2 else t for t in tensors], 1)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along the third dim after ``atleast_3d``."""
    from .shape import atleast_3d

    return cat([atleast_3d(t) for t in tensors], 2)


def split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    return split(input, list(split_sizes), dim)


def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    """Views split at ``indices`` (a list), or into ``sections`` parts whose sizes differ by at most one."""
    axis = normalize_dim(dim, input.ndim, "tensor_split")
    n = input.shape[axis]
    ios = indices_or_sections
    if isinstance(ios, Tensor):
        if ios._data.dtype.kind not in "iu" or ios.ndim > 1:
            raise RuntimeError("tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                               f"one-dimensional tensor, but got a tensor with {ios.ndim} dims")
        ios = ios.item() if ios.ndim == 0 else ios.tolist()
    if isinstance(ios, int):
        if ios <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {ios}")
        q, r = divmod(n, ios)
        bounds = [i * q + builtins.min(i, r) for i in range(ios + 1)]
    else:
        bounds = [0] + [builtins.min(builtins.max(int(i) if i >= 0 else int(i) + n, 0), n) for i in ios] + [n]
    return tuple(narrow(input, axis, a, builtins.max(b, a) - a) for a, b in zip(bounds, bounds[1:]))


def _dir_split(name: str, min_dim: int, axis: int, input: Tensor, sections: Any) -> tuple:
    if input.ndim < min_dim:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dim} dimension, but got a tensor with "
                           f"{input.ndim} dimensions!")
    if isinstance(sections, int) and (sections == 0 or input.shape[axis] % sections):
        raise RuntimeError(f"torch.{name} attempted to split along dimension {axis}, but the size of the dimension "
                           f"{input.shape[axis]} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, axis)


def hsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _dir_split("hsplit", 1, 0 if input.ndim == 1 else 1, input, indices_or_sections)


def vsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _dir_split("vsplit", 2, 0, input, indices_or_sections)


def dsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    return _dir_split("dsplit", 3, 2, input, indices_or_sections)


def unsafe_split(tensor: Tensor, split_size: int, dim: int = 0) -> tuple:
    """``split`` whose results are copies (torch's unsafe_* variants skip view tracking)."""
    return tuple(t.clone() for t in split(tensor, split_size, dim))


def unsafe_split_with_sizes(input: Tensor, split_sizes: Sequence[int], dim: int = 0) -> tuple:
    return tuple(t.clone() for t in split(input, list(split_sizes), dim))


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    return tuple(t.clone() for t in chunk(input, chunks, dim))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``dims`` (from the first towards the second)."""
    from .shape import transpose

    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    a, b = normalize_dim(dims[0], input.ndim, "rot90"), normalize_dim(dims[1], input.ndim, "rot90")
    if a == b:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {a} and dim1 = {b}")
    k %= 4
    if k == 1:
        return transpose(flip(input, (b,)), a, b)
    if k == 2:
        return flip(input, (a, b))
    if k == 3:
        return flip(transpose(input, a, b), (b,))
    return input.clone()


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids of 1-D (or 0-d) tensors; ``indexing='ij'`` (torch's default) or ``'xy'``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"torch.meshgrid: indexing must be one of 'xy' or 'ij', but received: {indexing}")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t.ndim}D")
    ts = _check_same(tensors, "meshgrid") if tensors else []
    ts = [t.reshape(-1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t.shape[0] for t in ts)
    grids = [t.reshape((1,) * i + (-1,) + (1,) * (len(ts) - i - 1)).expand(shape) for i, t in enumerate(ts)]
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Rows of every combination of the 1-D inputs' elements. (n_1,), ..., (n_k,) -> (n_1 * ... * n_k, k)"""
    if len(tensors) == 1:
        return tensors[0].reshape(-1)
    return stack([g.reshape(-1) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Rows of the length-``r`` combinations of a 1-D tensor's elements (itertools' order). -> (C, r)"""
    import itertools

    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = list(pick(range(input.shape[0]), r))
    xp = input.device.backend.xp
    index = Tensor._make(xp.asarray(idx, dtype="int64").reshape(-1, r), input.device)
    return input[index]


class CombineMethods:
    """Splitting, joining, flipping and tiling as ``Tensor`` methods."""

    __slots__ = ()
    repeat = repeat
    tile = tile
    repeat_interleave = repeat_interleave
    split = split
    chunk = chunk
    split_with_sizes = split_with_sizes
    tensor_split = tensor_split
    hsplit = hsplit
    vsplit = vsplit
    dsplit = dsplit
    unsafe_split = unsafe_split
    unsafe_split_with_sizes = unsafe_split_with_sizes
    unsafe_chunk = unsafe_chunk
    rot90 = rot90
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
