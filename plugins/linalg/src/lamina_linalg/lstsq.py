"""Least squares: linalg.lstsq (drivers gels, gelsy, gelsd, gelss; torch's CPU default is gelsy).

The solution's gradient is that of X = A^+ B (A of full rank): dB = A^+H dX and dA from the pseudo-
inverse's gradient for dA^+ = dX B^H.
"""

from __future__ import annotations

import lamina
import numpy as np
import scipy.linalg as sla
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from . import _ops as O
from ._common import check_cpu, check_float, result_type
from .svd import pinv, pinv_grad

DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _one(a: np.ndarray, b: np.ndarray, rcond: float, driver: str):
    """(x (n, k), rank (1, 1), singular values (1, min(m, n))) for one matrix."""
    m, n = a.shape
    if driver == "gels":
        gels = sla.get_lapack_funcs("gels", (a, b))
        rows = max(m, n)
        bb = np.zeros((rows, b.shape[1]), np.result_type(a, b))
        bb[:m] = b
        _, x, info = gels(a, bb)
        return x[:n], np.array([[min(m, n)]]), np.zeros((1, min(m, n)), a.real.dtype)
    x, _, rank, s = sla.lstsq(a, b, cond=rcond, lapack_driver=driver, check_finite=False)
    s = np.zeros(min(m, n), a.real.dtype) if s is None else s
    return x, np.array([[rank]]), s.reshape(1, -1)


class Lstsq(Function):
    """X minimising ||AX - B||_F. A: (*, m, n), B: (*, m, k) -> X: (*, n, k), rank: (*), S: (*, min(m, n))"""

    @staticmethod
    def forward(ctx, A, B, rcond, driver):
        from ._common import per_matrix

        dt = np.result_type(A, B)
        X, rank, S = per_matrix(lambda a, b: _one(a, b, rcond, driver), A.astype(dt, copy=False),
                                B.astype(dt, copy=False), n_out=3)
        X, rank, S = X.astype(dt, copy=False), rank[..., 0, 0].astype(np.int64), S[..., 0, :]
        ctx.save_for_backward(A, B)
        ctx.mark_non_differentiable(S)
        return X, rank, S

    @staticmethod
    def backward(ctx, dX, drank, dS):
        A, B = ctx.saved_tensors
        P = pinv(A) if O.is_t(A) else np.linalg.pinv(A)                   # (*, n, m)
        dB = O.mH(P) @ dX                                                # (*, m, k)
        dA = pinv_grad(A, P, dX @ O.mH(B)) if ctx.needs_input_grad[0] else None
        return dA, dB, None, None


@autocast_op("fp32")
def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None):
    """(solution, residuals, rank, singular_values) of min ||AX - B||_F.

    residuals (*, k): squared column residuals when m > n, every A of full rank and the driver is not
    gelsy (else empty); rank (*) int64 except for gels (empty); singular_values (*, min(m, n)) for
    gelsd / gelss (else empty).

    Shape: A (*, m, n), B (*, m, k) or (*, m) -> solution (*, n, k) or (*, n)
    """
    name = "torch.linalg.lstsq"
    check_cpu(name, A, B)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    check_float("linalg.lstsq", A)
    check_float("linalg.lstsq", B)
    if A.dtype != B.dtype:
        raise RuntimeError(f"{name}: Expected input and other to have the same dtype, but got input's dtype "
                           f"{A.dtype} and other's dtype {B.dtype}")
    driver = "gelsy" if driver is None else driver
    if driver not in DRIVERS:
        raise RuntimeError(f"{name}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    vector = B.ndim == A.ndim - 1
    B2 = B.unsqueeze(-1) if vector else B
    if B2.shape[-2] != A.shape[-2]:
        raise RuntimeError(f"{name}: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    eps = np.finfo(np.dtype(A.dtype.name)).eps if A.dtype.name in ("float32", "float64") else \
        np.finfo(np.empty(0, np.dtype(A.dtype.name)).real.dtype).eps
    rc = float(eps * max(m, n)) if rcond is None else float(rcond)
    X, rank, S = Lstsq.apply(A, B2, rc, driver)
    full = bool((rank.numpy() == min(m, n)).all()) if driver != "gels" else True
    if m > n and full and driver != "gelsy":
        R = A @ X - B2
        R = R.abs() if R.is_complex() else R
        residuals = (R * R).sum(-2)
    else:
        residuals = lamina.zeros(0, dtype=X.real.dtype if X.is_complex() else X.dtype)
    if driver == "gels":
        rank = lamina.zeros(0, dtype=lamina.int64)
    if driver not in ("gelsd", "gelss"):
        S = lamina.zeros(0, dtype=S.dtype)
    sol = X.squeeze(-1) if vector else X
    return result_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))(sol, residuals, rank, S)
