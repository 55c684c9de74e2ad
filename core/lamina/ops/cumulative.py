"""Scans and differences along a dim: cumsum/cumprod (and in place), cummax/cummin, logcumsumexp,
diff, gradient, trapezoid/trapz/cumulative_trapezoid.

cumsum, cumprod and logcumsumexp are Functions (their backward is a reversed scan); the others
are composed of differentiable ops.
"""

from __future__ import annotations

import builtins
from typing import Any

from .._base import dtype as _dtype
from .._base.return_types import max_min
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import normalize_dim
from .inplace import make_inplace


class Cumsum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        if x.dtype.kind == "V":  # bfloat16: accumulate in float32, round each output once (torch CPU)
            return ctx.xp.cumsum(x, axis=axis, dtype="float32").astype(x.dtype)
        return ctx.xp.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        return xp.flip(xp.cumsum(xp.flip(dy, ctx.axis), axis=ctx.axis), ctx.axis), None


class Cumprod(Function):
    """Cumulative product; backward y_j / x_i summed over j >= i (exact for nonzero inputs)."""

    @staticmethod
    def forward(ctx, x, axis):
        y = ctx.xp.cumprod(x, axis=axis, dtype="float32").astype(x.dtype) if x.dtype.kind == "V" else \
            ctx.xp.cumprod(x, axis=axis)
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        if dy.dtype.kind == "c":
            x, y = x.conj(), y.conj()
        return xp.flip(xp.cumsum(xp.flip(dy * y, axis), axis=axis), axis) / x, None


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "bi" and input._data.dtype.itemsize < 8:
        input = input.to(_dtype.int64)
    if input.ndim == 0:
        return input.clone()
    return Cumsum.apply(input, normalize_dim(dim, input.ndim, "cumsum"))


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if input.ndim == 0:
        return input.clone()
    return Cumprod.apply(input, normalize_dim(dim, input.ndim, "cumprod"))


class LogCumSumExp(Function):
    """y_i = log(sum_{j <= i} exp(x_j)) along ``axis``; dx_i = sum_{j >= i} dy_j exp(x_i - y_j)."""

    @staticmethod
    def forward(ctx, x, axis):
        y = ctx.xp.logaddexp.accumulate(x, axis=axis) if x.size else x.copy()
        ctx.save_for_backward(x, y)
        ctx.axis = axis
        return y

    @staticmethod
    def backward(ctx, dy):
        x, y = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        last = y.max(axis=axis, keepdims=True) if not isinstance(y, Tensor) else y.amax(axis, True).detach()
        last = xp.where(xp.isfinite(last), last, 0)
        w = dy * xp.exp(last - y)                                   # y is non-decreasing: bounded by exp(range)
        return xp.flip(xp.cumsum(xp.flip(w, axis), axis=axis), axis) * xp.exp(x - last), None


def logcumsumexp(input: Tensor, dim: int, *, out: Tensor | None = None) -> Tensor:
    from .creation import write_out

    x = input if input._data.dtype.kind in "fc" else input.to(_dtype.get_default_dtype())
    if x.ndim == 0:
        return write_out(out, x.clone(), "logcumsumexp")
    return write_out(out, LogCumSumExp.apply(x, normalize_dim(dim, x.ndim, "logcumsumexp")), "logcumsumexp")


def _cum_extreme(input: Tensor, dim: int, is_max: bool):
    from .indexing import gather

    name = "cummax" if is_max else "cummin"
    xp = input.device.backend.xp
    if input.ndim == 0:
        return max_min(name)(input.clone(), Tensor._make(xp.zeros((), "int64"), input.device))
    d = normalize_dim(dim, input.ndim, name)
    a = input._data
    run = (xp.maximum if is_max else xp.minimum).accumulate(a, axis=d) if a.size else a
    pos = xp.arange(a.shape[d]).reshape((-1,) + (1,) * (a.ndim - d - 1))
    hit = a == run                                                  # ties and NaNs: the latest index, as torch
    if a.dtype.kind in "fc":
        hit = hit | xp.isnan(a)
    idx = xp.maximum.accumulate(xp.where(hit, pos, 0), axis=d) if a.size else xp.zeros(a.shape, "int64")
    idx = Tensor._make(idx.astype("int64"), input.device)
    return max_min(name)(gather(input, d, idx), idx)


def cummax(input: Tensor, dim: int):
    """Running maximum along ``dim`` and the index where it was (the latest among ties)."""
    return _cum_extreme(input, dim, True)


def cummin(input: Tensor, dim: int):
    """Running minimum along ``dim`` and the index where it was (the latest among ties)."""
    return _cum_extreme(input, dim, False)


def _slice(t: Tensor, d: int, start: int | None, stop: int | None) -> Tensor:
    return t[(builtins.slice(None),) * d + (builtins.slice(start, stop),)]


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """n-th forward difference along ``dim`` (bool: ``!=``), after joining ``prepend``/``append``."""
    from .combine import cat

    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = normalize_dim(dim, input.ndim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        if x.shape[d] == 0:
            break
        a, b = _slice(x, d, 1, None), _slice(x, d, None, -1)
        x = (a != b) if x._data.dtype.kind == "b" else a - b
    return x


def _spacings(spacing: Any, dims: list[int]) -> list:
    if isinstance(spacing, (int, float)) or isinstance(spacing, Tensor) and spacing.ndim == 0:
        return [spacing] * len(dims)
    sp = list(spacing)
    if len(sp) == 1 and len(dims) > 1:
        sp = sp * len(dims)
    if len(sp) != len(dims):
        raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length {len(sp)} and a "
                           f"dim argument of length {len(dims)}.")
    return sp


def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple:
    """Central differences inside, one-sided (order 1 or 2) at the edges, per dim. -> one tensor per dim"""
    from .combine import cat

    if edge_order not in (1, 2):
        raise RuntimeError(f"torch.gradient only supports edge_order=1 and edge_order=2, got {edge_order}")
    dims = list(range(input.ndim)) if dim is None else [normalize_dim(d, input.ndim, "gradient") for d in
                                                         ((dim,) if isinstance(dim, int) else dim)]
    x = input if input._data.dtype.kind in "fc" else input.to(_dtype.get_default_dtype())
    out = []
    for d, h in zip(dims, _spacings(spacing, dims)):
        n = x.shape[d]
        if n < edge_order + 1:
            raise RuntimeError(f"torch.gradient expected each dimension size to be at least edge_order+1, got {n}")
        s = lambda a, b, d=d: _slice(x, d, a, b)  # noqa: E731
        if isinstance(h, Tensor) and h.ndim == 1:          # coordinates: non-uniform spacing
            if edge_order != 1:
                raise NotImplementedError("gradient: coordinate spacing supports edge_order=1 only in lamina")
            shape = [1] * x.ndim
            shape[d] = -1
            c = h.to(x.dtype).reshape(shape)
            dc = _slice(c, d, 1, None) - _slice(c, d, None, -1)
            hl, hr = _slice(dc, d, None, -1), _slice(dc, d, 1, None)
            mid = (hl * hl * s(2, None) - hr * hr * s(None, -2)
                   + (hr * hr - hl * hl) * s(1, -1)) / (hl * hr * (hl + hr))
            first = (s(1, 2) - s(0, 1)) / _slice(dc, d, 0, 1)
            last = (s(-1, None) - s(-2, -1)) / _slice(dc, d, -1, None)
        else:
            h = float(h.item() if isinstance(h, Tensor) else h)
            mid = (s(2, None) - s(None, -2)) / (2 * h)
            if edge_order == 1:
                first, last = (s(1, 2) - s(0, 1)) / h, (s(-1, None) - s(-2, -1)) / h
            else:
                first = (s(0, 1) * -1.5 + s(1, 2) * 2 - s(2, 3) * 0.5) / h
                last = (s(-3, -2) * 0.5 - s(-2, -1) * 2 + s(-1, None) * 1.5) / h
        out.append(cat([first, mid, last], d))
    return tuple(out)


def _trapz_terms(y: Tensor, x: Tensor | None, dx: Any, dim: int):
    d = normalize_dim(dim, y.ndim, "trapezoid")
    avg = (_slice(y, d, 1, None) + _slice(y, d, None, -1)) / 2
    if x is None:
        return (avg * dx if dx != 1 else avg), d
    if x.ndim == 1:
        shape = [1] * y.ndim
        shape[d] = -1
        x = x.reshape(shape)
    xd = normalize_dim(dim, x.ndim, "trapezoid")
    return avg * (_slice(x, xd, 1, None) - _slice(x, xd, None, -1)), d


def trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """Integral of ``y`` along ``dim`` by the trapezoidal rule (sample points ``x`` or spacing ``dx``)."""
    from .reduction import sum as _sum

    if isinstance(x, (int, float)):
        x, dx = None, x
    if y._data.dtype.kind in "biu":
        y = y.to(_dtype.get_default_dtype())
    terms, d = _trapz_terms(y, x, 1 if dx is None else dx, dim)
    return _sum(terms, d)


def trapz(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y: Tensor, x: Any = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """Running trapezoidal integral along ``dim`` (one fewer element)."""
    if isinstance(x, (int, float)):
        x, dx = None, x
    if y._data.dtype.kind in "biu":
        y = y.to(_dtype.get_default_dtype())
    terms, d = _trapz_terms(y, x, 1 if dx is None else dx, dim)
    return cumsum(terms, d)


class CumulativeMethods:
    """Scans and differences as ``Tensor`` methods."""

    __slots__ = ()
    cumsum = cumsum
    cumprod = cumprod
    cumsum_ = make_inplace("cumsum", cumsum)
    cumprod_ = make_inplace("cumprod", cumprod)
    cummax = cummax
    cummin = cummin
    logcumsumexp = logcumsumexp
    diff = diff
