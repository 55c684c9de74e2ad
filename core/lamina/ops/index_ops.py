"""Indexed writes and reads along a dim: index_add/copy/fill/put/reduce, scatter_reduce, put,
masked_scatter, take_along_dim, nonzero_static, unravel_index.

The writes are ``IndexPut`` (``x[key] = v``, or ``+=`` with accumulate) on a key that selects the
indexed slices, so their gradients are ``IndexPut``'s; ``scatter_reduce`` has its own Function.
"""

from __future__ import annotations

import builtins
from typing import Any

from .._tensor import Tensor
from ..autograd.autocast_state import autocast_op
from ..autograd.function import Function
from ._util import normalize_dim
from .indexing import IndexPut, _full_index, _index_arr, gather
from .inplace import make_inplace

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def _dim_key(input: Tensor, dim: int, index: Tensor, name: str):
    d = normalize_dim(dim, input.ndim, name)
    idx = _index_arr(index, name)
    if idx.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, got {idx.ndim} dims")
    n = input.shape[d] if input.ndim else 1
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"{name}(): index {int(idx.max())} is out of bounds for dimension {d} with size {n}")
    return d, (builtins.slice(None),) * d + (idx.reshape(-1),)


def _source(input: Tensor, source: Any, d: int, n: int, name: str) -> Any:
    if not isinstance(source, Tensor):
        return source
    want = list(input.shape)
    if input.ndim:
        want[d] = n
    if source.ndim and list(source.shape) != want:
        raise RuntimeError(f"{name}(): source has shape {list(source.shape)}, expected {want} (self's shape with "
                           f"dim {d} of the index's length)")
    return source.to(input.dtype) if source.dtype != input.dtype else source


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """A copy of ``input`` with ``alpha * source`` added at ``index`` along ``dim`` (repeats add up)."""
    d, key = _dim_key(input, dim, index, "index_add")
    src = _source(input, source, d, key[-1].size, "index_add")
    return IndexPut.apply(input, key, src if alpha == 1 else src * alpha, True)


@autocast_op("promote")
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the slices at ``index`` along ``dim`` replaced by ``source``."""
    d, key = _dim_key(input, dim, index, "index_copy")
    return IndexPut.apply(input, key, _source(input, source, d, key[-1].size, "index_copy"))


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """A copy of ``input`` with the slices at ``index`` along ``dim`` set to ``value``."""
    _, key = _dim_key(input, dim, index, "index_fill")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_(): Expected dim of value to be 0, got {value.ndim}")
        return IndexPut.apply(input, key, value.to(input.dtype))
    return IndexPut.apply(input, key, value)


def index_put(input: Tensor, indices: Any, values: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with ``input[indices] = values`` (``+=`` with accumulate)."""
    key = tuple(i._data if isinstance(i, Tensor) else i for i in indices)
    v = values.to(input.dtype) if isinstance(values, Tensor) and values.dtype != input.dtype else values
    return IndexPut.apply(input, key, v, bool(accumulate))


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """A copy of ``input`` with its flattened elements at ``index`` replaced by (or added) ``source``."""
    idx = _index_arr(index, "put").reshape(-1)
    n = input.numel()
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"put(): index {int(idx.max())} out of range for tensor of size {list(input.shape)}")
    flat = IndexPut.apply(input.reshape(-1), (idx,), source.to(input.dtype).reshape(-1), bool(accumulate))
    return flat.reshape(tuple(input.shape))


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with the True places of ``mask`` (broadcast) filled, in order, from ``source``."""
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise RuntimeError(f"masked_scatter_only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
    xp = input.device.backend.xp
    m = xp.broadcast_to(mask._data, input._data.shape)
    k = int(m.sum())
    if k > source.numel():
        raise RuntimeError(f"masked_scatter: expected source to have at least {k} elements, got {source.numel()}")
    return IndexPut.apply(input, (m,), source.to(input.dtype).reshape(-1)[:k])


class ScatterReduce(Function):
    """y = x with src reduced (sum/prod/mean/amax/amin) into the places ``index`` names along ``axis``."""

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce, include_self):
        xp = ctx.xp
        key = _full_index(xp, index, axis)
        y = x.copy()
        hit = xp.zeros(x.shape, dtype=bool)
        hit[key] = True
        if not include_self:
            start = {"sum": 0, "mean": 0, "prod": 1, "amax": -xp.inf, "amin": xp.inf}[reduce]
            if x.dtype.kind in "iub" and reduce in ("amax", "amin"):
                info = xp.iinfo(x.dtype)
                start = info.min if reduce == "amax" else info.max
            y[hit] = start
        ufunc = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}[reduce]
        ufunc.at(y, key, src)
        count = xp.zeros(x.shape, dtype="int64")
        xp.add.at(count, key, 1)
        if not include_self:
            count = count - 1
        if reduce == "mean":
            c = xp.where(hit, count + 1, 1)
            y = y / c if y.dtype.kind in "fc" else y // c
        ctx.save_for_backward(x, src, y)
        ctx.key, ctx.reduce, ctx.include_self, ctx.hit, ctx.count = key, reduce, include_self, hit, count
        return y.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        x, src, y = ctx.saved_tensors
        key, hit, red = ctx.key, ctx.hit, ctx.reduce
        self_kept = xp.ones(x.shape, dtype=bool) if ctx.include_self else ~hit
        if red == "sum":
            return xp.where(self_kept, dy, 0), None, None, dy[key], None, None
        if red == "mean":
            dn = dy / xp.where(hit, ctx.count + 1, 1)
            return xp.where(self_kept, dn, 0), None, None, dn[key], None, None
        if red == "prod":  # d y / d v = y / v (inputs assumed nonzero)
            g = dy * y
            return xp.where(self_kept, g / xp.where(x == 0, 1, x), 0), None, None, g[key] / src, None, None
        # amax/amin: the gradient is shared evenly by every value equal to the result
        x_is = (x == y) & self_kept
        s_is = src == y[key]
        ties = x_is.astype(dy.dtype)
        xp.add.at(ties, key, s_is.astype(dy.dtype))
        share = dy / xp.where(ties == 0, 1, ties)
        return xp.where(x_is, share, 0), None, None, xp.where(s_is, share[key], 0), None, None


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """``input`` with ``src`` reduced into ``input[..., index[i][j], ...]`` along ``dim``."""
    if reduce not in _REDUCES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    axis = normalize_dim(dim, input.ndim, "scatter_reduce")
    idx = _index_arr(index, "scatter_reduce")
    if idx.ndim != input.ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as self tensor ({idx.ndim} vs "
                           f"{input.ndim})")
    n = input.shape[axis] if input.ndim else 1
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise RuntimeError(f"scatter_reduce(): index {int(idx.max())} is out of bounds for dimension {axis} with "
                           f"size {n}")
    s = src[tuple(builtins.slice(0, k) for k in idx.shape)] if tuple(src.shape) != tuple(idx.shape) else src
    return ScatterReduce.apply(input, axis, idx, s.to(input.dtype), reduce, bool(include_self))


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """``index_add`` with prod/mean/amax/amin instead of the sum."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    d, key = _dim_key(input, dim, index, "index_reduce")
    src = _source(input, source, d, key[-1].size, "index_reduce")
    shape = [1] * src.ndim
    if src.ndim:
        shape[d] = -1
    xp = input.device.backend.xp
    idx = xp.broadcast_to(key[-1].reshape(shape), src._data.shape).copy()
    return scatter_reduce(input, d, Tensor._make(idx, input.device), src, reduce, include_self=include_self)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """``gather`` after broadcasting input and indices over every dim but ``dim`` (None: both flattened)."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = normalize_dim(dim, input.ndim, "take_along_dim")
    if input.ndim != indices.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input.ndim} dimensions for input, and {indices.ndim} dimensions for indices")
    import numpy as np

    a, b = list(input.shape), list(indices.shape)
    a[d] = b[d] = 1
    common = list(np.broadcast_shapes(tuple(a), tuple(b)))
    xs, ys = list(common), list(common)
    xs[d], ys[d] = input.shape[d], indices.shape[d]
    return gather(input.expand(tuple(xs)), d, indices.expand(tuple(ys)))


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """``nonzero`` cut or padded (with ``fill_value`` rows) to exactly ``size`` rows. -> (size, ndim)"""
    from .indexing import nonzero

    if size < 0:
        raise RuntimeError(f"nonzero_static: 'size' must be an non-negative integer, got {size}")
    nz = nonzero(input)._data
    xp = input.device.backend.xp
    out = xp.full((size, input.ndim), fill_value, dtype="int64")
    k = builtins.min(size, nz.shape[0])
    out[:k] = nz[:k]
    return Tensor._make(out, input.device)


def unravel_index(indices: Tensor, shape: Any) -> tuple:
    """The coordinates in ``shape`` of flat ``indices`` (negative ones count from the end)."""
    from .creation import as_tensor

    t = indices if isinstance(indices, Tensor) else as_tensor(indices)
    xp = t.device.backend.xp
    if t._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {t.dtype}")
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    n = 1
    for s in shape:
        n *= s
    a = t._data.astype("int64")
    if a.size and (int(a.max()) >= n or int(a.min()) < -n):
        raise RuntimeError(f"unravel_index: 'indices' must be in range [-{n}, {n - 1}] for shape {list(shape)}")
    coords = xp.unravel_index(a % n if n else a, shape)
    return tuple(Tensor._make(xp.asarray(c, dtype="int64"), t.device) for c in coords)


index_put_ = make_inplace("index_put", index_put)


class IndexOpsMethods:
    """Indexed writes and reads as ``Tensor`` methods (and their in-place forms)."""

    __slots__ = ()
    index_add = index_add
    index_copy = index_copy
    index_put = index_put
    index_reduce = index_reduce
    scatter_reduce = scatter_reduce
    put = put
    masked_scatter = masked_scatter
    take_along_dim = take_along_dim
    nonzero_static = nonzero_static
    index_add_ = make_inplace("index_add", index_add)
    index_copy_ = make_inplace("index_copy", index_copy)
    index_put_ = index_put_
    index_reduce_ = make_inplace("index_reduce", index_reduce)
    scatter_reduce_ = make_inplace("scatter_reduce", scatter_reduce)
    put_ = make_inplace("put", put)
    masked_scatter_ = make_inplace("masked_scatter", masked_scatter)
