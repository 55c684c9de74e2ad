"""Inverses and linear solves: inv, inv_ex, solve, solve_ex, solve_triangular, tensorinv, tensorsolve.

Gradients (X = A^-1 B): dB = A^-H dX, dA = -dB X^H; for Y = A^-1: dA = -Y^H dY Y^H. They are written
with the helpers of ``_ops``, so under create_graph they record a graph (double backward).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from . import _fast
from . import _ops as O
from ._common import (
    LinAlgError,
    batch_prefix,
    check_cpu,
    check_float,
    check_matrix,
    check_square,
    first_bad,
    no_out,
    per_matrix,
    result_type,
    torch_name,
)


def getrf_info(A: np.ndarray) -> np.ndarray:
    """LAPACK getrf's info per matrix (k > 0: U[k-1, k-1] is exactly zero). A: (*, n, n) -> (*) int32"""
    getrf = sla.get_lapack_funcs("getrf", (A,))
    return per_matrix(lambda a: np.array([[getrf(a)[2]]], np.int32), A)[..., 0, 0] if A.size else \
        np.zeros(A.shape[:-2], np.int32)


class Inv(Function):
    """Y = A^-1. A: (*, n, n) -> Y: (*, n, n)"""

    @staticmethod
    def forward(ctx, A, check):
        try:
            Y = _fast.inv(A) if _fast.usable(A) else None
            if Y is None:
                Y = np.linalg.inv(A)
            info = np.zeros(A.shape[:-2], np.int32)
        except np.linalg.LinAlgError:
            info = getrf_info(A)
            if check:
                k, d = first_bad(info)
                raise LinAlgError(f"linalg.inv: {batch_prefix(A.shape, k)}The diagonal element {d} is zero, the "
                                  "inversion could not be completed because the input matrix is singular.") from None
            Y = per_matrix(_inv_or_nan, A)
        ctx.save_for_backward(Y)
        ctx.mark_non_differentiable(info)
        return Y, info

    @staticmethod
    def backward(ctx, dY, dinfo):
        (Y,) = ctx.saved_tensors
        YH = O.mH(Y)
        return -(YH @ dY @ YH), None                                    # dA: (*, n, n)


def _inv_or_nan(a: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        return np.full_like(a, np.nan)


@autocast_op("fp32")
def inv_ex(A: Tensor, *, check_errors: bool = False, out: None = None):
    """(inverse, info) of square matrices; info (*) int32 is nonzero where A is singular.

    Shape: A (*, n, n) -> inverse (*, n, n), info (*)
    """
    no_out("linalg.inv_ex", out)
    check_square("linalg.inv", A)
    Y, info = Inv.apply(A, bool(check_errors))
    return result_type("linalg_inv_ex", ("inverse", "info"))(Y, info)


@autocast_op("fp32")
def inv(A: Tensor, *, out: None = None) -> Tensor:
    """Inverse of square matrices; raises ``LinAlgError`` for a singular one. Shape: (*, n, n) -> (*, n, n)"""
    no_out("linalg.inv", out)
    check_square("linalg.inv", A)
    return Inv.apply(A, True)[0]


class Solve(Function):
    """X = A^-1 B. A: (*, n, n), B: (*, n, k) -> X: (*, n, k) (batch dims broadcast)"""

    @staticmethod
    def forward(ctx, A, B, check):
        info = None
        ctx.factor = factor = _fast.lu_factor(A) if _fast.usable(A, B) else None
        try:
            X = _fast.solve(factor, B) if factor is not None else np.linalg.solve(A, B)
        except np.linalg.LinAlgError:
            info = getrf_info(A)
            if check:
                k, _ = first_bad(info)
                raise LinAlgError(f"torch.linalg.solve: {batch_prefix(A.shape, k)}The solver failed because the "
                                  "input matrix is singular.") from None
            X = per_matrix(_solve_or_nan, A, B)
        if info is None:
            info = np.zeros(A.shape[:-2], np.int32)                      # torch: one per matrix of A
        ctx.save_for_backward(A, X)
        ctx.mark_non_differentiable(info)
        return X, info

    @staticmethod
    def backward(ctx, dX, dinfo):
        A, X = ctx.saved_tensors
        if ctx.factor is not None and not O.is_t(dX):                   # A's LU from the forward: A^T dB = dX
            dB = _fast.solve(ctx.factor, dX, adjoint=True)
        else:
            dB = O.solve(O.mH(A), dX)                                   # (*, n, k)
        dA = -(dB @ O.mH(X)) if ctx.needs_input_grad[0] else None       # (*, n, n)
        return dA, dB, None


def _solve_or_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    try:
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        return np.full(b.shape, np.nan, np.result_type(a, b))


def _rhs(name: str, A: Tensor, B: Tensor, left: bool) -> tuple[Tensor, bool]:
    """B as (*, n, k) (left) or (*, k, n) (right), and whether it was a vector (torch's rule)."""
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    B2 = B.unsqueeze(-1) if vector else B
    n = A.shape[-1]
    rows, cols = B2.shape[-2], B2.shape[-1]
    if (left and rows != n) or (not left and cols != n):
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} "
                           f"({A.shape[-2]}x{A.shape[-1]} and {rows}x{cols})")
    return B2, vector


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out: None = None):
    """(result, info): the solution of AX = B (XA = B with left=False) and the LAPACK info per matrix.

    Shape: A (*, n, n), B (*, n, k) or (*, n) -> result like B (batch dims broadcast), info (*)
    """
    no_out("linalg.solve_ex", out)
    return _solve("linalg.solve", A, B, left, check_errors)


@autocast_op("fp32")
def solve(A: Tensor, B: Tensor, *, left: bool = True, out: None = None) -> Tensor:
    """Solution X of AX = B (XA = B with left=False); raises ``LinAlgError`` for a singular A.

    Shape: A (*, n, n), B (*, n, k) or (*, n) -> X of B's shape (batch dims broadcast)
    """
    no_out("linalg.solve", out)
    return _solve("linalg.solve", A, B, left, True).result


def _solve(name: str, A: Tensor, B: Tensor, left: bool, check: bool):
    check_square(name, A)
    check_cpu(name, B)
    check_float(name, B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{torch_name(A)} and B of type {torch_name(B)} instead")
    B2, vector = _rhs("linalg.solve", A, B, left)
    if left:
        X, info = Solve.apply(A, B2, check)
    else:  # X A = B  <=>  A^T X^T = B^T
        X, info = Solve.apply(A.mT, B2.mT, check)
        X = X.mT
    if vector:
        X = X.squeeze(-1)
    return result_type("linalg_solve_ex", ("result", "info"))(X, info)


class SolveTriangular(Function):
    """X = A^-1 B for triangular A (left). A: (*, n, n), B: (*, n, k) -> X: (*, n, k)"""

    @staticmethod
    def forward(ctx, A, B, upper, unitriangular):
        X = O.solve_tri_np(A, B, upper, True, unitriangular)
        ctx.save_for_backward(A, X)
        ctx.opts = (upper, unitriangular)
        return X

    @staticmethod
    def backward(ctx, dX):
        A, X = ctx.saved_tensors
        upper, unit = ctx.opts
        dB = O.solve_tri(O.mH(A), dX, not upper, True, unit)            # (*, n, k)
        dA = None
        if ctx.needs_input_grad[0]:
            g = -(dB @ O.mH(X))                                         # (*, n, n), only the read triangle
            k = 1 if unit else 0
            dA = O.triu(g, k) if upper else O.tril(g, -k)
        return dA, dB, None, None


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False,
                     out: None = None) -> Tensor:
    """Solution X of AX = B (XA = B with left=False) for triangular A (the other triangle is not read).

    Shape: A (*, n, n), B (*, n, k) (left) or (*, k, n) -> X of B's shape (batch dims broadcast)
    """
    name = "linalg.solve_triangular"
    no_out(name, out)
    check_square(name, A)
    check_cpu(name, B)
    check_matrix(name, B, "B")
    check_float(name, B)
    if A.dtype != B.dtype:
        wide = A.dtype if A.element_size() >= B.element_size() else B.dtype
        A, B = A.to(wide), B.to(wide)
    _rhs(name, A, B, left) if B.ndim > 1 else None
    if left:
        return SolveTriangular.apply(A, B, bool(upper), bool(unitriangular))
    return SolveTriangular.apply(A.mT, B.mT, not upper, bool(unitriangular)).mT


@autocast_op("fp32")
def tensorinv(A: Tensor, ind: int = 2, *, out: None = None) -> Tensor:
    """Inverse of A seen as a matrix prod(shape[:ind]) x prod(shape[ind:]).

    Shape: A (*I, *J) with prod(I) = prod(J) -> (*J, *I)
    """
    no_out("linalg.tensorinv", out)
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    left, right = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    p, q = math.prod(left), math.prod(right)
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {q} != {p}")
    return inv(A.reshape(p, q)).reshape(*right, *left)


@autocast_op("fp32")
def tensorsolve(A: Tensor, B: Tensor, dims: tuple[int, ...] | None = None, *, out: None = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B. Shape: A (*B, *X), B (*B) -> X (*X)"""
    no_out("linalg.tensorsolve", out)
    if dims is not None:
        nd = A.ndim
        dims = tuple(d % nd for d in dims)
        order = [d for d in range(nd) if d not in dims] + list(dims)
        A = A.permute(*order)
    xshape = tuple(A.shape[B.ndim:])
    p, q = B.numel(), math.prod(xshape)
    if tuple(A.shape[:B.ndim]) != tuple(B.shape) or p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {q} != {p}")
    return solve(A.reshape(p, q), B.reshape(p)).reshape(*xshape)

