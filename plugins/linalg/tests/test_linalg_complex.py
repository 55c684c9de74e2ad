"""Complex inputs (complex64, complex128) vs torch.linalg: values, result dtypes and gradients (torch's
conjugate-Wirtinger convention), gauge-invariant losses for singular / eigen vectors, and gradcheck."""

from __future__ import annotations

import lamina
import lamina.linalg as LA
import numpy as np
import pytest
from _linalg_helpers import torch
from lamina.testing import gradcheck, gradgradcheck
from lamina_linalg._ops import mH  # the conjugating transpose (the core's Tensor.mH does not conjugate yet)

DT = ["complex64", "complex128"]
TOL = {"complex64": 2e-4, "complex128": 1e-9}


def _inputs(dtype):
    r = np.random.default_rng(0)
    A = r.standard_normal((2, 3, 3)) + 1j * r.standard_normal((2, 3, 3)) + 3 * np.eye(3)
    B = r.standard_normal((2, 3, 2)) + 1j * r.standard_normal((2, 3, 2))
    H = A @ A.conj().swapaxes(-1, -2)
    W = r.standard_normal((2, 4, 3)) + 1j * r.standard_normal((2, 4, 3))
    return [x.astype(dtype) for x in (A, B, H, W)]


def _svd_loss(L, w):
    U, s, Vh = L.svd(w, full_matrices=False)
    return (U @ Vh).abs().sum() + s.sum() + (U[..., :1] * Vh[..., :1, :]).abs().sum()


CASES = {
    "inv": lambda L, a, b, h, w: L.inv(a), "det": lambda L, a, b, h, w: L.det(a),
    "slogdet": lambda L, a, b, h, w: tuple(L.slogdet(a)), "solve": lambda L, a, b, h, w: L.solve(a, b),
    "solve_triangular": lambda L, a, b, h, w: L.solve_triangular(a, b, upper=True),
    "cholesky": lambda L, a, b, h, w: L.cholesky(h), "qr": lambda L, a, b, h, w: tuple(L.qr(w)),
    "svd": lambda L, a, b, h, w: _svd_loss(L, w), "svdvals": lambda L, a, b, h, w: L.svdvals(w),
    "eigh": lambda L, a, b, h, w: (lambda e: e[0].sum() + (e[1] * e[1][..., :1, :].conj()).abs().sum())(L.eigh(h)),
    "eigvalsh": lambda L, a, b, h, w: L.eigvalsh(h), "eig": lambda L, a, b, h, w: (
        lambda e: e[0].abs().sum() + e[1].abs().sum())(L.eig(a)),
    "pinv": lambda L, a, b, h, w: L.pinv(w), "matrix_exp": lambda L, a, b, h, w: L.matrix_exp(a / 3),
    "vector_norm": lambda L, a, b, h, w: L.vector_norm(a, 3, -1),
    "matrix_norm": lambda L, a, b, h, w: L.matrix_norm(a),
    "lstsq": lambda L, a, b, h, w: L.lstsq(w, w[..., :2]).solution,
    "lu_factor": lambda L, a, b, h, w: L.lu_factor(a).LU,
    "vecdot": lambda L, a, b, h, w: L.vecdot(a, b.mT[..., :1, :]), "cross": lambda L, a, b, h, w: L.cross(a, a.mT),
    "householder_product": lambda L, a, b, h, w: L.householder_product(w, w[..., 0, :2]),
    "matrix_power": lambda L, a, b, h, w: L.matrix_power(a, -2),
}


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_parity(name, dtype):
    f = CASES[name]
    arrays = _inputs(dtype)
    ours = [lamina.tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    got, exp = f(LA, *ours), f(torch.linalg, *theirs)
    got, exp = (got if isinstance(got, tuple) else (got,)), (exp if isinstance(exp, tuple) else (exp,))
    tol = TOL[dtype] * 10
    loss_l = loss_t = 0
    for g, e in zip(got, exp):
        assert str(g.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
        np.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=tol, atol=tol)
        if e.requires_grad:
            loss_l = loss_l + (g.abs() * g.abs()).sum()
            loss_t = loss_t + (e.abs() ** 2).sum()
    loss_l.backward()
    loss_t.backward()
    for x, y in zip(ours, theirs):
        if y.grad is not None:
            expected = y.grad.resolve_conj().numpy()
            scale = max(1.0, float(np.abs(expected).max()))
            np.testing.assert_allclose(x.grad.numpy(), expected, rtol=tol * 10, atol=tol * 10 * scale)


def test_complex_gradcheck():
    A, B, H, W = (lamina.tensor(x, requires_grad=True) for x in _inputs("complex128"))
    for fn, args in [(LA.inv, (A,)), (LA.det, (A,)), (LA.solve, (A, B)), (lambda w: LA.qr(w).R, (W,)),
                     (lambda w: (lambda U, s, Vh: (U @ Vh, s))(*LA.svd(w, full_matrices=False)), (W,)),
                     (lambda a: LA.cholesky(a @ mH(a)), (A,)), (LA.pinv, (W,))]:
        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)
