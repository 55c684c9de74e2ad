"""Info records for the conformance kit: lamina-linalg's functions.

Matrices are well conditioned (A = randn + n I, SPD = X X^T + n I) so that float64 finite differences
check the gradients. Functions that read one triangle (cholesky, eigh) or return gauge-dependent or
non-differentiable parts are recorded through small wrappers (named ``<fn>(<what>)``): symmetrised
input, the differentiable output, |eigenvalues|.
"""

from __future__ import annotations

import functools
from typing import Any

import lamina.linalg as LA
import numpy as np
import scipy.linalg as sla
from lamina.testing import ErrorInput, FunctionInfo, Sample

from . import toplevel as T
from ._common import LinAlgError

__lamina_plugin_api__ = "1.0"

DB = frozenset({"double_backward"})


def _r(xp, dtype, rng, *shape) -> Any:
    return xp.asarray(rng.standard_normal(shape).astype(dtype))


def _well(xp, dtype, rng, *shape) -> Any:
    n = shape[-1]
    return xp.asarray((rng.standard_normal(shape) + n * np.eye(n)).astype(dtype))


def _square(xp, dtype, rng):
    w = functools.partial(_well, xp, dtype, rng)
    return [Sample((w(3, 3),), name="3x3"), Sample((w(2, 4, 4),), name="batch"),
            Sample((w(2, 4, 4).swapaxes(-1, -2),), name="non_contiguous")]


def _general(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(4, 3),), name="tall"), Sample((r(2, 3, 5),), name="wide_batch"),
            Sample((r(3, 3),), name="square")]


def _pair(xp, dtype, rng):
    w, r = functools.partial(_well, xp, dtype, rng), functools.partial(_r, xp, dtype, rng)
    return [Sample((w(3, 3), r(3, 2)), name="matrix_rhs"), Sample((w(2, 3, 3), r(2, 3)), name="vector_rhs"),
            Sample((w(2, 3, 3), r(4, 1, 3, 2)), name="broadcast")]


def _sq_errors(name: str, singular: tuple | None = None):
    def make(xp, dtype, rng):
        errs = [ErrorInput(Sample((_r(xp, dtype, rng, 2, 3),)), RuntimeError,
                           f"{name}: A must be batches of square matrices, but they are 2 by 3 matrices"),
                ErrorInput(Sample((_r(xp, dtype, rng, 3),)), RuntimeError,
                           f"{name}: The input tensor A must have at least 2 dimensions."),
                ErrorInput(Sample((xp.ones((2, 2), dtype=np.int64),)), RuntimeError,
                           f"{name}: Expected a floating point or complex tensor as input. Got Long")]
        if singular is not None:
            z = np.zeros((3, 2, 2), dtype)
            z[0] = z[2] = np.eye(2)
            z[1, 0, 0] = 1
            errs.append(ErrorInput(Sample((xp.asarray(z),)), LinAlgError, singular[0]))
        return errs
    return make


def _sym(fn):
    def wrapped(A):
        return fn(A + A.mT)
    wrapped.__name__ = f"{fn.__name__}_sym"
    return wrapped


def _spd_ref(ref):
    return lambda A: ref(A + A.swapaxes(-1, -2))


def _chol_of(A):
    import lamina
    return LA.cholesky(A @ A.mT + A.shape[-2] * lamina.eye(A.shape[-2], dtype=A.dtype))


def _spd_samples(xp, dtype, rng):
    X = rng.standard_normal((2, 3, 3))
    return [Sample((xp.asarray((X @ X.swapaxes(-1, -2) + 3 * np.eye(3)).astype(dtype)),), grad_args=(), name="spd")]


def _ref_chol(A):
    return np.linalg.cholesky(A @ A.swapaxes(-1, -2) + A.shape[-2] * np.eye(A.shape[-2]))


def _solve_samples(xp, dtype, rng):
    return _pair(xp, dtype, rng)


def _tri_samples(xp, dtype, rng):
    w, r = functools.partial(_well, xp, dtype, rng), functools.partial(_r, xp, dtype, rng)
    return [Sample((w(3, 3), r(3, 2)), {"upper": True}, name="upper"),
            Sample((w(2, 3, 3), r(2, 3, 4)), {"upper": False, "unitriangular": True}, name="lower_unit"),
            Sample((w(3, 3), r(2, 3)), {"upper": True, "left": False}, name="right")]


def _ref_tri(A, B, upper, left=True, unitriangular=False):
    M = np.triu(A) if upper else np.tril(A)
    if unitriangular:
        M = M - np.diagonal(M, axis1=-2, axis2=-1)[..., None] * np.eye(M.shape[-1]) + np.eye(M.shape[-1])
    return np.linalg.solve(M, B) if left else np.linalg.solve(M.swapaxes(-1, -2), B.swapaxes(-1, -2)).swapaxes(-1, -2)


def _ref_solve(A, B):
    vec = B.ndim == A.ndim - 1 and B.shape == A.shape[:-1]
    X = np.linalg.solve(A, B[..., None] if vec else B)
    return X[..., 0] if vec else X


def _norm_samples(ords, matrix: bool):
    def make(xp, dtype, rng):
        r = functools.partial(_r, xp, dtype, rng)
        out = []
        for o in ords:
            out.append(Sample((r(2, 3, 4),), {"ord": o}, name=f"ord={o}"))
        out.append(Sample((r(3, 4, 2),), {"ord": ords[0], "dim": (0, 2) if matrix else 1, "keepdim": True},
                          name="dim_keepdim"))
        return out
    return make


def _ref_vnorm(x, ord=2, dim=None, keepdim=False):
    a = np.abs(x)
    axes = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    if ord == np.inf:
        return a.max(axis=axes, keepdims=keepdim)
    if ord == -np.inf:
        return a.min(axis=axes, keepdims=keepdim)
    return (a ** ord).sum(axis=axes, keepdims=keepdim) ** (1 / ord)


def _ref_mnorm(A, ord="fro", dim=(-2, -1), keepdim=False):
    B = np.moveaxis(A, dim, (-2, -1))
    y = np.linalg.norm(B, ord=ord, axis=(-2, -1))
    if keepdim:
        for d in sorted(d % A.ndim for d in dim):
            y = np.expand_dims(y, d)
    return y


def _lstsq_solution(A, B):
    return LA.lstsq(A, B).solution


def _lu_packed(A):
    return LA.lu_factor(A).LU


def _ref_lu_packed(A):
    def one(a):
        return sla.lu_factor(a)[0]
    return np.stack([one(a) for a in A.reshape((-1,) + A.shape[-2:])]).reshape(A.shape)


def _lu_solve_fn(A, B):
    LU, piv = LA.lu_factor(A)
    return LA.lu_solve(LU, piv, B)


def _eigvals_abs(A):
    return LA.eigvals(A).abs()


def _ref_eigvals_abs(A):
    return np.abs(np.linalg.eigvals(A))


def _svd_thin(A):
    return LA.svd(A, full_matrices=False)


def _eigh_sym(A):
    return LA.eigh(A + A.mT)


def _multi_dot(a, b, c):
    return LA.multi_dot([a, b, c])


def _md_samples(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(3), r(3, 5), r(5, 2)), name="vector_first"), Sample((r(2, 3), r(3, 4), r(4)), name="vector_last")]


def _hh_samples(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(5, 3), r(3)), name="full_tau"), Sample((r(2, 4, 3), r(2, 2)), name="batch_short_tau")]


def _ref_hh(A, tau):
    def one(a, t):
        m, n = a.shape
        Q = np.eye(m)
        for i in range(t.shape[0]):
            v = np.zeros(m)
            v[i] = 1
            v[i + 1:] = a[i + 1:, i]
            Q = Q @ (np.eye(m) - t[i] * np.outer(v, v))
        return Q[:, :n]
    flat = A.reshape((-1,) + A.shape[-2:])
    taus = tau.reshape((-1, tau.shape[-1]))
    return np.stack([one(a, t) for a, t in zip(flat, taus)]).reshape(A.shape)


def _power_samples(xp, dtype, rng):
    w = functools.partial(_well, xp, dtype, rng)
    return [Sample((w(3, 3) / 3, 3), name="n=3"), Sample((w(2, 3, 3) / 3, -2), name="n=-2")]


def _cross_samples(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(4, 3), r(4, 3)), name="rows"), Sample((r(3, 2), r(3, 1)), {"dim": 0}, name="dim0_broadcast")]


def _ref_cross(a, b, dim=-1):
    return np.cross(a, b, axis=dim)


def _vec_samples(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(4, 3), r(4, 3)), name="rows"), Sample((r(3, 2), r(3, 1)), {"dim": 0}, name="dim0")]


def _tinv_samples(xp, dtype, rng):
    return [Sample((_well(xp, dtype, rng, 6, 6).reshape(2, 3, 6), 2), name="ind=2")]


def _tsolve_samples(xp, dtype, rng):
    return [Sample((_well(xp, dtype, rng, 6, 6).reshape(2, 3, 6), _r(xp, dtype, rng, 2, 3)), name="6x6")]


def _diag_samples(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(3, 4),), name="main"), Sample((r(2, 3, 4),), {"offset": 1, "dim1": 0, "dim2": 2}, name="offset")]


def _ref_diag(A, offset=0, dim1=-2, dim2=-1):
    return np.diagonal(A, offset, dim1, dim2)


def _vander_samples(xp, dtype, rng):
    return [Sample((_r(xp, dtype, rng, 2, 3),), {"N": 4}, name="N=4"), Sample((_r(xp, dtype, rng, 3),), name="square")]


def _ref_vander(x, N=None):
    N = x.shape[-1] if N is None else N
    return x[..., None] ** np.arange(N)


def _chol_solve_samples(xp, dtype, rng):
    return [Sample((_r(xp, dtype, rng, 3, 2), _r(xp, dtype, rng, 3, 3)), name="3x3")]


def _chol_solve(B, X):
    return T.cholesky_solve(B, _chol_of(X))


def _ref_chol_solve(B, X):
    L = _ref_chol(X)
    return np.linalg.solve(L @ L.T, B)


def _tsolve_ref(A, B):
    return np.linalg.tensorsolve(A, B)


def records() -> list:
    """Every kit record of lamina-linalg: the linalg functions, then the top-level forms."""
    from .testing_toplevel import records as toplevel_records
    return linalg_records() + toplevel_records()


def linalg_records() -> list:
    """Records of the ``lamina.linalg`` functions."""
    F = FunctionInfo
    return [
        F(fn=LA.det, name="det", sample_inputs=_square, reference=np.linalg.det, tags=DB,
          error_inputs=_sq_errors("linalg.det")),
        F(fn=lambda A: LA.slogdet(A).logabsdet, name="slogdet(logabsdet)", sample_inputs=_square, tags=DB,
          reference=lambda A: np.linalg.slogdet(A)[1], error_inputs=_sq_errors("linalg.slogdet")),
        F(fn=LA.inv, name="inv", sample_inputs=_square, reference=np.linalg.inv, tags=DB,
          error_inputs=_sq_errors("linalg.inv", (r"linalg.inv: \(Batch element 1\): The diagonal element 2 is zero, "
                                                 r"the inversion could not be completed because the input matrix is "
                                                 r"singular\.",))),
        F(fn=lambda A: LA.inv_ex(A).inverse, name="inv_ex(inverse)", sample_inputs=_square, reference=np.linalg.inv,
          tags=DB),
        F(fn=LA.solve, name="solve", sample_inputs=_solve_samples, reference=_ref_solve, tags=DB),
        F(fn=LA.solve_triangular, name="solve_triangular", sample_inputs=_tri_samples, reference=_ref_tri, tags=DB),
        F(fn=_chol_of, name="cholesky(X X^T + nI)", sample_inputs=_general, reference=_ref_chol, tags=DB),
        F(fn=LA.cholesky, name="cholesky", sample_inputs=_spd_samples, reference=np.linalg.cholesky,
          error_inputs=_sq_errors(
            "linalg.cholesky", (r"linalg.cholesky: \(Batch element 1\): The factorization could not be completed "
                                r"because the input is not positive-definite \(the leading minor of order 2 is not "
                                r"positive-definite\)\.",))),
        F(fn=_chol_solve, name="cholesky_solve", sample_inputs=_chol_solve_samples, reference=_ref_chol_solve,
          tags=DB),
        F(fn=LA.qr, name="qr", sample_inputs=_general, reference=lambda A: np.linalg.qr(A), tags=DB),
        F(fn=_svd_thin, name="svd(full_matrices=False)", sample_inputs=_general, tags=DB,
          reference=lambda A: np.linalg.svd(A, full_matrices=False)),
        F(fn=LA.svdvals, name="svdvals", sample_inputs=_general, tags=DB,
          reference=lambda A: np.linalg.svd(A, compute_uv=False)),
        F(fn=_eigh_sym, name="eigh(A + A^T)", sample_inputs=_square, tags=DB,
          reference=_spd_ref(np.linalg.eigh)),
        F(fn=_sym(LA.eigvalsh), name="eigvalsh(A + A^T)", sample_inputs=_square, tags=DB,
          reference=_spd_ref(np.linalg.eigvalsh)),
        F(fn=_eigvals_abs, name="eigvals(|.|)", sample_inputs=_square, reference=_ref_eigvals_abs, tags=DB),
        F(fn=_lstsq_solution, name="lstsq(solution)", sample_inputs=lambda xp, dt, rng: [
            Sample((_r(xp, dt, rng, 5, 3), _r(xp, dt, rng, 5, 2)), name="tall"),
            Sample((_r(xp, dt, rng, 2, 3, 5), _r(xp, dt, rng, 2, 3, 2)), name="wide_batch")],
          reference=lambda A, B: np.linalg.pinv(A) @ B, tags=DB),
        F(fn=LA.pinv, name="pinv", sample_inputs=_general, reference=np.linalg.pinv, tags=DB),
        F(fn=LA.matrix_power, name="matrix_power", sample_inputs=_power_samples, reference=np.linalg.matrix_power,
          tags=DB),
        F(fn=LA.matrix_exp, name="matrix_exp", sample_inputs=lambda xp, dt, rng: [
            Sample((_r(xp, dt, rng, 3, 3) / 2,), name="3x3"), Sample((_r(xp, dt, rng, 2, 2, 2),), name="batch")],
          reference=sla.expm, tags=DB, error_inputs=_sq_errors("linalg.matrix_exp")),
        F(fn=LA.vector_norm, name="vector_norm", sample_inputs=_norm_samples((2, 1, np.inf, -np.inf, 3, 0.5), False),
          reference=_ref_vnorm, tags=DB),
        F(fn=LA.matrix_norm, name="matrix_norm", sample_inputs=_norm_samples(("fro", "nuc", 2, -2, 1, -1, np.inf),
                                                                            True), reference=_ref_mnorm, tags=DB),
        F(fn=LA.cond, name="cond", sample_inputs=_square, reference=np.linalg.cond, tags=DB),
        F(fn=LA.cross, name="cross", sample_inputs=_cross_samples, reference=_ref_cross, tags=DB),
        F(fn=LA.vecdot, name="vecdot", sample_inputs=_vec_samples, tags=DB,
          reference=lambda x, y, dim=-1: (x * y).sum(axis=dim)),
        F(fn=_multi_dot, name="multi_dot", sample_inputs=_md_samples, reference=lambda a, b, c: a @ b @ c, tags=DB),
        F(fn=LA.householder_product, name="householder_product", sample_inputs=_hh_samples, reference=_ref_hh,
          tags=DB),
        F(fn=LA.tensorinv, name="tensorinv", sample_inputs=_tinv_samples, reference=np.linalg.tensorinv, tags=DB),
        F(fn=LA.tensorsolve, name="tensorsolve", sample_inputs=_tsolve_samples, reference=_tsolve_ref, tags=DB),
        F(fn=_lu_packed, name="lu_factor(LU)", sample_inputs=_square, reference=_ref_lu_packed, tags=DB),
        F(fn=_lu_solve_fn, name="lu_solve", sample_inputs=lambda xp, dt, rng: _pair(xp, dt, rng)[:1],
          reference=np.linalg.solve, tags=DB),
        F(fn=LA.diagonal, name="diagonal", sample_inputs=_diag_samples, reference=_ref_diag, tags=DB),
        F(fn=LA.vander, name="vander", sample_inputs=_vander_samples, reference=_ref_vander, tags=DB),
    ]
