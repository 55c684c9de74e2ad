"""Determinants: det, slogdet, logdet.

d det(A) = tr(adj(A) dA), so dA = g adj(A)^H = g conj(det) A^-H where A is invertible; for a singular
A the adjugate comes from the SVD. d log|det(A)| = Re tr(A^-1 dA): dA = g A^-H.
"""

from __future__ import annotations

import numpy as np
from lamina import Tensor
from lamina.autograd import Function

from . import _ops as O
from ._common import check_square, no_out, result_type


class Det(Function):
    """y = det(A). A: (*, n, n) -> y: (*)"""

    @staticmethod
    def forward(ctx, A):
        y = np.asarray(np.linalg.det(A))
        ctx.save_for_backward(A, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        A, y = ctx.saved_tensors
        g = O.unsqueeze(O.unsqueeze(dy, -1), -1)                         # (*, 1, 1)
        if O.is_t(A):
            return g * O.unsqueeze(O.unsqueeze(O.conj(y), -1), -1) * O.mH(O.inv(A))
        return g * O.mH(_adjugate(A, y))                                 # dA: (*, n, n)


def _adjugate(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """adj(A) = det(A) A^-1, by the SVD where det(A) = 0. A: (*, n, n) -> (*, n, n)"""
    n = A.shape[-1]
    singular = np.asarray(y) == 0
    if n == 0:
        return np.zeros_like(A)
    if not singular.any():
        return np.linalg.inv(A) * y[..., None, None]
    U, s, Vh = np.linalg.svd(A)
    others = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], axis=-1)  # prod_{j!=i} s_j
    phase = np.linalg.det(U) * np.linalg.det(Vh)
    adj = (O.mH(Vh) * others[..., None, :].astype(A.dtype)) @ O.mH(U) * phase[..., None, None]
    safe = np.where(singular[..., None, None], np.eye(n, dtype=A.dtype), A)
    return np.where(singular[..., None, None], adj, np.linalg.inv(safe) * y[..., None, None])


class SlogDet(Function):
    """(sign, log|det A|). A: (*, n, n) -> sign: (*), logabsdet: (*)"""

    @staticmethod
    def forward(ctx, A):
        sign, logabs = np.linalg.slogdet(A)
        sign, logabs = np.asarray(sign), np.asarray(logabs)
        ctx.save_for_backward(A)
        if not np.iscomplexobj(sign):
            ctx.mark_non_differentiable(sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, dsign, dlog):
        (A,) = ctx.saved_tensors
        g = O.unsqueeze(O.unsqueeze(dlog, -1), -1)
        return g * O.mH(O.inv(A))                                        # dA: (*, n, n)


def slogdet(A: Tensor, *, out: None = None):
    """(sign, logabsdet) with det(A) = sign * exp(logabsdet). Shape: A (*, n, n) -> (*), (*)"""
    no_out("linalg.slogdet", out)
    check_square("linalg.slogdet", A)
    sign, logabs = SlogDet.apply(A)
    return result_type("linalg_slogdet", ("sign", "logabsdet"))(sign, logabs)


def det(A: Tensor, *, out: None = None) -> Tensor:
    """Determinant of square matrices. Shape: A (*, n, n) -> (*)"""
    no_out("linalg.det", out)
    check_square("linalg.det", A)
    return Det.apply(A)


def logdet(A: Tensor) -> Tensor:
    """log(det(A)): nan for a negative determinant, -inf for zero (torch.logdet). Shape: (*, n, n) -> (*)"""
    check_square("logdet", A)
    sign, logabs = SlogDet.apply(A)
    return logabs + sign.log()


def top_slogdet(A: Tensor, *, out: None = None):
    """torch.slogdet: linalg.slogdet's values in ``torch.return_types.slogdet``."""
    r = slogdet(A, out=out)
    return result_type("slogdet", ("sign", "logabsdet"))(r.sign, r.logabsdet)
