"""QR: linalg.qr (modes reduced / complete / r), householder_product, and torch's geqrf, orgqr, ormqr.

Gradient of A = QR (m >= n, Q: (m, n)): with M = R dR^H - dQ^H Q and copyltu(M) = the Hermitian matrix
with M's lower triangle, dA = (dQ + Q copyltu(M)) R^-H. For m < n, A = [X | Y] with X = Q U square and
Y = Q V: dY = Q dV, and X's gradient is the square one for dQ + Y dV^H.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from . import _ops as O
from ._common import check_cpu, check_float, check_matrix, no_out, per_matrix, result_type, warn_once

_MODES = ("reduced", "complete", "r")


def _square_qr_grad(Q, R, dQ, dR):
    """dA for A = QR with Q: (*, m, n), R: (*, n, n), m >= n."""
    M = R @ O.mH(dR) - O.mH(dQ) @ Q
    low = O.tril(M, -1)
    sym = low + O.mH(low) + O.diag_embed(O.real(O.diagonal(M)) if O.is_t(M) else O.diagonal(M).real, *M.shape[-2:])
    X = dQ + Q @ sym                                                    # (*, m, n)
    return O.mH(O.solve_tri(R, O.mH(X), upper=True))                     # X R^-H


class QR(Function):
    """A = QR. A: (*, m, n) -> Q: (*, m, k), R: (*, k, n) (k = min(m, n); complete: Q (*, m, m), R (*, m, n))"""

    @staticmethod
    def forward(ctx, A, mode):
        m, n = A.shape[-2:]
        if mode == "r":
            R = np.linalg.qr(A, mode="r") if A.size else np.zeros(A.shape[:-2] + (min(m, n), n), A.dtype)
            Q = np.zeros((0,), A.dtype)
        else:
            if A.size:
                Q, R = np.linalg.qr(A, mode=mode)
            else:
                k = m if mode == "complete" else min(m, n)
                Q = np.broadcast_to(np.eye(m, k, dtype=A.dtype), A.shape[:-2] + (m, k)).copy()
                R = np.zeros(A.shape[:-2] + (k, n), A.dtype)
        ctx.save_for_backward(Q, R)
        ctx.opts = (mode, m, n)
        return Q, R

    @staticmethod
    def backward(ctx, dQ, dR):
        Q, R = ctx.saved_tensors
        mode, m, n = ctx.opts
        if mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        if mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _square_qr_grad(Q, R, dQ, dR), None
        U, V = R[..., :, :m], R[..., :, m:]
        dU, dV = dR[..., :, :m], dR[..., :, m:]
        Y = Q @ V
        dX = _square_qr_grad(Q, U, dQ + Y @ O.mH(dV), dU)
        return O.cat([dX, Q @ dV], -1), None                              # dA: (*, m, n)


@autocast_op("fp32")
def qr(A: Tensor, mode: str = "reduced", *, out: None = None):
    """(Q, R) with A = QR, Q with orthonormal columns and R upper triangular.

    Shape: A (*, m, n) -> Q (*, m, k), R (*, k, n), k = min(m, n) ('reduced'); Q (*, m, m), R (*, m, n)
    ('complete'); Q empty, R (*, k, n) ('r').
    """
    no_out("linalg.qr", out)
    if mode not in _MODES:
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), 'r', "
                           "or 'complete'")
    check_cpu("linalg.qr", A)
    check_matrix("linalg.qr", A)
    check_float("linalg.qr", A)
    Q, R = QR.apply(A, mode)
    return result_type("linalg_qr", ("Q", "R"))(Q, R)


def top_qr(input: Tensor, some: bool = True, *, out: None = None):
    """torch.qr (deprecated): reduced (some=True) or complete QR, in ``torch.return_types.qr``."""
    warn_once("torch.qr",
              "torch.qr is deprecated in favor of torch.linalg.qr and will be removed in a future PyTorch release.\n"
              "The boolean parameter 'some' has been replaced with a string parameter 'mode'.\nQ, R = torch.qr(A, "
              "some)\nshould be replaced with\nQ, R = torch.linalg.qr(A, 'reduced' if some else 'complete')")
    r = qr(input, "reduced" if some else "complete", out=out)
    return result_type("qr", ("Q", "R"))(r.Q, r.R)


def _reflectors(A: Tensor, tau: Tensor, name: str) -> tuple[int, int, int]:
    check_cpu(name, A, tau)
    if A.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if tau.ndim < 1:
        raise RuntimeError(f"{name}: tau must have at least 1 dimension.")
    m, n = A.shape[-2:]
    k = tau.shape[-1]
    if m < n and name.endswith("householder_product"):
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if k > n and name.endswith("householder_product"):
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if A.ndim - tau.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal "
                           f"to {tau.ndim} and input.ndim is equal to {A.ndim}")
    if tuple(A.shape[:-2]) != tuple(tau.shape[:-1]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(tau.shape[:-1])}")
    check_float(name, A)
    if A.dtype != tau.dtype:
        raise RuntimeError(f"{name}: tau dtype {tau.dtype} does not match input dtype {A.dtype}")
    return m, n, k


def _vector(A: Tensor, i: int) -> Tensor:
    """Householder vector i: column i of A below the diagonal, 1 at row i, 0 above. -> (*, m, 1)"""
    m = A.shape[-2]
    below = np.zeros((m, 1))
    below[i + 1:] = 1
    unit = np.zeros((m, 1))
    unit[i] = 1
    return A[..., :, i:i + 1] * O.const(below, A) + O.const(unit, A)


def _apply_reflectors(A: Tensor, tau: Tensor, C: Tensor, left: bool, adjoint: bool) -> Tensor:
    """H_1 ... H_k applied to C (H_i = I - tau_i v_i v_i^H), composed of differentiable lamina ops."""
    k = tau.shape[-1]
    # Q = H_1 H_2 ... H_k; Q C applies H_k first; Q^H C applies H_1^H first
    order = range(k) if (left == adjoint) else range(k - 1, -1, -1)
    for i in order:
        v = _vector(A, i)                                                # (*, m, 1)
        t = tau[..., i:i + 1].unsqueeze(-1)                              # (*, 1, 1)
        if adjoint:
            t = O.conj(t)
        if left:
            C = C - (t * v) @ (O.mH(v) @ C)
        else:
            C = C - ((C @ v) * t) @ O.mH(v)
    return C


@autocast_op("fp32")
def householder_product(A: Tensor, tau: Tensor, *, out: None = None) -> Tensor:
    """First n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H with v_i from A's columns (LAPACK orgqr).

    Shape: A (*, m, n), tau (*, k), k <= n <= m -> (*, m, n)
    """
    name = "torch.linalg.householder_product"
    no_out(name, out)
    m, n, k = _reflectors(A, tau, name)
    eye = O.const(np.eye(m, n), A)
    C = eye.expand(*A.shape) if A.ndim > 2 else eye
    return _apply_reflectors(A, tau, C, left=True, adjoint=False)


@autocast_op("fp32")
def orgqr(input: Tensor, tau: Tensor) -> Tensor:
    """torch.orgqr: the same as linalg.householder_product."""
    return householder_product(input, tau)


def ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False, *,
          out: None = None) -> Tensor:
    """Q C, C Q, Q^H C or C Q^H, Q = H_1 ... H_k from ``input``, ``tau`` (LAPACK ormqr), without forming Q.

    Shape: input (*, mn, k), tau (*, k), other (*, m, n) -> (*, m, n)
    """
    no_out("ormqr", out)
    _reflectors(input, tau, "torch.ormqr")
    if other.ndim != input.ndim:
        raise RuntimeError(f"torch.ormqr: input.dim() must be equal to other.dim(), got {input.ndim} and {other.ndim}")
    need = other.shape[-2] if left else other.shape[-1]
    if input.shape[-2] != need:
        side = "other.shape[-2]" if left else "other.shape[-1]"
        raise RuntimeError(f"torch.ormqr: input.shape[-2] must be equal to {side}, got {input.shape[-2]} and {need}")
    return _apply_reflectors(input, tau, other, left=bool(left), adjoint=bool(transpose))


class Geqrf(Function):
    """LAPACK's packed QR. x: (*, m, n) -> a (*, m, n), tau (*, min(m, n)); its backward raises as torch's."""

    @staticmethod
    def forward(ctx, x):
        def one(a):
            geq = sla.get_lapack_funcs("geqrf", (a,))
            qr_, tau, _, _ = geq(a)
            return qr_.astype(a.dtype, copy=False), tau.astype(a.dtype, copy=False).reshape(1, -1)

        packed, tau = per_matrix(one, x, n_out=2)
        return packed, np.ascontiguousarray(tau[..., 0, :])

    @staticmethod
    def backward(ctx, da, dtau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


@autocast_op("fp32")
def geqrf(input: Tensor, *, out: None = None):
    """(a, tau): LAPACK geqrf's packed QR (R on and above the diagonal, reflectors below) and the scales.

    Shape: input (*, m, n) -> a (*, m, n), tau (*, min(m, n)). Not differentiable: as in torch, the outputs
    of an input that requires grad have a grad_fn whose backward raises NotImplementedError.
    """
    no_out("geqrf", out)
    check_cpu("geqrf", input)
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    check_float("geqrf", input)
    packed, tau = Geqrf.apply(input)
    return result_type("geqrf", ("a", "tau"))(packed, tau)
