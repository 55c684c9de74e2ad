"""Shape ops: views (reshape, permute, expand, squeeze, ...) and copies (cat, stack, flip, roll, repeat).

View results share the input's storage and version counter, as in PyTorch.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from .._tensor import Tensor
from ..autograd.function import Function
from ..errors import ShapeError
from ._util import normalize_dim


def _as_view(y: Tensor, x: Tensor) -> Tensor:
    y._version = x._version
    y._base = x if x._base is None else x._base
    return y


class Reshape(Function):
    """x: (*in) -> (*out) with the same number of elements."""

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, dy):
        return dy.reshape(ctx.in_shape), None


class Permute(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        return x.transpose(axes)

    @staticmethod
    def backward(ctx, dy):
        inv = [0] * len(ctx.axes)
        for i, a in enumerate(ctx.axes):
            inv[a] = i
        return ctx.xp.transpose(dy, tuple(inv)), None


class Expand(Function):
    """Broadcast x to ``shape`` (a read-only view); the engine sums the gradient back."""

    @staticmethod
    def forward(ctx, x, shape):
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, dy):
        return dy, None


class Contiguous(Function):
    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ascontiguousarray(x)

    @staticmethod
    def backward(ctx, dy):
        return dy


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


def _shape_arg(shape: Sequence) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer(shape: tuple, numel: int, op: str, in_shape) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s} in {list(shape)}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel} "
                           f"(input shape {list(in_shape)})")
    return shape


def reshape(input: Tensor, *shape) -> Tensor:
    shape = _infer(_shape_arg(shape), input._data.size, "reshape", input._data.shape)
    if shape == input._data.shape:
        return _as_view(Reshape.apply(input, shape), input)
    y = Reshape.apply(input, shape)
    if input._data.flags.c_contiguous:
        _as_view(y, input)
    return y


def view(input: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        return input.to(shape[0])  # view(dtype) is not reinterpretation here; documented difference
    shape = _infer(_shape_arg(shape), input._data.size, "view", input._data.shape)
    if not input._data.flags.c_contiguous and shape != input._data.shape and input._data.size > 1:
        raise RuntimeError(
            f"view: view size {list(shape)} is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
    return _as_view(Reshape.apply(input, shape), input)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, tuple(other.shape))


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, tuple(other.shape))


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.ndim == 0:
        return reshape(input, (1,))
    s = normalize_dim(start_dim, input.ndim, "flatten")
    e = normalize_dim(end_dim, input.ndim, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    n = 1
    for v in shp[s:e + 1]:
        n *= v
    return reshape(input, shp[:s] + (n,) + shp[e + 1:])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    d = normalize_dim(dim, input.ndim, "unflatten")
    shp = input._data.shape
    sizes = _infer(tuple(sizes), shp[d], "unflatten", shp)
    return reshape(input, shp[:d] + sizes + shp[d + 1:])


def permute(input: Tensor, *dims) -> Tensor:
    dims = _shape_arg(dims)
    if len(dims) != input.ndim:
        raise RuntimeError(f"permute: number of dims don't match in permute: expected {input.ndim}, got {len(dims)}")
    axes = tuple(normalize_dim(d, input.ndim, "permute") for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"permute: repeated dim in {list(dims)}")
    return _as_view(Permute.apply(input, axes), input)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    n = input.ndim
    if n == 0:
        return _as_view(Reshape.apply(input, ()), input)
    axes = list(range(n))
    a, b = normalize_dim(dim0, n, "transpose"), normalize_dim(dim1, n, "transpose")
    axes[a], axes[b] = axes[b], axes[a]
    return _as_view(Permute.apply(input, tuple(axes)), input)


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input.view(input.shape)


def movedim(input: Tensor, source, destination) -> Tensor:
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    n = input.ndim
    src = [normalize_dim(s, n, "movedim") for s in src]
    dst = [normalize_dim(d, n, "movedim") for d in dst]
    order = [i for i in range(n) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def expand(input: Tensor, *sizes) -> Tensor:
    sizes = _shape_arg(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to the "
                           f"number of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    out = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: -1 not allowed in leading, non-existing dimension {i}")
            out.append(s)
            continue
        cur = shp[i - lead]
        if s == -1:
            out.append(cur)
        elif cur == 1 or cur == s:
            out.append(s)
        else:
            raise RuntimeError(f"expand: the expanded size of the tensor ({s}) must match the existing size ({cur}) "
                               f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                               f"Tensor sizes: {list(shp)}")
    return _as_view(Expand.apply(input, tuple(out)), input)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, tuple(other.shape))


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    import numpy as np

    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def squeeze(input: Tensor, dim=None) -> Tensor:
    shp = input._data.shape
    if dim is None:
        new = tuple(s for s in shp if s != 1)
    else:
        dims = {normalize_dim(d, input.ndim, "squeeze") for d in (dim if isinstance(dim, (tuple, list)) else (dim,))}
        new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
    return _as_view(Reshape.apply(input, new), input)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    n = input.ndim + 1
    if not -n <= dim < n:
        raise IndexError(f"unsqueeze: Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    d = dim % n
    shp = input._data.shape
    return _as_view(Reshape.apply(input, shp[:d] + (1,) + shp[d:]), input)


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    if input._data.flags.c_contiguous:
        return input
    return Contiguous.apply(input)


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
    reps = _shape_arg(sizes)
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


def atleast_1d(input: Tensor) -> Tensor:
    return input.reshape(1) if input.ndim == 0 else input


def atleast_2d(input: Tensor) -> Tensor:
    return input.reshape(1, -1) if input.ndim < 2 else input
