"""Randomised low-rank SVD and PCA (Halko, Martinsson and Tropp 2009, algorithm 5.1): svd_lowrank,
pca_lowrank, composed of lamina ops (differentiable through qr and svd). Dense inputs only."""

from __future__ import annotations

import lamina
from lamina import Tensor

from .qr import qr
from .svd import svd


def _basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """Q (*, m, q) with orthonormal columns spanning (approximately) the range of A - M."""
    R = lamina.randn(A.shape[-1], q, dtype=A.dtype)

    def times(X, Y, Z):
        return X @ Z if Y is None else X @ Z - Y @ Z

    Q = qr(times(A, M, R)).Q
    for _ in range(niter):
        Q = qr(times(A.mH, None if M is None else M.mH, Q)).Q
        Q = qr(times(A, M, Q)).Q
    return Q


def svd_lowrank(A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None):
    """(U, S, V) with A - M ~ U diag(S) V^H of rank q (random projections; seed lamina for repeatability).

    Shape: A (*, m, n) -> U (*, m, q), S (*, q), V (*, n, q)
    """
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(tuple(A.shape))
    if m < n:
        A = A.mH
        M = None if M is None else M.mH
    Q = _basis(A, q, niter, M)
    B = Q.mH @ A if M is None else Q.mH @ A - Q.mH @ M
    U, S, Vh = svd(B, full_matrices=False)
    U, V = Q @ U, Vh.mH
    return (V, S, U) if m < n else (U, S, V)


def pca_lowrank(A: Tensor, q: int | None = None, center: bool = True, niter: int = 2):
    """(U, S, V): svd_lowrank of A with its column means removed (center=True).

    Shape: A (*, m, n) -> U (*, m, q), S (*, q), V (*, n, q), q = min(6, m, n) by default
    """
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (isinstance(q, int) and 0 <= q <= min(m, n)):
        raise ValueError(f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}")
    if not (isinstance(niter, int) and niter >= 0):
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    C = A.mean(-2, keepdim=True)
    return svd_lowrank(A - C, q, niter=niter)
