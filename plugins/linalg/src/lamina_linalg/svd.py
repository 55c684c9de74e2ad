"""Singular values: svd, svdvals, pinv, matrix_rank (linalg), and torch's svd (U, S, V) and pinverse.

Gradient of A = U diag(S) Vh (k = min(m, n), F_ij = 1/(s_j^2 - s_i^2) off the diagonal):
dA = U [F o (U^H dU - dU^H U) S + diag(dS) + S F o (V^H dV - dV^H V)] Vh
     + (I - U U^H) dU S^-1 Vh (m > k) + U S^-1 dV^H (I - V V^H) (n > k).
"""

from __future__ import annotations

import lamina
import numpy as np
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from . import _fast
from . import _ops as O
from ._common import check_cpu, check_float, check_matrix, no_out, result_type


def _check(name: str, A: Tensor) -> None:
    check_cpu(name, A)
    check_matrix(name, A)
    check_float(name, A)


def _real_dtype(dt: np.dtype) -> np.dtype:
    return np.empty(0, dt).real.dtype


class SVD(Function):
    """A = U diag(S) Vh. A: (*, m, n) -> U: (*, m, k|m), S: (*, k), Vh: (*, k|n, n)"""

    @staticmethod
    def forward(ctx, A, full_matrices):
        m, n = A.shape[-2:]
        k = min(m, n)
        if A.size == 0:
            mu, nv = (m, n) if full_matrices else (k, k)
            U = np.broadcast_to(np.eye(m, mu, dtype=A.dtype), A.shape[:-2] + (m, mu)).copy()
            Vh = np.broadcast_to(np.eye(nv, n, dtype=A.dtype), A.shape[:-2] + (nv, n)).copy()
            S = np.zeros(A.shape[:-2] + (k,), _real_dtype(A.dtype))
        else:
            res = _fast.svd(A, full_matrices) if _fast.usable(A) else None
            U, S, Vh = res if res is not None else np.linalg.svd(A, full_matrices=full_matrices)
        ctx.save_for_backward(U, S, Vh)
        ctx.opts = (m, n, k)
        return U, S, Vh

    @staticmethod
    def backward(ctx, dU, dS, dVh):
        U, S, Vh = ctx.saved_tensors
        m, n, k = ctx.opts
        U, Vh, dU, dVh = U[..., :, :k], Vh[..., :k, :], dU[..., :, :k], dVh[..., :k, :]
        return svd_grad(U, S, Vh, dU, dS, dVh, m, n, k), None


def svd_grad(U, S, Vh, dU, dS, dVh, m: int, n: int, k: int):
    """dA from the gradients of the thin SVD's factors (formula in the module docstring)."""
    V, dV = O.mH(Vh), O.mH(dVh)
    F = O.off_diag_reciprocal(S * S)                                     # (*, k, k)
    UhdU = O.mH(U) @ dU
    VhdV = O.mH(V) @ dV
    J = F * (UhdU - O.mH(UhdU))
    K = F * (VhdV - O.mH(VhdV))
    core = O.scale_cols(J, S) + O.scale_rows(K, S) + O.diag_embed(dS, k, k)
    if _is_complex(U):  # the phase of each singular pair: i Im(U^H dU)_jj / s_j on the diagonal
        d = O.diagonal(UhdU)
        core = core + O.diag_embed((d - O.conj(d)) * (0.5 / S), k, k)
    dA = U @ core @ Vh                                                   # (*, m, n)
    if m > k:
        dA = dA + O.scale_cols(dU - U @ UhdU, 1 / S) @ Vh
    if n > k:
        dA = dA + O.scale_cols(U, 1 / S) @ O.mH(dV - V @ VhdV)
    return dA


def _is_complex(x) -> bool:
    return x.is_complex() if O.is_t(x) else np.iscomplexobj(x)


@autocast_op("fp32")
def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None, out: None = None):
    """(U, S, Vh) with A = U diag(S) Vh, S descending.

    Shape: A (*, m, n) -> U (*, m, m), S (*, k), Vh (*, n, n) (full_matrices) or U (*, m, k), Vh (*, k, n),
    k = min(m, n).
    """
    no_out("linalg.svd", out)
    _check("linalg.svd", A)
    _driver("linalg.svd", driver)
    U, S, Vh = SVD.apply(A, bool(full_matrices))
    return result_type("linalg_svd", ("U", "S", "Vh"))(U, S, Vh)


def _driver(name: str, driver: str | None) -> None:
    if driver is not None:
        raise RuntimeError(f"torch.{name}: keyword argument `driver=` is only supported on CUDA inputs with "
                           "cuSOLVER backend.")


@autocast_op("fp32")
def svdvals(A: Tensor, *, driver: str | None = None, out: None = None) -> Tensor:
    """Singular values, descending. Shape: A (*, m, n) -> (*, min(m, n))"""
    no_out("linalg.svdvals", out)
    _check("linalg.svd", A)
    _driver("linalg.svdvals", driver)
    if A.requires_grad and lamina.is_grad_enabled():
        return SVD.apply(A, False)[1]
    x = A.detach().numpy()
    S = _fast.svdvals(x) if _fast.usable(x) else None
    if S is not None:
        return lamina.as_tensor(S)
    S = np.linalg.svd(x, compute_uv=False) if x.size else np.zeros(x.shape[:-2] + (min(x.shape[-2:]),),
                                                                    _real_dtype(x.dtype))
    return lamina.as_tensor(np.ascontiguousarray(S))


def top_svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out: None = None):
    """torch.svd: (U, S, V) with A = U diag(S) V^H (V, not Vh); zero U, V with compute_uv=False.

    Shape: input (*, m, n) -> U (*, m, k|m), S (*, k), V (*, n, k|n)
    """
    no_out("svd", out)
    _check("linalg.svd", input)
    T = result_type("svd", ("U", "S", "V"))
    if not compute_uv:
        S = svdvals(input)
        m, n = input.shape[-2:]
        U = lamina.zeros(*input.shape[:-2], m, m, dtype=input.dtype)
        V = lamina.zeros(*input.shape[:-2], n, n, dtype=input.dtype)
        return T(U, S, V)
    U, S, Vh = SVD.apply(input, not some)
    return T(U, S, O.mH(Vh))


def _tolerances(A: Tensor, atol, rtol, name: str):
    """(atol, rtol) as arrays broadcastable to (*,); torch's default rtol is eps * max(m, n) without atol."""
    def arr(v):
        if v is None:
            return None
        return np.asarray(v.detach().numpy() if isinstance(v, Tensor) else v, dtype=np.float64)

    a, r = arr(atol), arr(rtol)
    if r is None:
        eps = np.finfo(_real_dtype(np.dtype(A.dtype.name))).eps
        r = np.asarray(eps * max(A.shape[-2:]) if (a is None or np.all(a == 0)) else 0.0)
    if a is None:
        a = np.asarray(0.0)
    return a, r


def _cutoff(S: np.ndarray, a: np.ndarray, r: np.ndarray) -> np.ndarray:
    smax = S.max(axis=-1) if S.shape[-1] else np.zeros(S.shape[:-1], S.dtype)
    return np.maximum(a, r * smax)                                       # (*)


class Pinv(Function):
    """P = A^+ by the SVD, singular values <= max(atol, rtol * s_max) dropped. A: (*, m, n) -> P: (*, n, m)"""

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        m, n = A.shape[-2:]
        if A.size == 0:
            P = np.zeros(A.shape[:-2] + (n, m), A.dtype)
        elif hermitian:
            w, V = np.linalg.eigh(A)
            keep = np.abs(w) > _cutoff(np.abs(w), atol, rtol)[..., None]
            winv = np.where(keep, 1 / np.where(keep, w, 1), 0).astype(V.dtype)
            P = (V * winv[..., None, :]) @ O.mH(V)
        else:
            U, S, Vh = np.linalg.svd(A, full_matrices=False)
            keep = S > _cutoff(S, atol, rtol)[..., None]
            sinv = np.where(keep, 1 / np.where(keep, S, 1), 0).astype(A.dtype)
            P = (O.mH(Vh) * sinv[..., None, :]) @ O.mH(U)
        P = P.astype(A.dtype, copy=False)
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, dP):
        A, P = ctx.saved_tensors
        return pinv_grad(A, P, dP), None, None, None


def pinv_grad(A, P, dP):
    """dA for P = A^+ of constant rank. A: (*, m, n), P, dP: (*, n, m) -> (*, m, n)"""
    m, n = A.shape[-2:]
    PH, dPH = O.mH(P), O.mH(dP)
    dA = -(PH @ dP @ PH)
    dA = dA + (O.eye(m, A) - A @ P) @ dPH @ (P @ PH)
    dA = dA + (PH @ P) @ dPH @ (O.eye(n, A) - P @ A)
    return dA


def pinv(A: Tensor, *args, atol=None, rtol=None, hermitian: bool = False, rcond=None, out: None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse (``rcond`` and a positional third value: torch's older overload).

    Shape: A (*, m, n) -> (*, n, m)
    """
    no_out("linalg.pinv", out)
    if args:  # pinv(A, rcond, hermitian)
        rcond = args[0]
        if len(args) > 1:
            hermitian = args[1]
    if rcond is not None:
        rtol = rcond
    check_cpu("linalg.pinv", A)
    if A.ndim < 2 or A.dtype.name not in ("float32", "float64", "complex64", "complex128"):
        from ._common import torch_name
        raise RuntimeError(f"linalg.pinv({torch_name(A)}{{{list(A.shape)}}}): expected a tensor with 2 or more "
                           "dimensions of float, double, cfloat or cdouble types")
    a, r = _tolerances(A, atol, rtol, "linalg.pinv")
    return Pinv.apply(A, a, r, bool(hermitian))


@autocast_op("fp32")
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: linalg.pinv with rtol=rcond. Shape: (*, m, n) -> (*, n, m)"""
    return pinv(input, rtol=rcond)


def matrix_rank(A: Tensor, *args, atol=None, rtol=None, hermitian: bool = False, tol=None,
                out: None = None) -> Tensor:
    """Number of singular values above max(atol, rtol * s_max) (``tol``: torch's older atol overload).

    Shape: A (*, m, n) -> (*) int64
    """
    no_out("linalg.matrix_rank", out)
    if args:
        tol = args[0]
        if len(args) > 1:
            hermitian = args[1]
    if tol is not None:
        atol, rtol = tol, 0.0
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions.")
    _check("linalg.matrix_rank", A)
    x = A.detach().numpy()
    a, r = _tolerances(A, atol, rtol, "linalg.matrix_rank")
    if x.size == 0:
        return lamina.zeros(*x.shape[:-2], dtype=lamina.int64)
    S = np.abs(np.linalg.eigvalsh(x)) if hermitian else np.linalg.svd(x, compute_uv=False)
    if hermitian:
        S = -np.sort(-S, axis=-1)
    rank = (S > _cutoff(S, a, r)[..., None]).sum(axis=-1)
    return lamina.as_tensor(np.asarray(rank, np.int64))
