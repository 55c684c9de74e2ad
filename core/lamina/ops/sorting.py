"""Sorting and selection: sort, argsort, topk, kthvalue (values differentiable, indices not)."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import normalize_dim


class SortValues(Function):
    """Values picked by ``indices`` along ``axis`` (sort, topk, kthvalue); gradient scattered back."""

    @staticmethod
    def forward(ctx, x, indices, axis):
        ctx.indices, ctx.axis, ctx.shape = indices, axis, x.shape
        return ctx.xp.take_along_axis(x, indices, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        dx = xp.zeros(ctx.shape, dtype=dy.dtype)
        xp.put_along_axis(dx, ctx.indices, dy, axis=ctx.axis)
        return dx, None, None


def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False):
    from .._base.return_types import max_min

    xp = input.device.backend.xp
    if input.ndim == 0:
        return max_min("sort")(input.clone(), Tensor._make(xp.zeros((), "int64"), input.device))
    axis = normalize_dim(dim, input.ndim, "sort")
    src = -input._data if descending and input._data.dtype.kind != "b" else input._data
    idx = xp.argsort(src, axis=axis, kind="stable")
    if descending and input._data.dtype.kind == "b":
        idx = xp.flip(idx, axis)
    vals = SortValues.apply(input, idx, axis)
    return max_min("sort")(vals, Tensor._make(idx.astype("int64"), input.device))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    return sort(input, dim, descending, stable).indices


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    from .._base.return_types import max_min

    axis = normalize_dim(dim, input.ndim, "topk") if input.ndim else 0
    n = input.shape[axis] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: selected index k ({k}) out of range for dimension {axis} of size {n}")
    xp = input.device.backend.xp
    src = -input._data if largest else input._data
    idx = xp.argsort(src, axis=axis, kind="stable")
    idx = xp.take(idx, xp.arange(k), axis=axis)
    vals = SortValues.apply(input, idx, axis)
    return max_min("topk")(vals, Tensor._make(idx.astype("int64"), input.device))


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    from .._base.return_types import max_min

    axis = normalize_dim(dim, input.ndim, "kthvalue")
    xp = input.device.backend.xp
    idx = xp.argsort(input._data, axis=axis, kind="stable")
    idx = xp.take(idx, xp.arange(k - 1, k), axis=axis)
    vals = SortValues.apply(input, idx, axis)
    idx_t = Tensor._make(idx.astype("int64"), input.device)
    if not keepdim:
        vals, idx_t = vals.squeeze(axis), idx_t.squeeze(axis)
    return max_min("kthvalue")(vals, idx_t)


def msort(input: Tensor) -> Tensor:
    """``input`` sorted along dim 0."""
    return sort(input, 0).values


def _unique_result(xp, input: Tensor, vals, inverse, counts, return_inverse: bool, return_counts: bool):
    out = [Tensor._make(vals, input.device)]
    if return_inverse:
        out.append(Tensor._make(xp.asarray(inverse, dtype="int64"), input.device))
    if return_counts:
        out.append(Tensor._make(xp.asarray(counts, dtype="int64"), input.device))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """The distinct elements (or slices along ``dim``), sorted; NaNs count as distinct, as torch's.

    Returns the values, then the inverse (each element's position among them) and counts, as asked.
    """
    xp = input.device.backend.xp
    a = input._data
    if dim is None:
        flat = a.reshape(-1)
        vals, inv, cnt = xp.unique(flat, return_inverse=True, return_counts=True, equal_nan=False)
        inv = inv.reshape(a.shape)
    else:
        d = normalize_dim(dim, input.ndim, "unique")
        if a.shape[d] == 0 and a.size == 0 and a.ndim > 1:
            moved = xp.moveaxis(a, d, 0)
            vals, inv, cnt = moved[:0], xp.zeros(0, "int64"), xp.zeros(0, "int64")
            vals = xp.moveaxis(vals, 0, d)
        else:
            vals, inv, cnt = xp.unique(a, return_inverse=True, return_counts=True, axis=d, equal_nan=False)
            inv = inv.reshape(-1)
    return _unique_result(xp, input, vals, inv, cnt, return_inverse, return_counts)


def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Each run of equal consecutive elements (or slices along ``dim``) collapsed to one."""
    xp = input.device.backend.xp
    a = input._data.reshape(-1) if dim is None else xp.moveaxis(input._data, normalize_dim(
        dim, input.ndim, "unique_consecutive"), 0)
    n = a.shape[0]
    if n == 0:
        starts = xp.zeros(0, "int64")
    else:
        change = (a[1:] != a[:-1]).reshape(n - 1, -1).any(axis=1)
        starts = xp.concatenate([xp.zeros(1, "int64"), xp.nonzero(change)[0] + 1])
    vals = a[starts]
    if dim is not None:
        vals = xp.moveaxis(vals, 0, normalize_dim(dim, input.ndim, "unique_consecutive"))
    inv = xp.cumsum(xp.isin(xp.arange(n), starts)) - 1 if n else xp.zeros(0, "int64")
    if dim is None:
        inv = inv.reshape(input._data.shape)
    cnt = xp.diff(xp.concatenate([starts, xp.asarray([n])]))
    return _unique_result(xp, input, vals, inv, cnt, return_inverse, return_counts)


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, out: Tensor | None = None, sorter: Tensor | None = None) -> Tensor:
    """Where each value of ``input`` would go in the last dim of ``sorted_sequence`` to keep it sorted.

    Shape: sorted_sequence (*, N) (or (N,)), input (*, M) -> (*, M) indices (int64, or int32).
    """
    from .creation import as_tensor, write_out

    if side not in (None, "left", "right"):
        raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
    if side is not None and right and side == "left":
        raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left while "
                           "right was True")
    side = side or ("right" if right else "left")
    xp = sorted_sequence.device.backend.xp
    seq = sorted_sequence._data
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    scalar = not isinstance(input, Tensor)
    vals = (as_tensor(input, device=sorted_sequence.device) if scalar else input)._data
    if seq.ndim == 1:
        r = xp.searchsorted(seq, vals, side=side)
    else:
        if seq.shape[:-1] != vals.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                               f"dimensions of boundaries tensor and input value tensor must match, but we got "
                               f"boundaries tensor {list(seq.shape)} and input value tensor {list(vals.shape)}")
        s2, v2 = seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1])
        r = xp.stack([xp.searchsorted(s2[i], v2[i], side=side) for i in range(s2.shape[0])]).reshape(vals.shape) \
            if s2.shape[0] else xp.zeros(vals.shape, "int64")
    res = Tensor._make(xp.asarray(r).astype("int32" if out_int32 else "int64"), sorted_sequence.device)
    return write_out(out, res, "searchsorted")


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False,
              out: Tensor | None = None) -> Tensor:
    """The bucket of each value: i with boundaries[i-1] < x <= boundaries[i] (``<=`` / ``<`` with right)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)


class SortingMethods:
    __slots__ = ()
    sort = sort
    argsort = argsort
    topk = topk
    kthvalue = kthvalue
    msort = msort
    unique = unique
    unique_consecutive = unique_consecutive
