"""Eigen-decompositions: eigh, eigvalsh (Hermitian) and eig, eigvals (general, complex results).

Hermitian A = V diag(w) V^H: dA = V (diag(dw) + F o skew(V^H dV)) V^H with F_ij = 1/(w_j - w_i) and
skew(X) = (X - X^H) / 2 (the gradient is Hermitian, as A). General A = V diag(w) V^-1 (unit-norm
columns): dA = V^-H (diag(dw) + conj(F) o (V^H dV - V^H V diag(Re diag(V^H dV)))) V^H, real part for
real A.
"""

from __future__ import annotations

import lamina
import numpy as np
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from . import _ops as O
from ._common import check_square, no_out, result_type


def _int_eigh(A: Tensor) -> None:
    if A.dtype.name.startswith(("int", "uint", "bool")):
        from ._common import torch_name
        raise NotImplementedError(f'"linalg_eigh_cpu" not implemented for \'{torch_name(A)}\'')


def _uplo(UPLO: str) -> str:
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    return UPLO


class Eigh(Function):
    """A = V diag(w) V^H, w ascending. A: (*, n, n) -> w: (*, n) real, V: (*, n, n)"""

    @staticmethod
    def forward(ctx, A, UPLO):
        if A.size == 0:
            w = np.zeros(A.shape[:-1], np.empty(0, A.dtype).real.dtype)
            V = np.zeros(A.shape, A.dtype)
        else:
            w, V = np.linalg.eigh(A, UPLO=UPLO)
        ctx.save_for_backward(w, V)
        return w, V

    @staticmethod
    def backward(ctx, dw, dV):
        w, V = ctx.saved_tensors
        n = V.shape[-1]
        X = O.mH(V) @ dV
        core = O.off_diag_reciprocal(w) * (0.5 * (X - O.mH(X))) + O.diag_embed(dw, n, n)
        return V @ core @ O.mH(V), None                                  # dA: (*, n, n)


@autocast_op("fp32")
def eigh(A: Tensor, UPLO: str = "L", *, out: None = None):
    """(eigenvalues, eigenvectors) of Hermitian matrices (only the ``UPLO`` triangle is read).

    Shape: A (*, n, n) -> eigenvalues (*, n) ascending, eigenvectors (*, n, n) (columns)
    """
    no_out("linalg.eigh", out)
    _int_eigh(A)
    check_square("linalg.eigh", A)
    w, V = Eigh.apply(A, _uplo(UPLO))
    return result_type("linalg_eigh", ("eigenvalues", "eigenvectors"))(w, V)


@autocast_op("fp32")
def eigvalsh(A: Tensor, UPLO: str = "L", *, out: None = None) -> Tensor:
    """Eigenvalues of Hermitian matrices, ascending. Shape: A (*, n, n) -> (*, n)"""
    no_out("linalg.eigvalsh", out)
    check_square("linalg.eigh", A)
    _uplo(UPLO)
    if A.requires_grad and lamina.is_grad_enabled():
        return Eigh.apply(A, UPLO)[0]
    x = A.detach().numpy()
    w = np.linalg.eigvalsh(x, UPLO=UPLO) if x.size else np.zeros(x.shape[:-1], np.empty(0, x.dtype).real.dtype)
    return lamina.as_tensor(np.ascontiguousarray(w))


def _complex(dt: np.dtype) -> np.dtype:
    return np.result_type(dt, np.complex64)


class Eig(Function):
    """A = V diag(w) V^-1. A: (*, n, n) -> w: (*, n) complex, V: (*, n, n) complex"""

    @staticmethod
    def forward(ctx, A):
        ct = _complex(A.dtype)
        if A.size == 0:
            w, V = np.zeros(A.shape[:-1], ct), np.zeros(A.shape, ct)
        else:
            w, V = np.linalg.eig(A)
            w, V = w.astype(ct, copy=False), V.astype(ct, copy=False)
        ctx.save_for_backward(w, V)
        ctx.real_input = not np.iscomplexobj(A)
        return w, V

    @staticmethod
    def backward(ctx, dw, dV):                  # dw: (*, n), dV: (*, n, n) -> dA: (*, n, n)
        w, V = ctx.saved_tensors                # arrays, or Tensors under create_graph (the helpers record a graph)
        n = V.shape[-1]
        VH = O.mH(V)
        X = VH @ dV
        X = X - VH @ O.scale_cols(V, O.real(O.diagonal(X)))
        core = O.conj(O.off_diag_reciprocal(w)) * X + O.diag_embed(dw, n, n)
        dA = O.solve(VH, core @ VH)                                      # V^-H core V^H
        return O.real(dA) if ctx.real_input else dA


@autocast_op("fp32")
def eig(A: Tensor, *, out: None = None):
    """(eigenvalues, eigenvectors) of square matrices, complex (unit-norm eigenvector columns).

    Shape: A (*, n, n) -> eigenvalues (*, n), eigenvectors (*, n, n), complex64 / complex128
    """
    no_out("linalg.eig", out)
    check_square("linalg.eig", A)
    w, V = Eig.apply(A)
    return result_type("linalg_eig", ("eigenvalues", "eigenvectors"))(w, V)


@autocast_op("fp32")
def eigvals(A: Tensor, *, out: None = None) -> Tensor:
    """Eigenvalues of square matrices, complex. Shape: A (*, n, n) -> (*, n)"""
    no_out("linalg.eigvals", out)
    check_square("linalg.eigvals", A)
    if A.requires_grad and lamina.is_grad_enabled():
        return Eig.apply(A)[0]
    x = A.detach().numpy()
    w = np.linalg.eigvals(x) if x.size else np.zeros(x.shape[:-1], _complex(x.dtype))
    return lamina.as_tensor(np.ascontiguousarray(w.astype(_complex(x.dtype), copy=False)))
