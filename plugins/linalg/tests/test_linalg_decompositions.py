"""cholesky(_ex), qr, svd/svdvals, eigh/eigvalsh, eig/eigvals, lu/lu_factor(_ex)/lu_solve, ldl_* vs
torch.linalg: values (gauge-free forms for singular/eigen vectors), gradients, batches, errors, and
float64 gradcheck / gradgradcheck."""

from __future__ import annotations

import lamina
import lamina.linalg as LA
import numpy as np
import pytest
from _linalg_helpers import parity, rng, spd, tensors64, torch, well
from lamina.testing import gradcheck, gradgradcheck

DT = ["float32", "float64"]


def _sym(fn):
    return lambda a: fn(a + a.mT)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 3, 3)])
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_parity(shape, upper, dtype):
    A = spd(rng(), *shape)
    parity(lambda a: LA.cholesky(a, upper=upper), lambda a: torch.linalg.cholesky(a, upper=upper), [A], dtype)
    parity(lambda a: tuple(LA.cholesky_ex(a, upper=upper)), lambda a: tuple(torch.linalg.cholesky_ex(a, upper=upper)),
           [A], dtype)


def test_cholesky_errors_match_torch():
    bad = np.stack([np.eye(3), np.diag([1.0, -1.0, 1.0])])
    with pytest.raises(RuntimeError) as t:
        torch.linalg.cholesky(torch.tensor(bad))
    with pytest.raises(LA.LinAlgError) as e:
        LA.cholesky(lamina.tensor(bad))
    assert str(e.value) == str(t.value)
    got, exp = LA.cholesky_ex(lamina.tensor(bad)), torch.linalg.cholesky_ex(torch.tensor(bad))
    np.testing.assert_array_equal(got.info.numpy(), exp.info.numpy())
    with pytest.raises(RuntimeError, match=r"^linalg.cholesky: A must be batches of square matrices, but they are "
                                           r"2 by 3 matrices$"):
        LA.cholesky(lamina.ones(2, 3))


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (3, 5), (2, 5, 3), (2, 3, 5), (0, 3, 2)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_parity(shape, mode, dtype):
    grad = mode == "reduced" or (mode == "complete" and shape[-2] <= shape[-1])
    fl = (lambda a: LA.qr(a, mode).R) if mode == "r" else (lambda a: tuple(LA.qr(a, mode)))
    ft = (lambda a: torch.linalg.qr(a, mode).R) if mode == "r" else (lambda a: tuple(torch.linalg.qr(a, mode)))
    parity(fl, ft, [rng().standard_normal(shape)], dtype, grad=grad)
    if mode == "r":
        assert LA.qr(lamina.ones(3, 2), "r").Q.shape == torch.linalg.qr(torch.ones(3, 2), "r").Q.shape


def test_qr_errors_match_torch():
    for kw in [{"mode": "foo"}]:
        with pytest.raises(RuntimeError) as t:
            torch.linalg.qr(torch.eye(2), **kw)
        with pytest.raises(RuntimeError) as e:
            LA.qr(lamina.eye(2), **kw)
        assert str(e.value) == str(t.value)
    a = lamina.randn(4, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable when mode='complete' and nrows > ncols"):
        LA.qr(a, "complete").Q.sum().backward()
    with pytest.raises(RuntimeError, match="mode='r'"):
        LA.qr(a, "r").R.sum().backward()


def _svd_gauge(out):
    U, S, Vh = out
    k = S.shape[-1]
    return U[..., :, :k] @ Vh[..., :k, :], S, U[..., :, :1] * Vh[..., :1, :]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 3, 5), (0, 3, 2)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_parity(shape, full, dtype):
    A = rng(2).standard_normal(shape)
    parity(lambda a: tuple(LA.svd(a, full)), lambda a: tuple(torch.linalg.svd(a, full)), [A], dtype,
           post=_svd_gauge)
    parity(LA.svdvals, torch.linalg.svdvals, [A], dtype)
    U, S, Vh = LA.svd(lamina.tensor(A), full)
    tU, tS, tVh = torch.linalg.svd(torch.tensor(A), full)
    assert U.shape == tU.shape and Vh.shape == tVh.shape


def test_svd_driver_is_refused_on_cpu():
    with pytest.raises(RuntimeError, match="only supported on CUDA inputs"):
        LA.svd(lamina.eye(2), driver="gesvd")


def _eigh_gauge(out):
    w, V = out
    return w, V * V[..., :1, :]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (0, 2, 2)])
@pytest.mark.parametrize("UPLO", ["L", "U"])
def test_eigh_parity(shape, UPLO, dtype):
    A = rng(3).standard_normal(shape)
    parity(_sym(lambda a: tuple(LA.eigh(a, UPLO))), _sym(lambda a: tuple(torch.linalg.eigh(a, UPLO))), [A], dtype,
           post=_eigh_gauge, scale=5)
    parity(_sym(lambda a: LA.eigvalsh(a, UPLO)), _sym(lambda a: torch.linalg.eigvalsh(a, UPLO)), [A], dtype, scale=5)
    with pytest.raises(RuntimeError, match="^Expected UPLO argument to be 'L' or 'U', but got X$"):
        LA.eigh(lamina.eye(2), UPLO="X")


@pytest.mark.parametrize("dtype", DT)
def test_eig_parity(dtype):
    A = rng(4).standard_normal((2, 4, 4))
    w, V = LA.eig(lamina.tensor(A.astype(dtype)))
    tw, tV = torch.linalg.eig(torch.tensor(A.astype(dtype)))
    assert str(w.dtype).split(".")[-1] == str(tw.dtype).split(".")[-1]
    tol = 1e-4 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(w.numpy(), tw.numpy(), rtol=tol, atol=tol)
    # eigenvectors: unit columns, defined up to a phase (LAPACK builds may differ): compare |V| and A V = V diag(w)
    np.testing.assert_allclose(np.abs(V.numpy()), np.abs(tV.numpy()), rtol=tol, atol=tol)
    np.testing.assert_allclose(A.astype(dtype) @ V.numpy(), V.numpy() * w.numpy()[..., None, :], rtol=tol * 10,
                               atol=tol * 10)
    np.testing.assert_allclose(LA.eigvals(lamina.tensor(A.astype(dtype))).numpy(), tw.numpy(), rtol=tol, atol=tol)
    sym = A + A.swapaxes(-1, -2)
    assert LA.eigvals(lamina.tensor(sym)).dtype == lamina.complex128   # complex even when real


def test_eig_gradient_matches_torch():
    A = rng(5).standard_normal((3, 3))
    a, t = lamina.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    w, V = LA.eig(a)
    tw, tV = torch.linalg.eig(t)
    (w.abs().sum() + V.abs().sum()).backward()
    (tw.abs().sum() + tV.abs().sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-10)
    x, = tensors64(A)
    assert gradcheck(lambda x: LA.eigvals(x).abs(), (x,))


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4), (4, 3), (3, 5), (0, 2, 2)])
def test_lu_parity(shape, dtype):
    A = rng(6).standard_normal(shape)
    square = shape[-1] == shape[-2]
    parity(lambda a: tuple(LA.lu_factor(a)), lambda a: tuple(torch.linalg.lu_factor(a)), [A], dtype, grad=square)
    parity(lambda a: tuple(LA.lu_factor_ex(a)), lambda a: tuple(torch.linalg.lu_factor_ex(a)), [A], dtype,
           grad=square)
    parity(lambda a: tuple(LA.lu(a)), lambda a: tuple(torch.linalg.lu(a)), [A], dtype, grad=square)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("adjoint", [True, False])
def test_lu_solve_parity(left, adjoint, dtype):
    r = rng(7)
    A, B = well(r, 2, 3, 3), r.standard_normal((2, 3, 2) if left else (2, 2, 3))

    def ours(a, b):
        LU, piv = LA.lu_factor(a)
        return LA.lu_solve(LU, piv, b, left=left, adjoint=adjoint)

    def theirs(a, b):
        LU, piv = torch.linalg.lu_factor(a)
        return torch.linalg.lu_solve(LU, piv, b, left=left, adjoint=adjoint)

    parity(ours, theirs, [A, B], dtype)


def test_lu_errors_match_torch():
    sing = np.stack([np.eye(2), np.zeros((2, 2))])
    for fl, ft, arr in [(LA.lu_factor, torch.linalg.lu_factor, sing), (LA.lu_factor, torch.linalg.lu_factor, sing[1])]:
        with pytest.raises(RuntimeError) as t:
            ft(torch.tensor(arr))
        with pytest.raises(RuntimeError) as e:
            fl(lamina.tensor(arr))
        assert str(e.value) == str(t.value)
    with pytest.raises(RuntimeError, match="^linalg.lu_factor: LU without pivoting is not implemented on the CPU$"):
        LA.lu_factor(lamina.eye(2), pivot=False)
    with pytest.raises(RuntimeError) as t:
        torch.linalg.lu_solve(torch.eye(2), torch.tensor([1, 2], dtype=torch.int32), torch.ones(3, 1))
    with pytest.raises(RuntimeError) as e:
        LA.lu_solve(lamina.eye(2), lamina.tensor([1, 2], dtype=lamina.int32), lamina.ones(3, 1))
    assert str(e.value) == str(t.value)


@pytest.mark.parametrize("dtype", DT)
def test_ldl_parity(dtype):
    r = rng(8)
    A = r.standard_normal((2, 4, 4))
    A = (A + A.swapaxes(-1, -2)).astype(dtype)
    got, exp = LA.ldl_factor(lamina.tensor(A)), torch.linalg.ldl_factor(torch.tensor(A))
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(got.LD.numpy(), exp.LD.numpy(), rtol=tol, atol=tol)
    np.testing.assert_array_equal(got.pivots.numpy(), exp.pivots.numpy())
    B = r.standard_normal((2, 4, 3)).astype(dtype)
    np.testing.assert_allclose(LA.ldl_solve(got.LD, got.pivots, lamina.tensor(B)).numpy(),
                               torch.linalg.ldl_solve(exp.LD, exp.pivots, torch.tensor(B)).numpy(), rtol=tol * 10,
                               atol=tol * 10)
    ex = LA.ldl_factor_ex(lamina.zeros(2, 2))
    assert int(ex.info) == int(torch.linalg.ldl_factor_ex(torch.zeros(2, 2)).info)
    with pytest.raises(LA.LinAlgError, match="singular"):
        LA.ldl_factor(lamina.zeros(2, 2))


def test_decomposition_gradcheck_and_gradgradcheck():
    r = rng(9)
    X, T, W, S = tensors64(r.standard_normal((2, 3, 3)), r.standard_normal((4, 3)), r.standard_normal((3, 5)),
                           well(r, 3, 3))
    eye = lamina.eye(3, dtype=lamina.float64)
    cases = [
        (lambda x: LA.cholesky(x @ x.mT + 3 * eye), (X,)),
        (lambda x: LA.cholesky(x @ x.mT + 3 * eye, upper=True), (X,)),
        (lambda t: tuple(LA.qr(t)), (T,)), (lambda w: tuple(LA.qr(w)), (W,)),
        (lambda w: tuple(LA.qr(w, "complete")), (W,)),
        (lambda t: _svd_gauge(LA.svd(t, False)), (T,)), (lambda w: _svd_gauge(LA.svd(w, False)), (W,)),
        (LA.svdvals, (W,)),
        (lambda x: _eigh_gauge(LA.eigh(x + x.mT)), (X,)), (lambda x: LA.eigvalsh(x + x.mT), (X,)),
        (lambda s: LA.lu_factor(s).LU, (S,)), (lambda s: LA.lu(s)[1:], (S,)),
    ]
    for fn, args in cases:
        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)
