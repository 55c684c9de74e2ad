"""Cholesky: cholesky, cholesky_ex (linalg), cholesky_solve, cholesky_inverse (top level).

A = L L^H. For the gradient, with Phi(X) = tril(X) with its diagonal halved:
dA = sym(L^-H Phi(L^H dL) L^-1), sym(X) = (X + X^H) / 2 (A is symmetric: the gradient is too).
"""

from __future__ import annotations

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
    warn_once,
)


def _potrf(a: np.ndarray):
    potrf = sla.get_lapack_funcs("potrf", (a,))
    c, info = potrf(a, lower=True, clean=True)
    return np.tril(c).astype(a.dtype, copy=False), np.array([[info]], np.int32)


class Cholesky(Function):
    """L with A = L L^H (lower). A: (*, n, n) -> L: (*, n, n), info: (*)"""

    @staticmethod
    def forward(ctx, A, check, name):
        try:
            L = _fast.cholesky(A) if _fast.usable(A) else None
            if L is None:
                L = np.linalg.cholesky(A)
            info = np.zeros(A.shape[:-2], np.int32)
        except np.linalg.LinAlgError:
            L, info = per_matrix(_potrf, A, n_out=2)
            info = info[..., 0, 0]
            if check:
                k, order = first_bad(info)
                raise LinAlgError(f"{name}: {batch_prefix(A.shape, k)}The factorization could not be completed "
                                  f"because the input is not positive-definite (the leading minor of order {order} "
                                  "is not positive-definite).") from None
        ctx.save_for_backward(L)
        ctx.mark_non_differentiable(info)
        return L, info

    @staticmethod
    def backward(ctx, dL, dinfo):
        (L,) = ctx.saved_tensors
        n = L.shape[-1]
        X = O.mH(L) @ dL
        P = O.tril(X) - 0.5 * O.diag_embed(O.diagonal(X), n, n)        # Phi(L^H dL)
        T = O.solve_tri(O.mH(L), P, upper=True)                          # L^-H Phi
        G = O.solve_tri(L, T, upper=False, left=False)                   # L^-H Phi L^-1
        return 0.5 * (G + O.mH(G)), None, None                           # dA: (*, n, n)


@autocast_op("fp32")
def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out: None = None):
    """(L, info): Cholesky factor (U = L^H with upper=True) and LAPACK's info (k > 0: minor k not PD).

    Shape: A (*, n, n) -> L (*, n, n), info (*)
    """
    no_out("linalg.cholesky_ex", out)
    check_square("linalg.cholesky", A)
    L, info = Cholesky.apply(A, bool(check_errors), "linalg.cholesky_ex")
    return result_type("linalg_cholesky_ex", ("L", "info"))(O.mH(L) if upper else L, info)


@autocast_op("fp32")
def cholesky(A: Tensor, *, upper: bool = False, out: None = None) -> Tensor:
    """Cholesky factor of Hermitian positive-definite matrices (lower, or upper = L^H).

    Shape: A (*, n, n) -> (*, n, n)
    """
    no_out("linalg.cholesky", out)
    check_square("linalg.cholesky", A)
    L = Cholesky.apply(A, True, "linalg.cholesky")[0]
    return O.mH(L) if upper else L


def top_cholesky(input: Tensor, upper: bool = False, *, out: None = None) -> Tensor:
    """torch.cholesky (deprecated form): ``upper`` positional."""
    warn_once("torch.cholesky",
              "torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be removed in a future PyTorch "
              "release.\nL = torch.cholesky(A)\nshould be replaced with\nL = torch.linalg.cholesky(A)\nand\nU = "
              "torch.cholesky(A, upper=True)\nshould be replaced with\nU = torch.linalg.cholesky(A).mH\nThis "
              "transform will produce equivalent results for all valid (symmetric positive definite) inputs.")
    no_out("cholesky", out)
    check_square("linalg.cholesky", input)
    L = Cholesky.apply(input, True, "linalg.cholesky")[0]
    return O.mH(L) if upper else L


@autocast_op("fp32")
def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out: None = None) -> Tensor:
    """X with (L L^H) X = B, L the Cholesky factor (U^H U with upper=True).

    Shape: B (*, n, k), L (*, n, n) -> X (*, n, k) (batch dims broadcast)
    """
    no_out("cholesky_solve", out)
    check_cpu("cholesky_solve", B, L)
    check_matrix("cholesky_solve", B, "B")
    check_square("cholesky_solve", L, "A")
    check_float("cholesky_solve", B)
    if B.shape[-2] != L.shape[-1]:
        raise RuntimeError(f"cholesky_solve: Incompatible matrix sizes for cholesky_solve: each A matrix is "
                           f"{L.shape[-1]} by {L.shape[-1]} but each b matrix is {B.shape[-2]} by {B.shape[-1]}")
    if B.dtype != L.dtype:
        raise RuntimeError(f"cholesky_solve: Expected b and A to have the same dtype, but found b of type "
                           f"{B.dtype} and A of type {L.dtype} instead.")
    return CholeskySolve.apply(B, L, bool(upper))


class CholeskySolve(Function):
    """X = (L L^H)^-1 B (U^H U with upper). B: (*, n, k), L: (*, n, n) -> X: (*, n, k) (batch dims broadcast)

    As torch, the factor's gradient is that of the full matrix L (not only its triangle):
    dL = (dA + dA^H) L with dA = -dB X^H (upper: dU = U (dA + dA^H)).
    """

    @staticmethod
    def forward(ctx, B, L, upper):
        X = _chol_solve(B, L, upper)
        ctx.save_for_backward(L, X)
        ctx.upper = upper
        return X

    @staticmethod
    def backward(ctx, dX):
        L, X = ctx.saved_tensors
        upper = ctx.upper
        dB = _chol_solve(dX, L, upper)                                   # (*, n, k)
        dL = None
        if ctx.needs_input_grad[1]:
            dA = -(dB @ O.mH(X))
            S = dA + O.mH(dA)
            dL = L @ S if upper else S @ L                               # (*, n, n)
        return dB, dL, None


def _chol_solve(B, L, upper: bool):
    """(L L^H)^-1 B or (U^H U)^-1 B by two triangular solves, on arrays or (create_graph) Tensors."""
    if O.is_t(B) or O.is_t(L):
        B, L = O._tensor_pair(B, L)
        return CholeskySolve.apply(B, L, upper)
    if upper:
        return O.solve_tri(L, O.solve_tri(O.mH(L), B, upper=False), upper=True)
    return O.solve_tri(O.mH(L), O.solve_tri(L, B, upper=False), upper=True)


@autocast_op("fp32")
def cholesky_inverse(L: Tensor, upper: bool = False, *, out: None = None) -> Tensor:
    """(L L^H)^-1 from the Cholesky factor L (or (U^H U)^-1 with upper=True). Shape: (*, n, n) -> (*, n, n)"""
    no_out("cholesky_inverse", out)
    check_square("cholesky_inverse", L, "input")
    n = L.shape[-1]
    eye = O.const(np.broadcast_to(np.eye(n), tuple(L.shape)), L)
    return CholeskySolve.apply(eye, L, bool(upper))                     # the full-L gradient, as torch
