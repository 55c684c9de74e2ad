"""Single-matrix LAPACK paths (CPU, real float32/float64, one 2-D matrix): the routines called directly on
the transposed, Fortran-ordered view of a C-ordered array, so that no copy is made on the way in or out.

NumPy's batched gufuncs copy each matrix into Fortran order and call the general drivers (gesv for solve
and inv); for one large matrix these calls are 1.5-4x faster. ``None`` means "take the general path"
(a batch, complex or an unusual layout, or a singular / non-PD matrix, whose error the caller reports).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg.blas as blas
import scipy.linalg.lapack as lapack
from lamina import get_num_threads

_REAL = (np.dtype(np.float32), np.dtype(np.float64))


def usable(*arrays: np.ndarray) -> bool:
    """One 2-D real matrix per argument, all of one dtype, C- or F-contiguous, non-empty."""
    dt = arrays[0].dtype
    return all(a.ndim == 2 and a.dtype == dt and a.size and (a.flags.c_contiguous or a.flags.f_contiguous)
               for a in arrays) and dt in _REAL


def _prefix(a: np.ndarray) -> str:
    return "s" if a.dtype == np.float32 else "d"


def _fview(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """(F-ordered array, whether it is a's transpose): a C-ordered a is passed as a.T, which is F-ordered."""
    return (a.T, True) if a.flags.c_contiguous else (a, False)


def lu_factor(A: np.ndarray):
    """(lu, piv, transposed) with A^T = P L U (transposed) or A = P L U, or None if A is singular."""
    F, transposed = _fview(A)
    lu, piv, info = getattr(lapack, _prefix(A) + "getrf")(F)
    return None if info != 0 else (lu, piv, transposed)


def _perm(piv: np.ndarray) -> np.ndarray:
    """perm with (P^T M)[i] = M[perm[i]] for getrf's 0-based sequential row swaps."""
    perm = np.arange(piv.shape[0])
    for i, p in enumerate(piv):
        if p != i:
            perm[i], perm[p] = perm[p], perm[i]
    return perm


def _left(lu: np.ndarray, piv: np.ndarray, B: np.ndarray) -> np.ndarray:
    """X with (P L U) X = B, as X^T = (P^T B)^T L^-T U^-T: right-side triangular solves, which OpenBLAS
    runs about 1.5x faster than left-side ones. B: (n, k) -> X^T: (k, n), F-ordered."""
    trsm = getattr(blas, _prefix(lu) + "trsm")
    Z = B[_perm(piv)].T                                                 # F-ordered view of the permuted rows
    Z = trsm(1.0, lu, Z, side=1, lower=1, trans_a=1, diag=1)
    return trsm(1.0, lu, Z, side=1, lower=0, trans_a=1, overwrite_b=1)


def _right(lu: np.ndarray, piv: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Y with Y (P L U) = B: B U^-1 L^-1 from the right, then the columns un-permuted. B: F-ordered."""
    trsm = getattr(blas, _prefix(lu) + "trsm")
    Z = trsm(1.0, lu, B, side=1, lower=0)
    Z = trsm(1.0, lu, Z, side=1, lower=1, diag=1, overwrite_b=1)
    Y = np.empty_like(Z)
    Y[:, _perm(piv)] = Z
    return Y


def solve(factor, B: np.ndarray, adjoint: bool = False) -> np.ndarray:
    """X with A X = B (A^T X = B with adjoint), A given by ``lu_factor``. B: (n, k) -> X: (n, k), C-ordered."""
    lu, piv, transposed = factor
    if transposed != adjoint:   # the factor is of M^T = A (or A^T): M^T X = B <=> X^T M = B^T
        return np.ascontiguousarray(_right(lu, piv, np.asfortranarray(B.T)).T)
    return np.ascontiguousarray(_left(lu, piv, B).T)


def inv(A: np.ndarray) -> np.ndarray | None:
    """A^-1 (C-ordered), or None if A is singular."""
    factor = lu_factor(A)
    if factor is None:
        return None
    lu, piv, transposed = factor
    if lu.shape[0] < _BLOCKED_MIN or get_num_threads() > 1:
        # two triangular solves on the identity beat getri (OpenBLAS: 0.51 vs 0.54 ms + its copies at n = 256);
        # with more threads OpenBLAS splits each large trsm, which the blocked form's small calls would not
        return solve(factor, np.eye(A.shape[0], dtype=A.dtype))
    Y = np.empty_like(lu)                                               # M^-1 of the factored M = P L U
    Y[:, _perm(piv)] = _inv_lu_blocked(lu)
    return Y.T if transposed else np.ascontiguousarray(Y)               # A^-1 = (A^T)^-T; F-ordered Y: Y.T is C


# from this order on, one-threaded inv runs the blocked U^-1 L^-1 below (n = 256, float32: 0.89 vs 1.00 ms median
# of 200 interleaved calls; at 2 threads it was slower, 1.03 vs 0.85)
_BLOCKED_MIN = 128
_NB = 64


def _inplace(result: np.ndarray, target: np.ndarray) -> None:
    """Copy a BLAS wrapper's result into ``target`` unless it already wrote there (overwrite_* honoured)."""
    if not np.shares_memory(result, target):
        target[...] = result


def _inv_lu_blocked(lu: np.ndarray) -> np.ndarray:
    """(L U)^-1 = U^-1 L^-1 from getrf's packed F-ordered factors, blocked so that most flops are GEMMs:
    W = U^-1 one block column at a time (W[:a, a:b] = -W[:a, :a] U[:a, a:b] U_bb^-1), then Z with Z L = W from
    the right, block columns right to left (Z_b = (W_b - Z[:, b:] L[b:, b]) L_bb^-1). The diagonal blocks'
    inverses come from trtri; their condition is at most the factor's. lu: (n, n) F-ordered -> (n, n) F-ordered
    """
    p = _prefix(lu)
    trtri, trmm = getattr(lapack, p + "trtri"), getattr(blas, p + "trmm")
    gemm = getattr(blas, p + "gemm")
    n = lu.shape[0]
    cuts = list(range(0, n, _NB)) + [n]
    blocks = list(zip(cuts[:-1], cuts[1:]))
    W = np.zeros((n, n), lu.dtype, order="F")
    for a, b in blocks:
        iu = np.triu(trtri(lu[a:b, a:b], lower=0)[0])
        if a:
            T = trmm(-1.0, W[:a, :a], lu[:a, a:b], side=0, lower=0)   # -W11 U12
            W[:a, a:b] = trmm(1.0, iu, T, side=1, lower=0, overwrite_b=1)
        W[a:b, a:b] = iu
    for a, b in reversed(blocks):
        zb = W[:, a:b]                                                  # F-contiguous: written in place
        if b < n:
            _inplace(gemm(-1.0, W[:, b:], lu[b:, a:b], 1.0, zb, overwrite_c=1), zb)
        il = trtri(lu[a:b, a:b], lower=1, unitdiag=1)[0]
        _inplace(trmm(1.0, il, zb, side=1, lower=1, diag=1, overwrite_b=1), zb)
    return W


def cholesky(A: np.ndarray) -> np.ndarray | None:
    """Lower L with A = L L^T from A's lower triangle (C-ordered), or None if A is not positive-definite."""
    F, transposed = _fview(A)
    # A^T's upper triangle is A's lower one: A = U^T U there, L = U^T
    c, info = getattr(lapack, _prefix(A) + "potrf")(F, lower=0 if transposed else 1, clean=1)
    if info != 0:
        return None
    return np.ascontiguousarray(c.T if transposed else c)


def svd(A: np.ndarray, full_matrices: bool):
    """(U, S, Vh) of A by gesdd, or None if it did not converge.

    gesdd runs on A itself (a Fortran-ordered copy), not on A^T, so the singular vectors' signs are those
    torch and NumPy give (both factor A the same way).
    """
    u, s, vt, info = getattr(lapack, _prefix(A) + "gesdd")(np.asfortranarray(A), compute_uv=1,
                                                           full_matrices=int(full_matrices), overwrite_a=1)
    if info != 0:
        return None
    return np.ascontiguousarray(u), s, np.ascontiguousarray(vt)


def svdvals(A: np.ndarray) -> np.ndarray | None:
    """Singular values of A (descending) by gesdd without vectors, or None if it did not converge."""
    F, _ = _fview(A)
    _, s, _, info = getattr(lapack, _prefix(A) + "gesdd")(F, compute_uv=0)
    return None if info != 0 else s
