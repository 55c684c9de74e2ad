"""lobpcg: the k largest (or smallest) eigenpairs of a symmetric A X = B X diag(E) by the locally optimal
block preconditioned conjugate gradient method.

Each step runs a Rayleigh-Ritz procedure on a B-orthonormal basis of [X, iK R, P] (X the current Ritz
vectors, R = A X - B X diag(E) the residuals, P the previous search directions); it stops when the first
k pairs meet the backward-stable criterion ||R_j|| / (||X_j|| (|A| + |E_j| |B|)) < tol (|A|, |B| estimated
from the initial X) or after ``niter`` steps. The NumPy work is in float64; results come back in A's dtype.

Gradient (B = I; U the m x k eigenvectors, D their eigenvalues, P = I - U U^T):
dA = U (diag(dD) + F o (U^T dU)) U^T - sum_j y_j u_j^T, F_ij = 1/(d_j - d_i) (0 on the diagonal), where y_j
solves (A - d_j I) y_j = P dU_j inside span(U)'s complement. The input is symmetrised first, (A + A^T) / 2, so
the gradient is symmetric.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from lamina.autograd import Function

from . import _ops
from ._common import LinAlgError

_EPS = {"float32": 1.2e-07, "float64": 2.23e-16}
_DROP = 1e-10  # search directions whose B-Gram eigenvalue is below this x the largest are dropped (float64 work)


def _b_orthonormal(V: np.ndarray, BV: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """A B-orthonormal basis of span(V) (directions below tol x the largest dropped) and B times it.

    V, BV: (m, p) -> (m, q), (m, q), q <= p
    """
    for _ in range(2):
        if V.shape[1] == 0:
            break
        G = V.T @ BV
        s, W = np.linalg.eigh(0.5 * (G + G.T))
        keep = s > tol * max(float(s[-1]), 0.0) if s.size and s[-1] > 0 else np.zeros(s.shape, bool)
        T = W[:, keep] / np.sqrt(s[keep])
        V, BV = V @ T, BV @ T
    return V, BV


def _project_out(Q: np.ndarray, BQ: np.ndarray, V: np.ndarray, BV: np.ndarray | None, B: np.ndarray | None):
    """V minus its B-projection on the B-orthonormal Q (twice), and B V. Q, V: (m, *)"""
    for _ in range(2):
        V = V - Q @ (BQ.T @ V)
    return V, (V if B is None else B @ V)


def _ritz(A: np.ndarray, S: np.ndarray, largest: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ritz values (largest first when ``largest``), coefficient vectors of A on the B-orthonormal S, and A S."""
    AS = A @ S
    T = S.T @ AS
    w, C = np.linalg.eigh(0.5 * (T + T.T))
    if largest:
        w, C = w[::-1], C[:, ::-1]
    return w, C, AS


def _run(A: np.ndarray, B: np.ndarray | None, X: np.ndarray, iK: np.ndarray | None, k: int, niter: int,
         tol: float, largest: bool, drop_tol: float, tracker: Any) -> tuple[np.ndarray, np.ndarray]:
    """LOBPCG on one matrix. A, B: (m, m), X: (m, n) -> E (n), X (m, n)"""
    m, n = X.shape
    mul_b = (lambda V: V) if B is None else (lambda V: B @ V)
    x_norm = float(np.linalg.norm(X))
    a_norm = float(np.linalg.norm(A @ X)) / x_norm
    b_norm = float(np.linalg.norm(mul_b(X))) / x_norm
    state = SimpleNamespace(ivars={"istep": 0, "converged_count": 0}, fvars={"X_norm": x_norm, "A_norm": a_norm,
                            "B_norm": b_norm}, bvars={}, tvars={}, iparams={"m": m, "n": n, "k": k, "niter": niter},
                            fparams={"tol": tol})
    Q, BQ = _b_orthonormal(X, mul_b(X), drop_tol)
    if Q.shape[1] < n:                                                  # torch: its Cholesky of X^T B X fails
        raise LinAlgError(f"lobpcg: the columns of the initial X are linearly dependent (rank {Q.shape[1]} < {n}), "
                          "or B is not positive-definite on them")
    w, C, AQ = _ritz(A, Q, largest)
    X, BX, AX = Q @ C[:, :n], BQ @ C[:, :n], AQ @ C[:, :n]
    E = w[:n]
    P = BP = None
    left = niter
    while True:
        left -= 1
        R = AX - BX * E
        rerr = np.linalg.norm(R, axis=0) / (np.linalg.norm(X, axis=0) * (a_norm + np.abs(E) * b_norm))
        conv = rerr < tol
        nc = int(np.argmin(conv)) if not conv.all() else n
        state.ivars.update(converged_count=nc, iterations_left=left, istep=state.ivars["istep"] + 1)
        if tracker is not None:                                         # torch's: after each step, istep from 1
            state.tvars["rerr"] = lamina.from_numpy(rerr)
            state.X, state.E, state.R = lamina.from_numpy(X.copy()), lamina.from_numpy(E.copy()), lamina.from_numpy(R)
            tracker(state)
        if state.bvars.get("force_stop", False) or left == 0 or nc >= k:
            return E, X
        W = R[:, nc:] if iK is None else iK @ R[:, nc:]
        W, BW = _project_out(X, BX, W, None, B)
        blocks, bblocks = [X], [BX]
        W, BW = _b_orthonormal(W, BW, drop_tol)
        if W.shape[1]:
            blocks.append(W)
            bblocks.append(BW)
        if P is not None:
            S0, BS0 = np.hstack(blocks), np.hstack(bblocks)
            P, BP = _project_out(S0, BS0, P, BP, B)
            P, BP = _b_orthonormal(P, BP, drop_tol)
            if P.shape[1]:
                blocks.append(P)
                bblocks.append(BP)
        S, BS = np.hstack(blocks), np.hstack(bblocks)
        if S.shape[1] == n:                                            # nothing new to search: X is exact
            return E, X
        w, C, AS = _ritz(A, S, largest)
        Cn = C[:, :n]
        P, BP = S[:, n:] @ Cn[n:], BS[:, n:] @ Cn[n:]                  # the step taken outside span(X)
        X, BX, AX, E = S @ Cn, BS @ Cn, AS @ Cn, w[:n]


class _Lobpcg(Function):
    """(E, X) of the k extreme eigenpairs. A: (m, m), B: (m, m) or None, X0: (m, n) -> E: (k), X: (m, k)"""

    @staticmethod
    def forward(ctx, A, B, X0, iK, opts):
        k, niter, tol, largest, drop_tol, tracker = opts
        dt = A.dtype
        A64 = A.astype(np.float64)
        B64 = None if B is None else B.astype(np.float64)
        E, X = _run(A64, B64, X0.astype(np.float64), None if iK is None else iK.astype(np.float64), k, niter, tol,
                    largest, drop_tol, tracker)
        E, U = E[:k].astype(dt), np.ascontiguousarray(X[:, :k]).astype(dt)
        ctx.save_for_backward(A, E, U)
        ctx.has_b = B is not None
        return E, U

    @staticmethod
    def backward(ctx, dE, dU):                                          # dE: (k), dU: (m, k) -> dA: (m, m)
        if ctx.has_b:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        A, E, U = ctx.saved_tensors        # arrays, or Tensors under create_graph: the helpers then record a graph
        dE = _ops.const(np.zeros(E.shape), E) if dE is None else dE
        dU = _ops.const(np.zeros(U.shape), U) if dU is None else dU
        m, k = U.shape
        Ut = _ops.mT(U)
        G = U @ (_ops.diag_embed(dE) + _ops.off_diag_reciprocal(E) * (Ut @ dU)) @ Ut
        PdU = dU - U @ (Ut @ dU)
        UU = U @ Ut
        I = _ops.eye(m, A)
        for j in range(k):                                              # the part outside span(U)
            M = A - E[j] * I - _ops.scale_cols(U, E - E[j] - 1) @ Ut
            y = _ops.solve(M, PdU[:, j:j + 1])                          # (m, 1)
            y = y - UU @ y
            G = G - y @ _ops.mT(U[:, j:j + 1])
        return G, None, None, None, None


def _check_params(name: str, d: Any) -> None:
    if d is not None and not isinstance(d, dict):
        raise TypeError(f"lobpcg: {name} must be a dict or None, got {type(d).__name__}")
    if d:
        raise NotImplementedError(f"lobpcg: {name} tunes torch's 'ortho' method; lamina runs its own iteration with "
                                  f"fixed orthogonalization thresholds and does not take {sorted(d)}")


def lobpcg(A: Tensor, k: int | None = None, B: Tensor | None = None, X: Tensor | None = None, n: int | None = None,
           iK: Tensor | None = None, niter: int | None = None, tol: float | None = None, largest: bool | None = None,
           method: str | None = None, tracker: Any = None, ortho_iparams: dict[str, int] | None = None,
           ortho_fparams: dict[str, float] | None = None,
           ortho_bparams: dict[str, bool] | None = None) -> tuple[Tensor, Tensor]:
    """(E, X): the k largest (``largest=False``: smallest) eigenvalues of the symmetric generalized problem
    A X = B X diag(E) (B symmetric positive-definite, default I) and their B-orthonormal eigenvectors.

    ``X`` is the initial approximation (default random, ``n`` columns, n = k), ``iK`` a preconditioner applied
    to the residuals, ``niter`` the most steps (default 1000; -1: until convergence), ``tol`` the residual
    tolerance (default sqrt of the dtype's eps). ``tracker(worker)`` is called after every step and may set
    ``worker.bvars['force_stop'] = True``. lamina runs one iteration of its own (B-orthonormalised like
    torch's default ``method='ortho'``, which is accepted); ``method='basic'`` and non-empty ``ortho_*``
    dicts raise NotImplementedError. Batches
    of matrices are solved one by one. Gradients: for dense real A with B = None.

    Shape: A (*, m, m), B (*, m, m), X (*, m, n) with m >= 3 n -> E (*, k), X (*, m, k)
    """
    for t in (A, B, X, iK):
        if t is not None and getattr(t, "is_sparse", False):
            raise NotImplementedError("lobpcg: sparse A, B, X or iK is not supported by lamina; pass a dense "
                                      "tensor (.to_dense())")
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and tuple(A.shape) != tuple(B.shape):
        raise AssertionError(f"A and B must have same shape, got {A.shape} vs {B.shape}")
    if method not in (None, "ortho", "basic"):
        raise ValueError(f"lobpcg: method must be 'ortho' or 'basic', got {method!r}")
    if method == "basic":
        raise NotImplementedError("lobpcg: method='basic' is not provided by lamina; its own iteration "
                                  "B-orthonormalises the basis as torch's default method='ortho' does")
    if A.is_complex() or (B is not None and B.is_complex()):
        raise NotImplementedError("lobpcg: complex A or B is not supported by lamina (real symmetric input only)")
    dtype = A.dtype if A.dtype in (lamina.float32, lamina.float64) else lamina.float32
    if tol is None:
        tol = _EPS[str(dtype).rsplit(".", 1)[-1]] ** 0.5
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller than "
                         f"3 x the number of requested eigenpairs (={n})")
    for name, d in (("ortho_iparams", ortho_iparams), ("ortho_fparams", ortho_fparams),
                    ("ortho_bparams", ortho_bparams)):
        _check_params(name, d)
    drop_tol = _DROP                                                    # a Gram eigenvalue, relative to the largest
    opts = (int(k), 1000 if niter is None else int(niter), float(tol), True if largest is None else bool(largest),
            drop_tol, tracker)
    if A.requires_grad or (B is not None and B.requires_grad):
        A = (A + A.mT) / 2                                              # torch's trick: a symmetric gradient
        B = (B + B.mT) / 2 if B is not None else None
    if A.dtype != dtype:
        A = A.to(dtype)
        B = B.to(dtype) if B is not None else None
    batch = tuple(A.shape[:-2])
    if X is not None and tuple(X.shape[-2:]) != (m, n):
        raise AssertionError(f"X shape mismatch: got {tuple(X.shape)}, expected {(m, n)}")
    if not batch:
        X0 = lamina.randn(m, n, dtype=dtype) if X is None else X.to(dtype)
        return _Lobpcg.apply(A, B, X0.detach(), None if iK is None else iK.detach(), opts)
    N = int(np.prod(batch))
    bA = A.reshape(N, m, m)
    bB = B.reshape(N, m, m) if B is not None else None
    bX = X.reshape(N, m, n) if X is not None else None
    Es, Us = [], []
    for i in range(N):
        X0 = lamina.randn(m, n, dtype=dtype) if bX is None else bX[i].to(dtype)
        E, U = _Lobpcg.apply(bA[i], None if bB is None else bB[i], X0.detach(),
                             None if iK is None else iK.detach(), opts)
        Es.append(E)
        Us.append(U)
    return lamina.stack(Es).reshape(*batch, k), lamina.stack(Us).reshape(*batch, m, k)
