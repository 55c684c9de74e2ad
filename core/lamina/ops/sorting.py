"""Sorting and selection: sort, argsort, topk, kthvalue (values differentiable, indices not)."""

from __future__ import annotations

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


class SortingMethods:
    __slots__ = ()
    sort = sort
    argsort = argsort
    topk = topk
    kthvalue = kthvalue
