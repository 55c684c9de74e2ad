"""Kit records of torch's top-level linear-algebra forms (``lamina.det``, ``lamina.svd``, ...), one per
``lamina.functions`` entry; the removed names (eig, symeig, solve, lstsq, matrix_rank) are error-only."""

from __future__ import annotations

import functools

import numpy as np
import scipy.linalg as sla
from lamina.testing import ErrorInput, FunctionInfo, Sample

from . import legacy
from . import toplevel as T
from .testing import DB, _general, _r, _ref_chol, _ref_hh, _spd_samples, _square, _well

_ND = frozenset({"double_backward"})


def _b_and_tri(xp, dtype, rng):
    w, r = functools.partial(_well, xp, dtype, rng), functools.partial(_r, xp, dtype, rng)
    return [Sample((r(3, 2), np.triu(w(3, 3))), name="upper"),
            Sample((r(2, 3, 2), np.tril(w(2, 3, 3))), {"upper": False, "transpose": True}, name="lower_transposed")]


def _ref_tsolve(b, A, upper=True, transpose=False, unitriangular=False):
    M = np.triu(A) if upper else np.tril(A)
    M = M.swapaxes(-1, -2) if transpose else M
    return np.linalg.solve(M, b), A


def _chol_factor(xp, dtype, rng):
    L = np.linalg.cholesky(np.asarray(_spd_samples(np, np.float64, rng)[0].args[0]))
    return xp.asarray(L.astype(dtype))


_FULL_L = ("torch's convention: the factor's gradient is that of the full matrix L, while finite differences see "
           "only its triangle (test_linalg_toplevel.py gradchecks through tril(L))")


def _chol_inv_samples(xp, dtype, rng):
    return [Sample((_chol_factor(xp, dtype, rng),), name="lower")]


def _chol_solve_samples(xp, dtype, rng):
    return [Sample((_r(xp, dtype, rng, 2, 3, 2), _chol_factor(xp, dtype, rng)), name="lower", grad_args=(0,))]


def _ref_chol_solve(B, L, upper=False):
    return np.linalg.solve(L @ L.swapaxes(-1, -2), B)


def _mats(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(2, 3), r(3, 4), r(4, 2)), name="three")]


def _geqrf_ref(A):
    return sla.qr(A, mode="raw")[0][0], sla.qr(A, mode="raw")[0][1]


def _hh_pair(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(5, 3), r(3)), name="5x3")]


def _ormqr_samples(xp, dtype, rng):
    r = functools.partial(_r, xp, dtype, rng)
    return [Sample((r(5, 3), r(3), r(5, 2)), name="left"), Sample((r(5, 3), r(3), r(2, 5), False, True),
                                                                  name="right_transposed")]


def _ref_ormqr(A, tau, C, left=True, transpose=False):
    m = A.shape[-2]
    Q = _ref_hh(np.concatenate([A, np.zeros((m, m - A.shape[-1]))], -1), tau)
    Q = Q.T if transpose else Q
    return Q @ C if left else C @ Q


def _lu_samples(xp, dtype, rng):
    return [Sample((_well(xp, dtype, rng, 3, 3),), name="3x3")]


def _lu_unpack_samples(xp, dtype, rng):
    LU, piv, _ = sla.lapack.dgetrf(rng.standard_normal((3, 3)))
    return [Sample((xp.asarray(LU.astype(dtype)), xp.asarray((piv + 1).astype(np.int32))), name="3x3")]


def _ref_lu_unpack(LU, piv):
    n = LU.shape[-1]
    perm = list(range(n))
    for i, p in enumerate(piv - 1):
        perm[i], perm[p] = perm[p], perm[i]
    P = np.zeros((n, n))
    P[perm, np.arange(n)] = 1
    return P, np.tril(LU, -1) + np.eye(n), np.triu(LU)


def _lu_solve_samples(xp, dtype, rng):
    A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    LU, piv, _ = sla.lapack.dgetrf(A)
    return [Sample((_r(xp, dtype, rng, 3, 2), xp.asarray(LU.astype(dtype)), xp.asarray((piv + 1).astype(np.int32))),
                   name="3x3")]


def _ref_lu_solve(b, LU, piv):
    P, L, U = _ref_lu_unpack(LU, piv)
    return np.linalg.solve(P @ L @ U, b)


def _removed(name: str):
    def make(xp, dtype, rng):
        eye = xp.asarray(np.eye(2, dtype=dtype))
        return [ErrorInput(Sample((eye, eye)), RuntimeError, "This function was deprecated since version 1.9 and "
                                                                 "is now removed")]
    return make


def _norm_samples(xp, dtype, rng):
    return [Sample((_r(xp, dtype, rng, 3, 4),), name="matrix")]


def _frob_samples(xp, dtype, rng):
    return [Sample((_r(xp, dtype, rng, 3, 4), (0, 1)), name="matrix")]


def _svd_old_ref(A, some=True, compute_uv=True):
    U, S, Vh = np.linalg.svd(A, full_matrices=not some)
    return U, S, Vh.swapaxes(-1, -2)


def _matrix_samples(xp, dtype, rng):
    return [Sample((_well(xp, dtype, rng, 3, 3), 2), name="n=2")]


_RANDOM = {"fn_gradcheck": "randomised: every call draws a new projection, so finite differences see noise"}


def records() -> list:
    """Records of the top-level forms (one per ``lamina.functions`` entry)."""
    F = FunctionInfo
    recs = [
        F(fn=T.det, name="torch.det", sample_inputs=_square, reference=np.linalg.det, tags=DB),
        F(fn=T.logdet, name="torch.logdet", sample_inputs=_square, reference=lambda A: np.log(np.linalg.det(A)),
          tags=DB),
        F(fn=T.slogdet, name="torch.slogdet", sample_inputs=_square, reference=np.linalg.slogdet, tags=DB),
        F(fn=T.inverse, name="torch.inverse", sample_inputs=_square, reference=np.linalg.inv, tags=DB),
        F(fn=T.cholesky, name="torch.cholesky", sample_inputs=_spd_samples, reference=np.linalg.cholesky),
        F(fn=_top_chol_of, name="torch.cholesky(X X^T + nI)", sample_inputs=_general, reference=_ref_chol, tags=DB),
        F(fn=T.cholesky_inverse, name="torch.cholesky_inverse", sample_inputs=_chol_inv_samples,
          reference=lambda L, upper=False: np.linalg.inv(L @ L.swapaxes(-1, -2)), tags=DB, expected_failures={
              "fn_gradcheck": _FULL_L, "fn_double_backward": _FULL_L}),
        F(fn=T.cholesky_solve, name="torch.cholesky_solve", sample_inputs=_chol_solve_samples, tags=DB,
          reference=_ref_chol_solve),
        F(fn=T.qr, name="torch.qr", sample_inputs=_general, reference=np.linalg.qr, tags=DB),
        F(fn=T.svd, name="torch.svd", sample_inputs=_general, reference=_svd_old_ref, tags=DB),
        F(fn=T.pinverse, name="torch.pinverse", sample_inputs=_general, reference=np.linalg.pinv, tags=DB),
        F(fn=T.matrix_power, name="torch.matrix_power", sample_inputs=_matrix_samples, tags=DB,
          reference=np.linalg.matrix_power),
        F(fn=T.matrix_exp, name="torch.matrix_exp", sample_inputs=_lu_samples, reference=sla.expm, tags=DB),
        F(fn=T.lu, name="torch.lu", sample_inputs=_lu_samples, tags=DB,
          reference=lambda A: (sla.lu_factor(A)[0], (sla.lu_factor(A)[1] + 1).astype(np.int32))),
        F(fn=T.lu_solve, name="torch.lu_solve", sample_inputs=_lu_solve_samples, reference=_ref_lu_solve, tags=DB),
        F(fn=T.lu_unpack, name="torch.lu_unpack", sample_inputs=_lu_unpack_samples, reference=_ref_lu_unpack,
          tags=DB),
        F(fn=T.triangular_solve, name="torch.triangular_solve", sample_inputs=_b_and_tri, reference=_ref_tsolve,
          tags=DB),
        F(fn=T.geqrf, name="torch.geqrf", sample_inputs=_hh_pair_a, reference=_geqrf_ref,
          expected_failures={"fn_gradcheck": "geqrf is not differentiable (as in torch)"}),
        F(fn=T.orgqr, name="torch.orgqr", sample_inputs=_hh_pair, reference=_ref_hh, tags=DB),
        F(fn=T.ormqr, name="torch.ormqr", sample_inputs=_ormqr_samples, reference=_ref_ormqr, tags=DB),
        F(fn=T.chain_matmul, name="torch.chain_matmul", sample_inputs=_mats, reference=lambda a, b, c: a @ b @ c,
          tags=DB),
        F(fn=T.nuclear_norm, name="torch.nuclear_norm", sample_inputs=_norm_samples, tags=DB,
          reference=lambda A: np.linalg.norm(A, "nuc")),
        F(fn=T.frobenius_norm, name="torch.frobenius_norm", sample_inputs=_frob_samples, tags=DB,
          reference=lambda A, dim: np.linalg.norm(A, axis=dim)),
        F(fn=T.cross, name="torch.cross", sample_inputs=lambda xp, dt, rng: [
            Sample((_r(xp, dt, rng, 4, 3), _r(xp, dt, rng, 4, 3)), {"dim": 1}, name="dim1")],
          reference=lambda a, b, dim: np.cross(a, b, axis=dim), tags=DB),
        F(fn=T.svd_lowrank, name="torch.svd_lowrank", sample_inputs=_lowrank_samples, tags=frozenset({"random"}),
          expected_failures=_RANDOM),
        F(fn=T.pca_lowrank, name="torch.pca_lowrank", sample_inputs=_lowrank_samples, tags=frozenset({"random"}),
          expected_failures=_RANDOM),
    ]
    recs += [F(fn=_lobpcg_e, name="torch.lobpcg(E)", sample_inputs=_lobpcg_samples, reference=_ref_lobpcg_e,
               covers=(T.lobpcg,), tags=DB),
             F(fn=_lobpcg_proj, name="torch.lobpcg(X X^T)", sample_inputs=_lobpcg_samples, reference=_ref_lobpcg_proj,
               tags=DB),
             F(fn=_seeded(T.svd_lowrank), name="torch.svd_lowrank[seeded]", sample_inputs=_lowrank_samples, tags=DB,
               reference=lambda A: np.linalg.svd(A)[1][:2]),
             F(fn=_seeded(T.pca_lowrank), name="torch.pca_lowrank[seeded]", sample_inputs=_lowrank_samples, tags=DB,
               reference=lambda A: np.linalg.svd(A - A.mean(0))[1][:2])]
    for name in ("eig", "symeig", "solve", "lstsq", "matrix_rank"):
        recs.append(F(fn=getattr(legacy, name), name=f"torch.{name}", error_inputs=_removed(name)))
    return recs


def _hh_pair_a(xp, dtype, rng):
    return [Sample((_r(xp, dtype, rng, 5, 3),), name="5x3")]


def _lowrank_samples(xp, dtype, rng):
    low = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))   # rank 2: q = 6 recovers it exactly
    return [Sample((xp.asarray(low.astype(dtype)),), name="rank2")]


def _top_chol_of(A):
    """torch.cholesky of an SPD matrix built from any A: its gradient sees the whole of A (not one triangle)."""
    import lamina
    return T.cholesky(A @ A.mT + A.shape[-2] * lamina.eye(A.shape[-2], dtype=A.dtype))


def _seeded(fn):
    """S of a rank-2 low-rank SVD, the generator seeded before each call: the same projection every time, so
    finite differences (and gradgradcheck) see a smooth function."""
    def run(A):
        import lamina
        lamina.manual_seed(0)
        return fn(A, q=2)[1]
    return run


def _lobpcg_samples(xp, dtype, rng):
    """A symmetric 6 x 6 with well separated eigenvalues and a 6 x 2 start (m >= 3 n)."""
    A = rng.standard_normal((6, 6))
    A = A + A.T + np.diag(4.0 * np.arange(6))
    return [Sample((xp.asarray(A.astype(dtype)), xp.asarray(rng.standard_normal((6, 2)).astype(dtype))),
                   grad_args=(0,), name="6x6_k2")]


def _lobpcg(A, X):
    """lobpcg of sym(A) (finite differences perturb one entry), converged tightly in float64."""
    import lamina
    tol = 1e-12 if A.dtype == lamina.float64 else None
    return T.lobpcg((A + A.mT) / 2, k=2, X=X, tol=tol)


def _lobpcg_e(A, X):
    return _lobpcg(A, X)[0]


def _lobpcg_proj(A, X):
    U = _lobpcg(A, X)[1]
    return U @ U.mT                                                   # free of the eigenvectors' signs


def _ref_lobpcg_e(A, X):
    return np.linalg.eigvalsh((A + A.T) / 2)[::-1][:2]


def _ref_lobpcg_proj(A, X):
    U = np.linalg.eigh((A + A.T) / 2)[1][:, ::-1][:, :2]
    return U @ U.T
