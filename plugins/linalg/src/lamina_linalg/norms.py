"""Norms: vector_norm, matrix_norm, norm, cond (linalg) and torch's nuclear_norm, frobenius_norm.

The vector norm is one Function whose backward is written with ``ctx.xp`` (double backward) and is 0,
not NaN, at a zero vector; matrix norms compose it with svdvals, sums and max/min.
"""

from __future__ import annotations

import math

import lamina
import numpy as np
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from ._common import check_cpu, check_float, check_matrix, check_square, no_out, warn_once

_INF = math.inf


class VectorNorm(Function):
    """||x||_ord over ``axes`` of a real tensor. x: (*) -> reduced (keepdim as given)"""

    @staticmethod
    def forward(ctx, x, ord, axes, keepdim):
        a = np.abs(x)
        if ord == 2:
            y = np.sqrt((x * x).sum(axis=axes, keepdims=True))
        elif ord == 1:
            y = a.sum(axis=axes, keepdims=True)
        elif ord == _INF:
            y = a.max(axis=axes, keepdims=True, initial=0)
        elif ord == -_INF:
            y = a.min(axis=axes, keepdims=True)
        elif ord == 0:
            y = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
        else:
            y = (a ** ord).sum(axis=axes, keepdims=True) ** (1.0 / ord)
        ctx.save_for_backward(x)
        ctx.opts = (ord, axes, keepdim, y.shape)
        return y if keepdim else y.reshape(tuple(s for i, s in enumerate(y.shape) if i not in axes))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        ord, axes, keepdim, kshape = ctx.opts
        g = xp.reshape(dy, kshape)
        if ord == 0:
            return x * 0, None, None, None
        if ord == 1:
            return g * xp.sign(x), None, None, None
        a = xp.abs(x)
        if ord == 2:  # the norm is recomputed from x, so double backward sees its dependence on x
            n = xp.sqrt(xp.sum(x * x, axis=axes, keepdims=True))
            return g * x / xp.where(n > 0, n, 1), None, None, None
        if ord in (_INF, -_INF):
            n = _extreme(a, axes, ord)
            hit = xp.where(a == n, xp.ones_like(a), xp.zeros_like(a))  # ties share the gradient evenly
            return g * xp.sign(x) * hit / xp.sum(hit, axis=axes, keepdims=True), None, None, None
        n = xp.sum(a ** ord, axis=axes, keepdims=True) ** (1.0 / ord)
        safe_a = xp.where(a > 0, a, 1)
        safe_n = xp.where(n > 0, n, 1)
        return g * xp.sign(x) * safe_a ** (ord - 1) / safe_n ** (ord - 1), None, None, None


def _extreme(a, axes, ord):
    """max (ord = inf) or min |x| over axes, kept; a constant under create_graph (only its ties matter)."""
    if isinstance(a, np.ndarray):
        return a.max(axis=axes, keepdims=True) if ord > 0 else a.min(axis=axes, keepdims=True)
    t = a.detach()
    for ax in sorted(axes, reverse=True):
        t = t.amax(ax, keepdim=True) if ord > 0 else t.amin(ax, keepdim=True)
    return t


def _axes(name: str, x: Tensor, dim) -> tuple[int, ...]:
    n = max(x.ndim, 1)
    if dim is None:
        return tuple(range(x.ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(d % n)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{name}: dim {list(dims)} appears multiple times in the list of dims")
    return tuple(out)


def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None,
                out: None = None) -> Tensor:
    """||x||_ord over ``dim`` (all dims by default): ord any real, inf, -inf or 0 (nonzero count).

    Shape: x (*) -> x's shape without ``dim`` (kept as 1 with keepdim); real for complex x
    """
    name = "linalg.vector_norm"
    no_out(name, out)
    check_cpu(name, x)
    check_float(name, x)
    if dtype is not None:
        x = x.to(dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Expected a number as ord, got {ord!r}")
    axes = _axes(name, x, dim)
    if x.ndim == 0:
        x, axes, squeeze0 = x.reshape(1), (0,), True
    else:
        squeeze0 = False
    if ord in (-_INF,) or (ord < 0 and ord != -_INF) or ord == _INF:
        for ax in axes:
            if x.shape[ax] == 0 and ord != _INF:
                raise RuntimeError(f"linalg.vector_norm cannot compute the {ord} norm on an empty tensor because "
                                   "the operation does not have an identity")
    if x.is_complex():
        x = x.abs()
    y = VectorNorm.apply(x, float(ord), axes, bool(keepdim))
    return y.reshape(()) if squeeze0 and not keepdim else y


def _move_last(A: Tensor, d0: int, d1: int) -> Tensor:
    return A.movedim((d0, d1), (-2, -1))


def _restore(y: Tensor, A: Tensor, d0: int, d1: int, keepdim: bool) -> Tensor:
    if keepdim:
        for d in sorted((d0, d1)):
            y = y.unsqueeze(d)
    return y


def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None,
                out: None = None) -> Tensor:
    """Matrix norm over the two ``dim``: 'fro', 'nuc', 2, -2 (singular values), 1, -1, inf, -inf.

    Shape: A (*, m, n) -> (*) (the two dims kept as 1 with keepdim)
    """
    name = "linalg.matrix_norm"
    no_out(name, out)
    check_cpu(name, A)
    check_matrix(name, A)
    check_float(name, A)
    if dtype is not None:
        A = A.to(dtype)
    d0, d1 = _axes(name, A, dim) if len(tuple(dim)) == 2 else (None, None)
    if d0 is None:
        raise RuntimeError(f"{name}: dim must be a 2-tuple. Got {' '.join(map(str, dim))}")
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        from .svd import svdvals
        S = svdvals(_move_last(A, d0, d1))
        y = S.sum(-1) if ord == "nuc" else (S[..., 0] if ord == 2 else S[..., -1])
        return _restore(y, A, d0, d1, keepdim)
    if ord in (1, -1, _INF, -_INF):
        summed, reduced = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = vector_norm(A, 1, summed, True)
        y = s.amax(reduced, keepdim=True) if ord > 0 else s.amin(reduced, keepdim=True)
        if not keepdim:
            y = y.squeeze(max(d0, d1)).squeeze(min(d0, d1))
        return y
    raise RuntimeError(f"{name}: Order {ord} not supported.")


def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, out: None = None, dtype=None) -> Tensor:
    """Vector or matrix norm, chosen by ``dim`` (int: vector, 2-tuple: matrix) or, without it, by A's rank."""
    no_out("linalg.norm", out)
    if dim is not None:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        if len(dims) == 2:
            return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {list(dims)}")
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if isinstance(ord, str) or A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
                       f"Got {A.ndim}D.")


@autocast_op("fp32")
def cond(A: Tensor, p=None, *, out: None = None) -> Tensor:
    """Condition number in the ``p`` norm (None / 2 / -2: singular values; others: ||A|| ||A^-1||, inf if
    singular). Shape: A (*, m, n) -> (*)"""
    name = "linalg.cond"
    no_out(name, out)
    check_cpu(name, A)
    if A.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    check_float(name, A)
    if p is None or p in (2, -2):
        from .svd import svdvals
        S = svdvals(A)
        if S.shape[-1] == 0:
            return lamina.zeros(*S.shape[:-1], dtype=S.dtype)
        return S[..., 0] / S[..., -1] if p != -2 else S[..., -1] / S[..., 0]
    if p not in ("fro", "nuc", 1, -1, _INF, -_INF):
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.shape[-1] != A.shape[-2]:
        check_square(f"linalg.cond(ord={p})", A)
    from .solve import inv_ex
    Ainv, info = inv_ex(A)
    y = matrix_norm(A, p) * matrix_norm(Ainv, p)
    bad = info.numpy() != 0
    if bad.any():
        y = lamina.where(lamina.as_tensor(bad), lamina.full_like(y, math.inf), y)
    return y


def nuclear_norm(input: Tensor, dim=None, keepdim: bool = False, *, out: None = None) -> Tensor:
    """torch.nuclear_norm (deprecated): the 'nuc' matrix norm over ``dim`` (a 2-tuple; the last two by default)."""
    warn_once("nuclear_norm",
              "at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in a "
              "future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead")
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)


def frobenius_norm(input: Tensor, dim, keepdim: bool = False, *, out: None = None) -> Tensor:
    """torch.frobenius_norm (deprecated): the 2-norm of the entries over ``dim`` (1 or 2 dims)."""
    warn_once("frobenius_norm",
              "at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be removed in a "
              "future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead")
    if dim is None or isinstance(dim, bool):
        raise TypeError(f"frobenius_norm(): argument 'dim' (position 2) must be tuple of ints, not "
                        f"{type(dim).__name__ if dim is not None else 'NoneType'}")
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    return vector_norm(input, 2, dims, keepdim, out=out)
