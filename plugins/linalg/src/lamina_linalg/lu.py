"""LU and LDL: lu, lu_factor, lu_factor_ex, lu_solve, ldl_factor, ldl_factor_ex, ldl_solve (linalg), and
torch's lu, lu_solve, lu_unpack.

A = P L U (partial pivoting, LAPACK getrf; pivots are 1-based row swaps, int32). Gradient of the packed
factor of a square A (dL strictly lower, dU upper): dA = P L^-H (tril(L^H dL, -1) + triu(dU U^H)) U^-H.
lu_solve and lu_unpack are compositions of differentiable ops (triangular solves, masks, a constant
permutation). LDL (sytrf / hetrf) has no gradient, as in torch.
"""

from __future__ import annotations

import lamina
import numpy as np
import scipy.linalg as sla
from lamina import Tensor
from lamina.autograd import Function

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
    warn_once,
)


def _getrf(a: np.ndarray):
    getrf = sla.get_lapack_funcs("getrf", (a,))
    lu, piv, info = getrf(a)
    return lu.astype(a.dtype, copy=False), (piv[: min(a.shape)] + 1).astype(np.int32).reshape(1, -1), \
        np.array([[info]], np.int32)


def perm_matrix(pivots: np.ndarray, m: int, dtype) -> np.ndarray:
    """P with A = P L U from 1-based row swaps. pivots: (*, k) -> P: (*, m, m)"""
    batch = pivots.shape[:-1]
    perm = np.broadcast_to(np.arange(m), batch + (m,)).copy()          # row r of L U is row perm[r] of A
    for i in range(pivots.shape[-1]):
        j = pivots[..., i:i + 1].astype(np.int64) - 1                   # (*, 1)
        pi = perm[..., i:i + 1].copy()
        perm[..., i:i + 1] = np.take_along_axis(perm, j, -1)
        np.put_along_axis(perm, j, pi, -1)
    P = np.zeros(batch + (m, m), dtype)
    np.put_along_axis(P, perm[..., None, :], 1, -2)                     # P[perm[r], r] = 1
    return P


class LUFactor(Function):
    """Packed LU of A = P L U. A: (*, m, n) -> LU: (*, m, n), pivots: (*, k), info: (*)"""

    @staticmethod
    def forward(ctx, A):
        LU, piv, info = per_matrix(_getrf, A, n_out=3)
        piv, info = piv[..., 0, :], info[..., 0, 0]
        ctx.save_for_backward(LU)
        ctx.piv = piv
        ctx.mark_non_differentiable(piv, info)
        return LU, piv, info

    @staticmethod
    def backward(ctx, dLU, dpiv, dinfo):
        (LU,) = ctx.saved_tensors
        m, n = LU.shape[-2:]
        if m != n:
            raise NotImplementedError("lu_factor: lamina-linalg's LU gradient covers square matrices only, got "
                                      f"{m} by {n}")
        P = O.const(perm_matrix(ctx.piv, m, np.float64), LU)
        L = O.tril(LU, -1) + O.eye(m, LU)
        U = O.triu(LU)
        inner = O.tril(O.mH(L) @ O.tril(dLU, -1), -1) + O.triu(O.triu(dLU) @ O.mH(U))
        X = O.solve_tri(O.mH(L), inner, upper=True, unitriangular=True)  # L^-H inner
        X = O.solve_tri(O.mH(U), X, upper=False, left=False)            # ... U^-H
        return P @ X                                                     # dA: (*, n, n)


def _pivot(name: str, pivot: bool) -> None:
    if not pivot:
        raise RuntimeError(f"{name}: LU without pivoting is not implemented on the CPU")


def _factor(name: str, A: Tensor, pivot: bool):
    check_cpu(name, A)
    if A.ndim < 2:
        raise RuntimeError(f"torch.lu_factor: Expected tensor with 2 or more dimensions. Got size: {list(A.shape)} "
                           "instead")
    if A.dtype.name.startswith(("int", "uint", "bool")):
        from ._common import torch_name
        raise NotImplementedError(f'"lu_cpu" not implemented for \'{torch_name(A)}\'')
    check_float(name, A)
    _pivot(name, pivot)
    return LUFactor.apply(A)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out: None = None):
    """(LU, pivots, info): packed LU factor, 1-based int32 pivots, getrf's info (k > 0: U[k-1, k-1] = 0).

    Shape: A (*, m, n) -> LU (*, m, n), pivots (*, min(m, n)), info (*)
    """
    no_out("linalg.lu_factor_ex", out)
    LU, piv, info = _factor("linalg.lu_factor_ex", A, pivot)
    if check_errors and bool((info.numpy() != 0).any()):
        _singular(info.numpy(), A.shape)
    return result_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))(LU, piv, info)


def _singular(info: np.ndarray, shape: tuple) -> None:
    k, d = first_bad(info)
    raise RuntimeError(f"torch.linalg.lu_factor: {batch_prefix(shape, k)}U[{d},{d}] is zero and using it on "
                       "lu_solve would result in a division by zero. If you still want to perform the "
                       "factorization, consider calling linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)")


def lu_factor(A: Tensor, *, pivot: bool = True, out: None = None):
    """(LU, pivots); raises where U has a zero diagonal element. Shape: A (*, m, n) -> (*, m, n), (*, k)"""
    no_out("linalg.lu_factor", out)
    LU, piv, info = _factor("linalg.lu_factor", A, pivot)
    if bool((info.numpy() != 0).any()):
        _singular(info.numpy(), A.shape)
    return result_type("linalg_lu_factor", ("LU", "pivots"))(LU, piv)


def _unpack(LU: Tensor, pivots: Tensor, data: bool, perm: bool):
    m, n = LU.shape[-2:]
    k = min(m, n)
    if data:
        L = O.tril(LU[..., :, :k], -1) + O.const(np.eye(m, k), LU)
        U = O.triu(LU[..., :k, :])
    else:
        L = U = lamina.zeros(0, dtype=LU.dtype)
    if perm:
        P = lamina.as_tensor(perm_matrix(pivots.numpy(), m, np.dtype(LU.dtype.name)))
    else:
        P = lamina.zeros(0, dtype=LU.dtype)
    return P, L, U


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True, *,
              out: None = None):
    """(P, L, U) from a packed LU factor and its pivots (empty tensors for parts not unpacked).

    Shape: LU_data (*, m, n), LU_pivots (*, k) -> P (*, m, m), L (*, m, k), U (*, k, n)
    """
    no_out("lu_unpack", out)
    check_cpu("lu_unpack", LU_data, LU_pivots)
    if LU_pivots.dtype.name != "int32":
        raise RuntimeError("torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
                           "dtype. Note: this function is intended to be used with the output produced by "
                           "torch.linalg.lu_factor")
    P, L, U = _unpack(LU_data, LU_pivots, bool(unpack_data), bool(unpack_pivots))
    return result_type("lu_unpack", ("P", "L", "U"))(P, L, U)


def lu(A: Tensor, *, pivot: bool = True, out: None = None):
    """(P, L, U) with A = P L U, L unit lower triangular. Shape: A (*, m, n) -> (*, m, m), (*, m, k), (*, k, n)"""
    no_out("linalg.lu", out)
    LU, piv, _ = _factor("linalg.lu", A, pivot)
    P, L, U = _unpack(LU, piv, True, True)
    return result_type("linalg_lu", ("P", "L", "U"))(P, L, U)


def lu_solve(LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False,
             out: None = None) -> Tensor:
    """X with AX = B (A^H X = B with adjoint; XA = B with left=False), A = P L U given as (LU, pivots).

    Shape: LU (*, n, n), pivots (*, n), B (*, n, k) (left) or (*, k, n) -> X of B's shape
    """
    name = "linalg.lu_solve"
    no_out(name, out)
    check_square(name, LU, "LU")
    check_cpu(name, pivots, B)
    check_matrix(name, B, "B")
    n = LU.shape[-1]
    if (left and B.shape[-2] != n) or (not left and B.shape[-1] != n):
        eq = "AX = B" if left else "XA = B"
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation {eq} ({n}x{n} and "
                           f"{B.shape[-2]}x{B.shape[-1]})")
    if not left:   # X A = B <=> A^H X^H = B^H, X A^H = B <=> A X^H = B^H
        return O.mH(lu_solve(LU, pivots, O.mH(B), left=True, adjoint=not adjoint))
    P = O.const(perm_matrix(pivots.numpy(), n, np.float64), LU)
    L, U = O.tril(LU, -1) + O.eye(n, LU), O.triu(LU)
    if adjoint:    # U^H L^H P^T X = B
        Y = O.solve_tri(O.mH(U), B, upper=False)
        Y = O.solve_tri(O.mH(L), Y, upper=True, unitriangular=True)
        return P @ Y
    Y = O.solve_tri(L, P.mT @ B, upper=False, unitriangular=True)
    return O.solve_tri(U, Y, upper=True)


def top_lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out: None = None):
    """torch.lu (deprecated): (LU, pivots) or, with get_infos, (LU, pivots, infos)."""
    warn_once("torch.lu",
              "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex and will "
                  "be removed in a future PyTorch release.")
    LU, piv, info = _factor("torch.lu", A, pivot)
    if get_infos:
        return result_type("_lu_with_info", ("LU", "pivots", "info"))(LU, piv, info)
    if bool((info.numpy() != 0).any()):
        _singular(info.numpy(), A.shape)
    return LU, piv


def top_lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out: None = None) -> Tensor:
    """torch.lu_solve(b, LU_data, LU_pivots) = linalg.lu_solve(LU_data, LU_pivots, b) (deprecated)."""
    warn_once("torch.lu_solve",
              "torch.lu_solve is deprecated in favor of torch.linalg.lu_solveand will be removed in a future PyTorch "
              "release.\nNote that torch.linalg.lu_solve has its arguments reversed.\nX = torch.lu_solve(B, LU, "
              "pivots)\nshould be replaced with\nX = torch.linalg.lu_solve(LU, pivots, B)")
    return lu_solve(LU_data, LU_pivots, b, out=out)


def _sytrf(hermitian: bool):
    def one(a):
        kind = "hetrf" if hermitian and np.iscomplexobj(a) else "sytrf"
        fn = sla.get_lapack_funcs(kind, (a,))
        ld, piv, info = fn(a, lower=1)
        return np.tril(ld).astype(a.dtype, copy=False), piv.astype(np.int32).reshape(1, -1), \
            np.array([[info]], np.int32)
    return one


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out: None = None):
    """(LD, pivots, info): LAPACK sytrf's compact LDL^T (LDL^H with hermitian) of symmetric A, lower.

    Shape: A (*, n, n) -> LD (*, n, n), pivots (*, n) int32, info (*) int32. Not differentiable.
    """
    name = "torch.linalg.ldl_factor_ex"
    no_out(name, out)
    check_square(name, A)
    x = A.detach().numpy()
    LD, piv, info = per_matrix(_sytrf(bool(hermitian)), x, n_out=3)
    piv, info = piv[..., 0, :], info[..., 0, 0]
    if check_errors and bool((info != 0).any()):
        k, d = first_bad(info)
        raise LinAlgError(f"{name}: {batch_prefix(x.shape, k)}The factorization could not be completed because "
                          f"the input is singular (D[{d},{d}] is exactly zero).")
    return result_type("linalg_ldl_factor_ex", ("LD", "pivots", "info"))(
        lamina.as_tensor(LD), lamina.as_tensor(piv), lamina.as_tensor(info))


def ldl_factor(A: Tensor, *, hermitian: bool = False, out: None = None):
    """(LD, pivots) as ldl_factor_ex, raising ``LinAlgError`` for a singular A."""
    no_out("linalg.ldl_factor", out)
    r = ldl_factor_ex(A, hermitian=hermitian, check_errors=True)
    return result_type("linalg_ldl_factor", ("LD", "pivots"))(r.LD, r.pivots)


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False, out: None = None) -> Tensor:
    """X with A X = B from ldl_factor's (LD, pivots) (LAPACK sytrs / hetrs). Not differentiable.

    Shape: LD (*, n, n), pivots (*, n), B (*, n, k) -> X (*, n, k)
    """
    name = "torch.linalg.ldl_solve"
    no_out(name, out)
    check_square("linalg.ldl_solve", LD, "LD")
    check_cpu(name, pivots, B)
    check_matrix("linalg.ldl_solve", B, "B")
    if B.shape[-2] != LD.shape[-1]:
        raise RuntimeError(f"{name}: Incompatible shapes of A and B for the equation AX = B "
                           f"({LD.shape[-2]}x{LD.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    if B.dtype != LD.dtype:
        raise RuntimeError(f"{name}: LD dtype {LD.dtype} does not match B dtype {B.dtype}")
    piv = pivots.numpy()[..., None, :]

    def one(ld, p, b):
        kind = "hetrs" if hermitian and np.iscomplexobj(ld) else "sytrs"
        fn = sla.get_lapack_funcs(kind, (ld, b))
        x, info = fn(ld, p[0], b, lower=1)
        return x.astype(b.dtype, copy=False)

    return lamina.as_tensor(per_matrix(one, LD.detach().numpy(), piv, B.detach().numpy()))
