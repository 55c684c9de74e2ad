"""Strided views on a tensor's storage: ``storage_offset``, ``as_strided``, ``unfold``, ``diagonal``,
``as_strided_scatter``, ``empty_strided`` / ``empty_permuted``.

A tensor's storage is the root array its array is a view of; strides and offsets count elements
of it, as in PyTorch. Views share the storage, version counter and autograd base with the input.
The gradient of a strided view scatters (accumulating, so overlapping windows add up) into a
zero storage and reads the input's geometry back out.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import normalize_dim
from .shape import _as_view


def _root(a):
    """The array owning ``a``'s memory (its storage)."""
    while True:
        b = getattr(a, "base", None)
        if b is not None and not hasattr(b, "strides"):
            b = getattr(b, "base", None)  # the interface wrapper stride_tricks.as_strided leaves between
        if b is None or not hasattr(b, "strides"):
            return a
        a = b


def _addr(a) -> int:
    iface = getattr(a, "__array_interface__", None)
    return iface["data"][0] if iface is not None else a.data.ptr


def _offset(a) -> int:
    return (_addr(a) - _addr(_root(a))) // a.itemsize


def _storage_numel(a) -> int:
    r = _root(a)
    return r.nbytes // a.itemsize


def _geometry_index(xp, shape, strides, offset):
    """Flat storage index of each element of a (shape, strides, offset) view."""
    idx = xp.full(tuple(shape), offset, dtype="int64")
    for k, (n, s) in enumerate(zip(shape, strides)):
        idx = idx + (xp.arange(n, dtype="int64") * s).reshape((n,) + (1,) * (len(shape) - k - 1))
    return idx


def _view(xp, x, shape, strides, offset):
    """The (shape, strides, offset) view of ``x``'s storage (strides and offset in elements)."""
    root = _root(x)
    flat = xp.lib.stride_tricks.as_strided(root, (root.nbytes // x.itemsize,), (x.itemsize,)) \
        if root.dtype == x.dtype else root.reshape(-1).view(x.dtype)
    return xp.lib.stride_tricks.as_strided(flat[offset:], tuple(shape), tuple(s * x.itemsize for s in strides))


class StridedView(Function):
    """y = the (shape, strides, offset) view of x's storage. Backward: dy added into a zero storage at
    y's places, read back at x's places."""

    @staticmethod
    def forward(ctx, x, shape, strides, offset, logical=None):
        xp = ctx.xp
        if logical is None:  # as_strided: the geometry is the storage's
            ctx.n = _storage_numel(x)
            ctx.in_geom = (x.shape, tuple(s // x.itemsize for s in x.strides), _offset(x))
            ctx.out_geom = (shape, strides, offset)
        else:  # unfold/diagonal: defined on x's elements, so overlapping (expanded) inputs get their share only
            ctx.n = x.size
            ctx.in_geom = (x.shape, _contiguous_strides(x.shape), 0)
            ctx.out_geom = logical
        return _view(xp, x, shape, strides, offset)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        if isinstance(dy, Tensor):  # create_graph: the same scatter/gather, differentiable
            from .creation import zeros
            from .indexing import IndexPut

            dev = dy.device.backend.xp
            out_idx = _geometry_index(dev, *ctx.out_geom).reshape(-1)
            in_idx = _geometry_index(dev, *ctx.in_geom)
            s = IndexPut.apply(zeros(ctx.n, dtype=dy.dtype, device=dy.device), (out_idx,), dy.reshape(-1), True)
            return s[Tensor._make(in_idx, dy.device)], None, None, None, None
        s = xp.zeros(ctx.n, dtype=dy.dtype)
        xp.add.at(s, _geometry_index(xp, *ctx.out_geom), dy)
        return s[_geometry_index(xp, *ctx.in_geom)], None, None, None, None


def _contiguous_strides(shape) -> tuple[int, ...]:
    out, acc = [], 1
    for n in reversed(tuple(shape)):
        out.append(acc)
        acc *= builtins.max(n, 1)
    return tuple(reversed(out))


def _check_bounds(input: Tensor, size, stride, offset, name: str = "as_strided") -> None:
    if any(s < 0 for s in size):
        raise RuntimeError(f"{name}: Negative dimension size {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"{name}: Negative strides are not supported at the moment, got strides: {list(stride)}")
    if len(size) != len(stride):
        raise RuntimeError(f"mismatch in length of strides and shape: sizes {list(size)}, strides {list(stride)}")
    need = 0 if 0 in size else offset + builtins.sum((n - 1) * s for n, s in zip(size, stride)) + 1
    have = _storage_numel(input._data)
    if need > have:
        item = input._data.itemsize
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {item} requiring a storage size of {need * item} are out of bounds for storage "
                           f"of size {have * item}")


def storage_offset(input: Tensor) -> int:
    """How many elements of the storage come before this tensor's first element."""
    return _offset(input._data)


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
    """The view of ``input``'s storage with the given sizes, strides and offset (elements)."""
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    offset = _offset(input._data) if storage_offset is None else int(storage_offset)
    _check_bounds(input, size, stride, offset)
    return _as_view(StridedView.apply(input, size, stride, offset), input)


def as_strided_(input: Tensor, size: Sequence[int], stride: Sequence[int],
                storage_offset: int | None = None) -> Tensor:
    """``input`` itself becomes the strided view (same storage); not recorded by autograd."""
    if input.requires_grad:
        raise RuntimeError("as_strided_: a leaf Variable that requires grad is being used in an in-place operation.")
    v = as_strided(input.detach(), size, stride, storage_offset)
    input._data = v._data
    return input


def as_strided_scatter(input: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: int | None = None) -> Tensor:
    """A copy of ``input`` with ``src`` written into its (size, stride, offset) view."""
    from .indexing import IndexPut

    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if tuple(src.shape) != size:
        raise RuntimeError(f"as_strided_scatter: expected src to have a size equal to the slice of self. src size = "
                           f"{list(src.shape)}, slice size = {list(size)}")
    xp = input.device.backend.xp
    base = input.contiguous() if not input.is_contiguous() else input
    offset = 0 if storage_offset is None else int(storage_offset)
    _check_bounds(Tensor._make(xp.empty(input._data.size, input._data.dtype), input.device), size, stride, offset,
                  "as_strided_scatter")
    idx = Tensor._make(_geometry_index(xp, size, stride, offset).reshape(-1), input.device)
    flat = IndexPut.apply(base.reshape(-1), (idx._data,), src.to(input.dtype).reshape(-1))
    return flat.reshape(tuple(input.shape))


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Windows of ``size`` every ``step`` along ``dimension``, as a new last dim (a view).

    Shape: (..., n, ...) -> (..., (n - size) // step + 1, ..., size)
    """
    x = input._data
    d = normalize_dim(dimension, max(x.ndim, 1), "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    st = tuple(s // x.itemsize for s in x.strides)
    if x.ndim == 0:
        return as_strided(input, (size,), (1,))
    shape = x.shape[:d] + ((n - size) // step + 1,) + x.shape[d + 1:] + (size,)
    strides = st[:d] + (st[d] * step,) + st[d + 1:] + (st[d],)
    cs = _contiguous_strides(x.shape)
    logical = (shape, cs[:d] + (cs[d] * step,) + cs[d + 1:] + (cs[d],), 0)
    return _as_view(StridedView.apply(input, shape, strides, _offset(x), logical), input)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal of the (dim1, dim2) planes as a last dim (a view).

    Shape: (..., n, ..., m, ...) -> (..., k) with k the diagonal's length.
    """
    x = input._data
    if x.ndim < 2:
        raise RuntimeError(f"diagonal(): input must be at least 2-dimensional, got {x.ndim}D")
    a, b = normalize_dim(dim1, x.ndim, "diagonal"), normalize_dim(dim2, x.ndim, "diagonal")
    if a == b:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    st = tuple(s // x.itemsize for s in x.strides)
    na, nb = x.shape[a], x.shape[b]
    k = builtins.max(0, builtins.min(na, nb - offset) if offset >= 0 else builtins.min(na + offset, nb))
    start = _offset(x) + (offset * st[b] if offset >= 0 else -offset * st[a]) * (k > 0)
    keep = [i for i in range(x.ndim) if i not in (a, b)]
    shape = tuple(x.shape[i] for i in keep) + (k,)
    strides = tuple(st[i] for i in keep) + (st[a] + st[b],)
    cs = _contiguous_strides(x.shape)
    logical = (shape, tuple(cs[i] for i in keep) + (cs[a] + cs[b],),
               (offset * cs[b] if offset >= 0 else -offset * cs[a]) * (k > 0))
    return _as_view(StridedView.apply(input, shape, strides, start, logical), input)


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None, layout: Any = None,
                  device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor with the given sizes and strides (elements)."""
    from .creation import _check_layout, empty

    _check_layout("empty_strided", layout)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    n = 0 if 0 in size else builtins.sum((s - 1) * st for s, st in zip(size, stride)) + 1
    buf = empty(n, dtype=dtype, device=device)
    out = as_strided(buf, size, stride, 0).detach()
    return out.requires_grad_(True) if requires_grad else out


def empty_permuted(size: Sequence[int], physical_layout: Sequence[int], *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor whose dims are laid out in memory in ``physical_layout`` order."""
    from .creation import _check_layout, empty

    _check_layout("empty_permuted", layout)
    size, order = tuple(int(s) for s in size), tuple(int(p) for p in physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"empty_permuted: physical_layout must be a permutation of the dims, got {list(order)}")
    buf = empty(*(size[p] for p in order), dtype=dtype, device=device)
    inv = [order.index(i) for i in range(len(size))]
    out = buf.permute(inv).detach()
    return out.requires_grad_(True) if requires_grad else out


class StridedMethods:
    """Strided views as ``Tensor`` methods."""

    __slots__ = ()
    storage_offset = storage_offset
    as_strided = as_strided
    as_strided_ = as_strided_
    as_strided_scatter = as_strided_scatter
    unfold = unfold
    diagonal = diagonal

    def new_empty_strided(self: Tensor, size: Sequence[int], stride: Sequence[int], *, dtype: Any = None,
                          layout: Any = None, device: Any = None, requires_grad: bool = False,
                          pin_memory: bool = False) -> Tensor:
        return empty_strided(size, stride, dtype=dtype or self.dtype, layout=layout, device=device or self.device,
                             requires_grad=requires_grad)

