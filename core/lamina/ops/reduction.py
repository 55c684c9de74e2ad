"""Reductions: sum, mean, prod, max/min (with indices), var/std, norm, logsumexp (scans: cumulative.py).

Backward broadcasts ``dy`` back over the reduced dims (kept as size-1 dims first).
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.autocast_state import autocast_op
from ..autograd.function import Function, _observers, notify_observers
from ._util import int_to_float, normalize_dim, normalize_dims


def _keep(dy, axes, keepdim):
    """Re-insert reduced axes as size 1 so ``dy`` broadcasts against the input."""
    if keepdim or axes is None:
        return dy
    for a in sorted(axes):
        dy = dy.reshape(dy.shape[:a] + (1,) + dy.shape[a:])
    return dy


def _spread(ctx, dy):
    """``dy`` (reduced) spread over the input's shape ``ctx.shape``: a broadcast view, or, for a small
    input and a one-element ``dy``, a filled array (``broadcast_to`` costs some microseconds of Python)."""
    if ctx._graph_mode or dy.size != 1 or math.prod(ctx.shape) > 4096:
        return ctx.xp.broadcast_to(_keep(dy, ctx.axes, ctx.keepdim), ctx.shape)
    out = ctx.xp.empty(ctx.shape, dtype=dy.dtype)
    out[...] = dy
    return out


class Sum(Function):
    """y = sum of x over ``axes`` (None: all). x: (*) -> y: reduced"""

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype=None):
        ctx.axes, ctx.keepdim, ctx.shape = axes, keepdim, x.shape
        if x.dtype.kind == "V" and dtype is None:  # accumulate in float32, round once (torch CPU)
            return x.sum(axis=axes, keepdims=keepdim, dtype="float32").astype(x.dtype)
        return x.sum(axis=axes, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, dy):
        return _spread(ctx, dy), None, None, None


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim, ctx.shape = axes, keepdim, x.shape
        n = x.size if axes is None else _prod(x.shape[a] for a in axes)
        ctx.n = builtins.max(n, 1)
        if x.dtype.kind == "V":
            return x.mean(axis=axes, keepdims=keepdim, dtype="float32").astype(x.dtype)
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, dy):
        return _spread(ctx, dy / ctx.n), None, None


class Prod(Function):
    @staticmethod
    def forward(ctx, x, axis, keepdim):
        y = x.prod(axis=axis, keepdims=keepdim)
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return y

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        axes = None if ctx.axis is None else (ctx.axis,)
        dy = _keep(dy, axes, ctx.keepdim)
        # product of all other elements, robust to zeros: exclusive cumulative products both ways
        flat = x.reshape(-1) if ctx.axis is None else xp.moveaxis(x, ctx.axis, -1)
        ones = xp.ones_like(flat[..., :1])
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1)
        others = left * right
        others = others.reshape(x.shape) if ctx.axis is None else xp.moveaxis(others, -1, ctx.axis)
        return dy * (others.conj() if dy.dtype.kind == "c" else others), None, None


class MaxMin(Function):
    """Values and indices of the max (or min) along one axis; gradient to the chosen element."""

    @staticmethod
    def forward(ctx, x, axis, keepdim, is_max):
        xp = ctx.xp
        if x.dtype.kind == "c":
            raise RuntimeError(f"{'max' if is_max else 'min'}(): does not support complex input")
        idx = xp.argmax(x, axis=axis) if is_max else xp.argmin(x, axis=axis)
        idx_k = xp.expand_dims(idx, axis)
        vals = xp.take_along_axis(x, idx_k, axis=axis)
        ctx.axis, ctx.shape, ctx.keepdim = axis, x.shape, keepdim
        ctx.idx = idx_k
        if not keepdim:
            vals = vals.squeeze(axis)
            idx_k = idx
        else:
            idx_k = idx_k.copy()
        ctx.mark_non_differentiable(idx_k)
        return vals, idx_k

    @staticmethod
    def backward(ctx, dv, di):
        xp = ctx.xp
        if not ctx.keepdim:
            dv = xp.expand_dims(dv, ctx.axis)
        dx = xp.zeros(ctx.shape, dtype=dv.dtype)
        xp.put_along_axis(dx, ctx.idx, dv, axis=ctx.axis)
        return dx, None, None, None


class Amax(Function):
    """Max (or min) over axes; ties share the gradient evenly (as PyTorch's amax/amin and max())."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        _no_complex(x, "amax" if is_max else "amin")
        y = x.max(axis=axes, keepdims=True) if is_max else x.min(axis=axes, keepdims=True)
        ctx.save_for_backward(x, y)
        ctx.axes, ctx.keepdim = axes, keepdim
        return y if keepdim else (y.reshape(()) if axes is None else y.squeeze(axes))

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        mask = x == y
        count = mask.sum(axis=ctx.axes, keepdims=True)
        dy = _keep(dy, ctx.axes, ctx.keepdim) if ctx.axes is not None else dy.reshape((1,) * x.ndim)
        return dy * mask / count, None, None, None


class Var(Function):
    """Variance over axes with ``correction`` (1 = unbiased)."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim):
        n = x.size if axes is None else _prod(x.shape[a] for a in axes)
        mu = x.mean(axis=axes, keepdims=True)
        d = x - mu
        ctx.save_for_backward(x)  # not d: double backward must see d's dependence on x
        ctx.axes, ctx.keepdim, ctx.div = axes, keepdim, builtins.max(n - correction, 0)
        sq = (d * d.conj()).real if d.dtype.kind == "c" else d * d  # complex: |x - mean|^2, a real result
        return sq.sum(axis=axes, keepdims=keepdim) / ctx.div

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        d = x - ctx.xp.mean(x, axis=ctx.axes, keepdims=True)
        dy = _keep(dy, ctx.axes, ctx.keepdim)
        return dy * d * (2.0 / ctx.div), None, None, None


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        m = x.max(axis=axes, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        s = xp.exp(x - m).sum(axis=axes, keepdims=True)
        y = xp.log(s) + m
        out = y if keepdim else y.squeeze(axes)
        ctx.save_for_backward(x, out)  # the output itself, so double backward sees its dependence on x
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        dy, y = _keep(dy, ctx.axes, ctx.keepdim), _keep(y, ctx.axes, ctx.keepdim)
        return dy * ctx.xp.exp(x - y), None, None


def _no_complex(x, name: str) -> None:
    if x.dtype.kind == "c":
        raise NotImplementedError(f"{name}: not implemented for complex tensors (got {x.dtype})")


def _prod(it) -> int:
    n = 1
    for v in it:
        n *= v
    return n


def _axes(input: Tensor, dim, op: str):
    axes = normalize_dims(dim, input._data.ndim, op)
    if input._data.ndim == 0:
        return None
    return axes


def sum(input: Tensor, dim=None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    axes = _axes(input, dim, "sum")
    if dtype is None and input._data.dtype.kind in "bi" and input._data.dtype.itemsize < 8 or \
            input._data.dtype.kind == "b" and dtype is None:
        dtype = _dtype.int64
    if dtype is not None:
        return Sum.apply(input, axes, keepdim, _dtype.to_np(dtype))
    return Sum.apply(input, axes, keepdim)


def mean(input: Tensor, dim=None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if _dtype.kind_of(input._data.dtype) not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating "
                           f"point or complex dtype. Got: {input.dtype}")
    return Mean.apply(input, _axes(input, dim, "mean"), keepdim)


@autocast_op("fp32")
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    axis = None if dim is None or input.ndim == 0 else normalize_dim(dim, input.ndim, "prod")
    return Prod.apply(input, axis, keepdim)


def _maxmin(input: Tensor, dim, keepdim, is_max: bool, other=None):
    from .._base.return_types import max_min

    if other is not None and isinstance(dim, Tensor):
        from .elementwise import maximum, minimum

        return maximum(input, dim) if is_max else minimum(input, dim)
    name = "max" if is_max else "min"
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return Amax.apply(input, None, False, is_max)
    if input.ndim == 0:
        v = input.clone()
        return max_min(name)(v, Tensor._make(input.device.backend.xp.zeros((), dtype="int64"), input.device))
    axis = normalize_dim(dim, input.ndim, name)
    if input._data.shape[axis] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {axis} to have non-zero size.")
    vals, idx = MaxMin.apply(input, axis, keepdim, is_max)
    return max_min(name)(vals, idx)


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """max(x) -> value; max(x, dim) -> (values, indices); max(x, other) -> elementwise maximum."""
    if isinstance(dim, Tensor):
        from .elementwise import maximum

        return maximum(input, dim)
    return _maxmin(input, dim, keepdim, True)


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    if isinstance(dim, Tensor):
        from .elementwise import minimum

        return minimum(input, dim)
    return _maxmin(input, dim, keepdim, False)


def amax(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return Amax.apply(input, _axes(input, dim, "amax"), keepdim, True)


def amin(input: Tensor, dim=(), keepdim: bool = False) -> Tensor:
    return Amax.apply(input, _axes(input, dim, "amin"), keepdim, False)


def _arg_extreme(op: Any, name: str, input: Tensor, dim: int | None, keepdim: bool) -> Tensor:
    """argmax/argmin (first occurrence): x (*) -> indices int64, ``dim`` removed (kept as 1 with keepdim);
    dim None: the index into the flattened x, 0-d."""
    xp = input.device.backend.xp
    if dim is None:
        r = getattr(xp, name)(input._data)
    else:
        axis = normalize_dim(dim, input.ndim, name)
        r = getattr(xp, name)(input._data, axis=axis, keepdims=keepdim) if input.ndim else xp.asarray(0)
    out = Tensor._make(xp.asarray(r).astype("int64"), input.device)
    if _observers:
        notify_observers(op, (input, dim, keepdim), {}, out)
    return out


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg_extreme(argmax, "argmax", input, dim, keepdim)


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg_extreme(argmin, "argmin", input, dim, keepdim)


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    if isinstance(dim, bool):  # var(x, False): the old unbiased positional form
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    return Var.apply(int_to_float(input), _axes(input, dim, "var"), correction, keepdim)


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: int | None = None) -> Tensor:
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | None = None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: int | None = None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    return LogSumExp.apply(int_to_float(input), _axes(input, dim, "logsumexp"), keepdim)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """Vector p-norm over ``dim`` (all elements by default); 'fro' is the 2-norm; inf/-inf supported."""
    from . import elementwise as E

    x = input if dtype is None else input.to(dtype)
    if x._data.dtype.kind == "c":  # the norm of complex values is that of their moduli (a real result)
        x = E.abs(x)
    if p == "fro" or p == 2:
        return E.sqrt(sum(x * x, dim, keepdim))
    if p == float("inf"):
        return amax(E.abs(x), () if dim is None else dim, keepdim)
    if p == float("-inf"):
        return amin(E.abs(x), () if dim is None else dim, keepdim)
    if p == 0:
        return sum((x != 0).to(x.dtype), dim, keepdim)
    if p == 1:
        return sum(E.abs(x), dim, keepdim)
    if p == "nuc" or isinstance(p, str):
        raise ValueError(f"norm: p must be a number, 'fro', inf or -inf, got {p!r}")
    return E.pow(sum(E.pow(E.abs(x), p), dim, keepdim), 1.0 / p)


def _truth(op: Any, name: str, input: Tensor, dim: Any, keepdim: bool) -> Tensor:
    """all/any: x (*) -> bool, reduced over ``dim`` (None: every dim)."""
    xp = input.device.backend.xp
    axes = _axes(input, dim, name)
    out = Tensor._make(xp.asarray(getattr(xp, name)(input._data, axis=axes, keepdims=keepdim)), input.device)
    if _observers:
        notify_observers(op, (input, dim, keepdim), {}, out)
    return out


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _truth(all, "all", input, dim, keepdim)


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return _truth(any, "any", input, dim, keepdim)


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    xp = input.device.backend.xp
    r = xp.count_nonzero(input._data, axis=_axes(input, dim, "count_nonzero"))
    return Tensor._make(xp.asarray(r).astype("int64"), input.device)


class ReductionMethods:
    """Reductions and scans as ``Tensor`` methods (``axis``/``keepdims`` accepted as NumPy spells them)."""

    __slots__ = ()
    prod = prod
    amax = amax
    amin = amin
    argmax = argmax
    argmin = argmin
    var = var
    std = std
    logsumexp = logsumexp
    norm = norm
    all = all
    any = any
    count_nonzero = count_nonzero
    max = max
    min = min

    def sum(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        if dim is None and axis is None and keepdims is None and dtype is None and self._data.dtype.kind in "fc":
            return Sum.apply(self, None, keepdim)
        return _sum(self, dim if axis is None else axis, keepdim if keepdims is None else keepdims, dtype=dtype)

    def mean(self: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        return _mean(self, dim if axis is None else axis, keepdim if keepdims is None else keepdims, dtype=dtype)


_sum, _mean = sum, mean
