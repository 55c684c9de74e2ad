"""Matrix helpers that backward formulas are written with, on arrays or on Tensors.

A backward runs on NumPy arrays normally and on Tensors under ``create_graph=True``. Each helper
here takes either: arrays go to NumPy/SciPy, Tensors to a differentiable op (lamina's own or one
of this plugin's Functions), so the same formula records a graph and double backward works.
"""

from __future__ import annotations

from typing import Any

import lamina
import numpy as np
import scipy.linalg as sla
from lamina import Tensor
from lamina.autograd import Function

from ._common import as_tensor, per_matrix


def is_t(x: Any) -> bool:
    return isinstance(x, Tensor)


def mT(x: Any) -> Any:
    """Transpose of the last two dims. x: (*, m, n) -> (*, n, m)"""
    return x.mT if is_t(x) else x.swapaxes(-1, -2)


class Conj(Function):
    """Complex conjugate. x: (*) -> (*)"""

    @staticmethod
    def forward(ctx, x):
        return np.conj(x)

    @staticmethod
    def backward(ctx, dy):
        return conj(dy)


class Real(Function):
    """Real part of a complex tensor. x: (*) complex -> (*) real"""

    @staticmethod
    def forward(ctx, x):
        ctx.dtype = x.dtype
        return np.ascontiguousarray(x.real)

    @staticmethod
    def backward(ctx, dy):
        return dy.to(getattr(__import__("lamina"), str(ctx.dtype))) if is_t(dy) else dy.astype(ctx.dtype)


def conj(x: Any) -> Any:
    if is_t(x):
        return Conj.apply(x) if x.is_complex() else x
    return x.conj() if np.iscomplexobj(x) else x


def mH(x: Any) -> Any:
    """Conjugate transpose of the last two dims."""
    return conj(mT(x))


def real(x: Any) -> Any:
    if is_t(x):
        return Real.apply(x) if x.is_complex() else x
    return x.real if np.iscomplexobj(x) else x


def const(a: np.ndarray, like: Any) -> Any:
    """A constant (mask, identity) in ``like``'s kind and dtype."""
    a = np.asarray(a, dtype=_np_dtype(like))
    return as_tensor(a, like) if is_t(like) else a


def _np_dtype(x: Any) -> Any:
    if is_t(x):
        return np.dtype(x.dtype.name)
    return x.dtype


def eye(n: int, like: Any) -> Any:
    return const(np.eye(n), like)


def tril(x: Any, k: int = 0) -> Any:
    m, n = x.shape[-2], x.shape[-1]
    mask = np.tri(m, n, k, dtype=bool)
    if is_t(x):
        return x * const(mask, x)
    return np.where(mask, x, 0)


def triu(x: Any, k: int = 0) -> Any:
    m, n = x.shape[-2], x.shape[-1]
    mask = ~np.tri(m, n, k - 1, dtype=bool)
    if is_t(x):
        return x * const(mask, x)
    return np.where(mask, x, 0)


class Diagonal(Function):
    """Diagonal of the last two dims. x: (*, m, n) -> (*, min(m, n))"""

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return np.diagonal(x, axis1=-2, axis2=-1).copy()

    @staticmethod
    def backward(ctx, dy):
        m, n = ctx.shape[-2:]
        return diag_embed(dy, m, n)


class DiagEmbed(Function):
    """Square or rectangular matrix with ``v`` on its diagonal. v: (*, k) -> (*, m, n)"""

    @staticmethod
    def forward(ctx, v, m, n):
        out = np.zeros(v.shape[:-1] + (m, n), v.dtype)
        k = min(m, n)
        idx = np.arange(k)
        out[..., idx, idx] = v[..., :k]
        return out

    @staticmethod
    def backward(ctx, dy):
        return diagonal(dy), None, None


def diagonal(x: Any) -> Any:
    return Diagonal.apply(x) if is_t(x) else np.diagonal(x, axis1=-2, axis2=-1)


def diag_embed(v: Any, m: int | None = None, n: int | None = None) -> Any:
    k = v.shape[-1]
    m = k if m is None else m
    n = m if n is None else n
    if is_t(v):
        return DiagEmbed.apply(v, m, n)
    return DiagEmbed.forward(None, v, m, n)


def scale_cols(x: Any, v: Any) -> Any:
    """x * v[..., None, :]: column j of x times v_j."""
    return x * (v.unsqueeze(-2) if is_t(v) else v[..., None, :])


def scale_rows(x: Any, v: Any) -> Any:
    """x * v[..., :, None]: row i of x times v_i."""
    return x * (v.unsqueeze(-1) if is_t(v) else v[..., :, None])


def solve(A: Any, B: Any) -> Any:
    """A^-1 B. A: (*, n, n), B: (*, n, k) -> (*, n, k)"""
    if is_t(A) or is_t(B):
        from .solve import solve as _solve
        A, B = _tensor_pair(A, B)
        return _solve(A, B)
    return np.linalg.solve(A, B)


def inv(A: Any) -> Any:
    if is_t(A):
        from .solve import inv as _inv
        return _inv(A)
    return np.linalg.inv(A)


def solve_tri(A: Any, B: Any, upper: bool, left: bool = True, unitriangular: bool = False) -> Any:
    """A^-1 B (left) or B A^-1 (right) for triangular A (only its ``upper`` / lower triangle is read)."""
    if is_t(A) or is_t(B):
        from .solve import solve_triangular
        A, B = _tensor_pair(A, B)
        return solve_triangular(A, B, upper=upper, left=left, unitriangular=unitriangular)
    return solve_tri_np(A, B, upper, left, unitriangular)


def solve_tri_np(A: np.ndarray, B: np.ndarray, upper: bool, left: bool = True,
                 unitriangular: bool = False) -> np.ndarray:
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return solve_tri_np(A.swapaxes(-1, -2), B.swapaxes(-1, -2), not upper, True, unitriangular).swapaxes(-1, -2)
    dt = np.result_type(A, B)
    return per_matrix(lambda a, b: sla.solve_triangular(a, b, lower=not upper, unit_diagonal=unitriangular,
                                                        check_finite=False).astype(dt, copy=False), A, B)


def matmul(a: Any, b: Any) -> Any:
    return a @ b


def _tensor_pair(A: Any, B: Any) -> tuple[Tensor, Tensor]:
    like = A if is_t(A) else B
    return (A if is_t(A) else as_tensor(A, like)), (B if is_t(B) else as_tensor(B, like))


def unsqueeze(x: Any, axis: int) -> Any:
    return x.unsqueeze(axis) if is_t(x) else np.expand_dims(x, axis)


def xsum(x: Any, axis: Any, keepdims: bool = False) -> Any:
    return x.sum(axis, keepdim=keepdims) if is_t(x) else x.sum(axis=axis, keepdims=keepdims)


def where(cond: np.ndarray, x: Any, y: Any) -> Any:
    if is_t(x) or is_t(y):
        like = x if is_t(x) else y
        return lamina.where(as_tensor(np.asarray(cond), like), x, y)
    return np.where(cond, x, y)


def cat(xs: list, axis: int) -> Any:
    if any(is_t(x) for x in xs):
        like = next(x for x in xs if is_t(x))
        return lamina.cat([x if is_t(x) else as_tensor(x, like) for x in xs], axis)
    return np.concatenate(xs, axis)


def off_diag_reciprocal(w: Any) -> Any:
    """F_ij = 1 / (w_j - w_i) for i != j, 0 on the diagonal. w: (*, k) -> (*, k, k)"""
    k = w.shape[-1]
    I = eye(k, w)
    E = unsqueeze(w, -2) - unsqueeze(w, -1) + I                       # E_ij = w_j - w_i, 1 on the diagonal
    return (1 - I) / E
