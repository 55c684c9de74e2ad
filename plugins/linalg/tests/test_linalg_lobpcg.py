"""lamina.lobpcg against torch.lobpcg (same A, B, X): eigenvalues to the solver's tolerance, eigenvectors up to
sign, dtypes, batches, the generalized problem, the gradient for B = None, and torch's errors."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.testing import gradcheck

torch = pytest.importorskip("torch")


def _problem(seed: int, m: int = 30, n: int = 3):
    r = np.random.default_rng(seed)
    Q = np.linalg.qr(r.standard_normal((m, m)))[0]
    A = (Q * np.linspace(1.0, 10.0, m)) @ Q.T
    return A, r.standard_normal((m, n)), r


def _spd(r, m: int) -> np.ndarray:
    Y = r.standard_normal((m, m))
    return Y @ Y.T / m + np.eye(m)


def _aligned(U: np.ndarray, V: np.ndarray) -> float:
    """max over columns of 1 - |<u, v>| / (|u| |v|)."""
    c = np.abs((U * V).sum(-2)) / (np.linalg.norm(U, axis=-2) * np.linalg.norm(V, axis=-2))
    return float(np.max(1 - c))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("largest", [True, False])
def test_values_vs_torch(dtype, largest):
    A, X, _ = _problem(0)
    Et, Xt = torch.lobpcg(torch.tensor(A.astype(dtype)), k=3, X=torch.tensor(X.astype(dtype)), largest=largest)
    El, Xl = lamina.lobpcg(lamina.tensor(A.astype(dtype)), k=3, X=lamina.tensor(X.astype(dtype)), largest=largest)
    assert El.dtype == getattr(lamina, dtype) and Xl.dtype == getattr(lamina, dtype)
    assert tuple(El.shape) == (3,) and tuple(Xl.shape) == (30, 3)
    tol = 1e-5 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(El.numpy(), Et.numpy(), rtol=tol, atol=tol)
    assert _aligned(Xl.numpy(), Xt.numpy()) < (1e-3 if dtype == "float32" else 1e-10)
    w = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(El.numpy(), (w[::-1] if largest else w)[:3], rtol=tol, atol=tol)


def test_k_smaller_than_n_and_default_k():
    A, X, _ = _problem(1, n=4)
    Et, Xt = torch.lobpcg(torch.tensor(A), k=2, X=torch.tensor(X))
    El, Xl = lamina.lobpcg(lamina.tensor(A), k=2, X=lamina.tensor(X))
    np.testing.assert_allclose(El.numpy(), Et.numpy(), rtol=1e-10)
    assert tuple(Xl.shape) == (30, 2)
    E1, X1 = lamina.lobpcg(lamina.tensor(A), X=lamina.tensor(X))             # k = X's columns
    assert tuple(E1.shape) == (4,) and tuple(X1.shape) == (30, 4)


def test_random_start_and_n():
    A, _, _ = _problem(2)
    lamina.manual_seed(0)
    E, X = lamina.lobpcg(lamina.tensor(A), k=2, n=3)
    assert tuple(E.shape) == (2,) and tuple(X.shape) == (30, 2)
    np.testing.assert_allclose(E.numpy(), np.linalg.eigvalsh(A)[::-1][:2], rtol=1e-10)


def test_generalized_vs_torch_and_scipy():
    import scipy.linalg as sla
    A, X, r = _problem(3)
    B = _spd(r, 30)
    for largest in (True, False):
        Et, Xt = torch.lobpcg(torch.tensor(A), k=3, B=torch.tensor(B), X=torch.tensor(X), largest=largest)
        El, Xl = lamina.lobpcg(lamina.tensor(A), k=3, B=lamina.tensor(B), X=lamina.tensor(X), largest=largest)
        np.testing.assert_allclose(El.numpy(), Et.numpy(), rtol=1e-10)
        w = sla.eigh(A, B, eigvals_only=True)
        np.testing.assert_allclose(El.numpy(), (w[::-1] if largest else w)[:3], rtol=1e-10)
        U = Xl.numpy()
        np.testing.assert_allclose(U.T @ B @ U, np.eye(3), atol=1e-8)              # B-orthonormal
        assert _aligned(U, Xt.numpy()) < 1e-8


def test_batch_vs_torch():
    As, Xs = zip(*(_problem(s)[:2] for s in (4, 5)))
    A, X = np.stack(As), np.stack(Xs)
    Et, Xt = torch.lobpcg(torch.tensor(A), k=2, X=torch.tensor(X))
    El, Xl = lamina.lobpcg(lamina.tensor(A), k=2, X=lamina.tensor(X))
    assert tuple(El.shape) == (2, 2) and tuple(Xl.shape) == (2, 30, 2)
    np.testing.assert_allclose(El.numpy(), Et.numpy(), rtol=1e-10)
    assert _aligned(Xl.numpy(), Xt.numpy()) < 1e-8


def test_preconditioner_niter_tracker():
    A, X, _ = _problem(6)
    iK = np.diag(1.0 / np.diag(A))
    El, _ = lamina.lobpcg(lamina.tensor(A), k=3, X=lamina.tensor(X), iK=lamina.tensor(iK))
    np.testing.assert_allclose(El.numpy(), np.linalg.eigvalsh(A)[::-1][:3], rtol=1e-10)
    for lib in (torch, lamina):
        steps = []

        def tracker(worker, steps=steps):
            steps.append((worker.ivars["istep"], tuple(worker.tvars["rerr"].shape)))
            if worker.ivars["istep"] == 2:
                worker.bvars["force_stop"] = True

        lib.lobpcg(lib.tensor(A), k=3, X=lib.tensor(X), tracker=tracker)
        assert steps == [(1, (3,)), (2, (3,))]
    E1, _ = lamina.lobpcg(lamina.tensor(A), k=3, X=lamina.tensor(X), niter=1)   # one Rayleigh-Ritz step
    Et, _ = torch.lobpcg(torch.tensor(A), k=3, X=torch.tensor(X), niter=1)
    assert np.all(np.isfinite(E1.numpy())) and E1.shape == Et.shape


def _loss(lib, A, X, B=None):
    E, U = lib.lobpcg(A, k=2, X=X, B=B, tol=1e-12)
    w = lib.tensor(np.linspace(1.0, 2.0, 30))
    return E.sum() * 0.5 + ((U ** 2) * w[:, None]).sum() + (U @ U.mT).pow(2).sum()   # free of signs


def test_grad_vs_torch():
    A, X, _ = _problem(7, n=2)
    At = torch.tensor(A, requires_grad=True)
    _loss(torch, At, torch.tensor(X)).backward()
    Al = lamina.tensor(A, requires_grad=True)
    _loss(lamina, Al, lamina.tensor(X)).backward()
    np.testing.assert_allclose(Al.grad.numpy(), At.grad.numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(Al.grad.numpy(), Al.grad.numpy().T, atol=1e-12)     # symmetric, as torch's


def test_grad_float32_vs_torch():
    A, X, _ = _problem(8, n=2)
    At = torch.tensor(A.astype("float32"), requires_grad=True)
    torch.lobpcg(At, k=2, X=torch.tensor(X.astype("float32")))[0].sum().backward()
    Al = lamina.tensor(A.astype("float32"), requires_grad=True)
    El = lamina.lobpcg(Al, k=2, X=lamina.tensor(X.astype("float32")))[0]
    El.sum().backward()
    assert Al.grad.dtype == lamina.float32
    # float32 stops at the default tol sqrt(eps) = 3.5e-4: both eigenvector sets (the gradient U U^T) carry that
    np.testing.assert_allclose(Al.grad.numpy(), At.grad.numpy(), atol=2e-3)


def test_gradcheck():
    r = np.random.default_rng(9)
    M = r.standard_normal((9, 9))
    A0 = M + M.T + np.diag(3.0 * np.arange(9))
    X = lamina.tensor(r.standard_normal((9, 2)))

    def f(A):
        E, U = lamina.lobpcg((A + A.mT) / 2, k=2, X=X, tol=1e-13)
        return E, U @ U.mT

    assert gradcheck(f, (lamina.tensor(A0, requires_grad=True),))


def test_grad_with_b_raises_as_torch():
    A, X, r = _problem(10, n=2)
    B = _spd(r, 30)
    Bt = torch.tensor(B, requires_grad=True)
    with pytest.raises(ValueError, match="B != I") as et:
        torch.lobpcg(torch.tensor(A), k=2, B=Bt, X=torch.tensor(X))[0].sum().backward()
    Bl = lamina.tensor(B, requires_grad=True)
    with pytest.raises(ValueError, match="B != I") as el:
        lamina.lobpcg(lamina.tensor(A), k=2, B=Bl, X=lamina.tensor(X))[0].sum().backward()
    assert str(el.value) == str(et.value)


def test_errors_as_torch():
    A, X, _ = _problem(11)
    for lib in (torch, lamina):
        with pytest.raises(ValueError, match=r"number of A rows \(=30\) is smaller than 3 x the number of requested "
                                             r"eigenpairs \(=11\)"):
            lib.lobpcg(lib.tensor(A), k=11)
        with pytest.raises(AssertionError, match="A must be square"):
            lib.lobpcg(lib.tensor(A[:, :20]), k=1)
        with pytest.raises(AssertionError, match="A and B must have same shape"):
            lib.lobpcg(lib.tensor(A), k=1, B=lib.tensor(np.eye(29)))
        with pytest.raises(AssertionError, match="X shape mismatch"):
            lib.lobpcg(lib.tensor(A), k=1, X=lib.tensor(X[:20]))


def test_dependent_start_raises_linalg_error_as_torch():
    A, X, _ = _problem(12)
    Xd = np.repeat(X[:, :1], 3, axis=1)
    with pytest.raises(torch.linalg.LinAlgError):
        torch.lobpcg(torch.tensor(A), k=3, X=torch.tensor(Xd))
    with pytest.raises(lamina.linalg.LinAlgError, match="linearly dependent"):
        lamina.lobpcg(lamina.tensor(A), k=3, X=lamina.tensor(Xd))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_larger_clustered_spectrum(dtype):
    r = np.random.default_rng(13)
    M = r.standard_normal((200, 200))
    A = (M + M.T) / 2 + np.diag(np.arange(200) * 0.05)
    X = r.standard_normal((200, 4))
    w = np.linalg.eigvalsh(A)
    Et, _ = torch.lobpcg(torch.tensor(A.astype(dtype)), k=4, X=torch.tensor(X.astype(dtype)))
    El, Ul = lamina.lobpcg(lamina.tensor(A.astype(dtype)), k=4, X=lamina.tensor(X.astype(dtype)))
    tol = 1e-3 if dtype == "float32" else 1e-10
    np.testing.assert_allclose(El.numpy(), w[::-1][:4], rtol=tol)
    np.testing.assert_allclose(El.numpy(), Et.numpy(), rtol=tol)
    U = Ul.numpy().astype(np.float64)
    res = np.linalg.norm(A @ U - U * El.numpy(), axis=0) / (np.abs(El.numpy()) + np.linalg.norm(A, 2))
    assert res.max() < (1e-3 if dtype == "float32" else 1e-7)


def test_complex_and_bad_params_raise():
    with pytest.raises(NotImplementedError, match="complex"):
        lamina.lobpcg(lamina.eye(9, dtype=lamina.complex64), k=1)
    with pytest.raises(TypeError, match="ortho_fparams must be a dict"):
        lamina.lobpcg(lamina.eye(9, dtype=lamina.float64), k=1, ortho_fparams=3)
    with pytest.raises(NotImplementedError, match="method='basic' is not provided"):
        lamina.lobpcg(lamina.eye(9, dtype=lamina.float64), k=1, method="basic")
    with pytest.raises(NotImplementedError, match="ortho_iparams tunes torch's 'ortho' method"):
        lamina.lobpcg(lamina.eye(9, dtype=lamina.float64), k=1, ortho_iparams={"ortho_i_max": 2})
    E, _ = lamina.lobpcg(lamina.eye(9, dtype=lamina.float64), k=1, method="ortho", ortho_fparams={})
    np.testing.assert_allclose(E.numpy(), [1.0])
