"""Indexing: ``x[key]``, ``x[key] = v``, gather/scatter, index_select, masked_fill, where, sort, topk."""

from __future__ import annotations

import builtins
from typing import Any

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import normalize_dim, promote_pair, scalar_or_tensor
from .inplace import make_inplace


def _key(key: Any):
    """Turn Tensor parts of an index into arrays; report whether the result is a view (basic indexing)."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    basic = True
    for k in key:
        if isinstance(k, Tensor):
            k = k._data
            basic = False
        elif isinstance(k, list):
            basic = False
        elif k is None or k is Ellipsis or isinstance(k, (int, builtins.slice)):
            pass
        else:
            basic = basic and not hasattr(k, "shape")
        out.append(k)
    return tuple(out), basic


def _add_at(xp, dx, key, dy):
    add_at = getattr(getattr(xp, "add", None), "at", None)
    if add_at is not None:
        add_at(dx, key, dy)
    else:  # CuPy without ufunc.at
        import cupyx  # pragma: no cover

        cupyx.scatter_add(dx, key, dy)


class GetItem(Function):
    """y = x[key]; basic keys give views, advanced keys copies. Backward scatters (accumulating) dy."""

    @staticmethod
    def forward(ctx, x, key, basic):
        ctx.key, ctx.basic, ctx.shape = key, basic, x.shape
        return x[key]

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        if isinstance(dy, Tensor):
            return _ScatterBack.apply(dy, ctx.shape, ctx.key, ctx.basic), None, None
        dx = xp.zeros(ctx.shape, dtype=dy.dtype)
        if ctx.basic:
            dx[ctx.key] = dy
        else:
            _add_at(xp, dx, ctx.key, dy)
        return dx, None, None


class _ScatterBack(Function):
    """Adjoint of GetItem (used for double backward)."""

    @staticmethod
    def forward(ctx, dy, shape, key, basic):
        ctx.key = key
        dx = ctx.xp.zeros(shape, dtype=dy.dtype)
        if basic:
            dx[key] = dy
        else:
            _add_at(ctx.xp, dx, key, dy)
        return dx

    @staticmethod
    def backward(ctx, ddx):
        return ddx[ctx.key], None, None, None


class IndexPut(Function):
    """y = copy of x with y[key] = v (v broadcast). Backward: dx = dy with key zeroed; dv = dy[key]."""

    @staticmethod
    def forward(ctx, x, key, v, accumulate=False):
        ctx.key, ctx.acc = key, accumulate
        y = x.copy()
        if accumulate:
            _add_at(ctx.xp, y, key, v)
        else:
            y[key] = v
        return y

    @staticmethod
    def backward(ctx, dy):
        dx = dy
        if isinstance(dy, Tensor):  # create_graph: zero the written places with this op itself (differentiable)
            if not ctx.acc:
                zero = Tensor._make(dy._device.backend.xp.zeros((), dy._data.dtype), dy._device)
                dx = IndexPut.apply(dy, ctx.key, zero, False)
        elif not ctx.acc:
            dx = dy.copy()
            dx[ctx.key] = 0
        return dx, None, dy[ctx.key], None


def getitem(x: Tensor, key: Any) -> Tensor:
    k, basic = _key(key)
    if basic and len(k) == 1 and k[0] is Ellipsis:
        pass
    for i, part in enumerate(k):
        if isinstance(part, int) and x.ndim:
            pos = i if Ellipsis not in k[:i] else None
            if pos is not None and pos < x.ndim and not -x.shape[pos] <= part < x.shape[pos]:
                raise IndexError(f"index {part} is out of bounds for dimension {pos} with size {x.shape[pos]}")
    try:
        y = GetItem.apply(x, k, basic)
    except IndexError as e:
        raise IndexError(f"indexing a tensor of shape {list(x.shape)}: {e}") from None
    if basic:
        y._vc = x._vc
        y._base = x if x._base is None else x._base
    return y


def setitem(x: Tensor, key: Any, value: Any) -> None:
    from .inplace import check_inplace, rebase, snapshot

    k, _ = _key(key)
    v = value._data if isinstance(value, Tensor) else value
    if isinstance(value, Tensor) and value._device is not x._device:
        from .._base.errors import DeviceMismatchError

        raise DeviceMismatchError(f"index_put: value is on {value._device} but the tensor is on {x._device}")
    needs = check_inplace(x, value if isinstance(value, Tensor) else None)
    if not needs:
        x._data[k] = v
        x._vc.v += 1
        return
    if not isinstance(value, Tensor):
        value = scalar_or_tensor(value, x)
        if not isinstance(value, Tensor):
            x2 = IndexPut.apply(snapshot(x), k, value)
            rebase(x, x2)
            return
    if value.dtype != x.dtype:
        value = value.to(x.dtype)
    rebase(x, IndexPut.apply(snapshot(x), k, value))


class Gather(Function):
    """y[i][j] = x[i][index[i][j]] along ``axis`` (take_along_axis)."""

    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.axis, ctx.index, ctx.shape = axis, index, x.shape
        return ctx.xp.take_along_axis(x, index, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        if isinstance(dy, Tensor):  # create_graph: a scatter-add, whose own backward is this gather
            zeros = Tensor._make(dy._device.backend.xp.zeros(ctx.shape, dy._data.dtype), dy._device)
            return scatter_add(zeros, ctx.axis, Tensor._make(ctx.index, dy._device), dy), None, None
        xp = ctx.xp
        dx = xp.zeros(ctx.shape, dtype=dy.dtype)
        _add_at(xp, dx, _full_index(xp, ctx.index, ctx.axis), dy)
        return dx, None, None


def _full_index(xp, index, axis):
    grids = list(xp.meshgrid(*[xp.arange(s) for s in index.shape], indexing="ij", sparse=True))
    grids[axis] = index
    return tuple(grids)


class Scatter(Function):
    """y = copy of x with y[... index ...] = src (or += with reduce='add') along ``axis``."""

    @staticmethod
    def forward(ctx, x, axis, index, src, reduce):
        xp = ctx.xp
        key = _full_index(xp, index, axis)
        ctx.key, ctx.reduce = key, reduce
        y = x.copy()
        if reduce == "add":
            _add_at(xp, y, key, src)
        elif reduce == "multiply":
            xp.multiply.at(y, key, src)
        else:
            y[key] = src
        return y

    @staticmethod
    def backward(ctx, dy):
        dx = dy
        if ctx.reduce is None:
            dx = dy.copy()
            dx[ctx.key] = 0
        dsrc = dy[ctx.key] if ctx.needs_input_grad[3] else None
        return dx, None, None, dsrc, None


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, axis, index):
        ctx.axis, ctx.index, ctx.shape = axis, index, x.shape
        return ctx.xp.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        dx = xp.zeros(ctx.shape, dtype=dy.dtype)
        key = (builtins.slice(None),) * ctx.axis + (ctx.index,)
        _add_at(xp, dx, key, dy)
        return dx, None, None


class Where(Function):
    """y = where(cond, a, b)."""

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.save_for_backward(cond)  # saved, not a ctx attribute, so double backward sees a Tensor
        return ctx.xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        (cond,) = ctx.saved_tensors
        return None, xp.where(cond, dy, 0), xp.where(cond, 0, dy)


def _index_arr(index: Tensor, op: str):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected index to be an integer (int64) tensor, got "
                        f"{index.dtype if isinstance(index, Tensor) else type(index).__name__}")
    return index._data


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    axis = normalize_dim(dim, input.ndim, "gather")
    idx = _index_arr(index, "gather")
    if idx.ndim != input.ndim:
        raise RuntimeError(f"gather: Index tensor must have the same number of dimensions as input tensor "
                           f"({idx.ndim} vs {input.ndim})")
    n = input.shape[axis]
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"gather: index {int(idx.max())} is out of bounds for dimension {axis} with size {n}")
    return Gather.apply(input, axis, idx)


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    if src is None:
        src = value
    axis = normalize_dim(dim, input.ndim, "scatter")
    idx = _index_arr(index, "scatter")
    if reduce not in (None, "add", "multiply"):
        raise ValueError(f"scatter: reduce must be one of [None, 'add', 'multiply'], got {reduce!r}")
    if isinstance(src, Tensor):
        src_sl = src[tuple(builtins.slice(0, s) for s in idx.shape)] if src.shape != tuple(idx.shape) else src
        if src_sl.dtype != input.dtype:
            src_sl = src_sl.to(input.dtype)
        return Scatter.apply(input, axis, idx, src_sl, reduce)
    return Scatter.apply(input, axis, idx, src, reduce)


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return scatter(input, dim, index, src, reduce="add")


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    axis = normalize_dim(dim, input.ndim, "index_select")
    idx = _index_arr(index, "index_select")
    if idx.ndim > 1:
        raise IndexError(f"index_select: index should have at most 1 dimension, got {idx.ndim}")
    n = input.shape[axis]
    if idx.size and (int(idx.max()) >= n or int(idx.min()) < -n):
        raise IndexError(f"index_select: index {int(idx.max())} out of range for dimension {axis} of size {n}")
    return IndexSelect.apply(input, axis, idx.reshape(-1))


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise TypeError(f"masked_fill: expected a bool mask tensor, got "
                        f"{mask.dtype if isinstance(mask, Tensor) else type(mask).__name__}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"masked_fill: only supports a 0-dimensional value tensor, got {value.ndim} dims")
        return where(mask, value.to(input.dtype), input)
    from .creation import tensor

    return Where.apply(mask, tensor(value, dtype=input.dtype, device=input.device), input)


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        input, other = promote_pair(input, other)
    elif isinstance(input, Tensor):
        input, other = promote_pair(input, other)
    elif isinstance(other, Tensor):
        other, input = promote_pair(other, input)
    else:
        from .creation import tensor

        input = tensor(input, device=condition.device)
    if condition._data.dtype.kind != "b":
        condition = condition != 0
    return Where.apply(condition, input, other)


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    xp = input.device.backend.xp
    idx = xp.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype("int64"), input.device) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype("int64") if idx else xp.zeros((0, 0), "int64"), input.device)


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    a, m = input, mask
    if tuple(a.shape) != tuple(m.shape):
        from .shape import broadcast_tensors

        a, m = broadcast_tensors(a, m)
    return getitem(a, m)


def take(input: Tensor, index: Tensor) -> Tensor:
    return getitem(input.reshape(-1), index)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    xp = tensor.device.backend.xp
    if tensor._data.dtype.kind not in "iu":
        raise RuntimeError(f"one_hot: is only applicable to index tensor of integer type, got {tensor.dtype}")
    if num_classes < 0:
        num_classes = int(tensor._data.max()) + 1 if tensor._data.size else 0
    if tensor._data.size and (int(tensor._data.max()) >= num_classes or int(tensor._data.min()) < 0):
        raise RuntimeError(f"one_hot: Class values must be smaller than num_classes ({num_classes}) and non-negative")
    out = (tensor._data[..., None] == xp.arange(num_classes)).astype("int64")
    return Tensor._make(out, tensor.device)


class IndexingMethods:
    """Indexing, gathering and scattering as ``Tensor`` methods (``x[k]``, ``x[k] = v``)."""

    __slots__ = ()
    __getitem__ = getitem
    __setitem__ = setitem
    gather = gather
    scatter = scatter
    scatter_add = scatter_add
    index_select = index_select
    masked_fill = masked_fill
    masked_select = masked_select
    nonzero = nonzero
    argwhere = argwhere
    take = take

    def where(self: Tensor, condition: Tensor, other: Any) -> Tensor:
        return where(condition, self, other)

    def index_fill(self: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
        mask = self._device.backend.xp.zeros(self.shape[dim], dtype=bool)
        mask[index._data] = True
        shape = [1] * self.ndim
        shape[dim] = self.shape[dim]
        m = Tensor._make(mask.reshape(shape), self._device)
        return masked_fill(self, m.expand(tuple(self.shape)), value)

    masked_fill_ = make_inplace("masked_fill", masked_fill)
    scatter_ = make_inplace("scatter", scatter)
    scatter_add_ = make_inplace("scatter_add", scatter_add)
    index_fill_ = make_inplace("index_fill", index_fill)
