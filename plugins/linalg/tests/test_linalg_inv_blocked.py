"""linalg.inv of matrices large enough for the blocked one-thread path (_fast._inv_lu_blocked), against torch and
against the two-trsm path that more threads take: values, dtypes, transposed (F-ordered) input, the gradient."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina_linalg import _fast

torch = pytest.importorskip("torch")


@pytest.fixture
def one_thread():
    before = lamina.get_num_threads()
    lamina.set_num_threads(1)
    yield
    lamina.set_num_threads(before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [128, 200, 256])
@pytest.mark.parametrize("transpose", [False, True])
def test_inv_blocked_vs_torch(one_thread, dtype, n, transpose):
    r = np.random.default_rng(n)
    A = (r.standard_normal((n, n)) + np.sqrt(n) * np.eye(n)).astype(dtype)
    la, ta = lamina.tensor(A), torch.tensor(A)
    if transpose:
        la, ta = la.mT, ta.mT
    Y = lamina.linalg.inv(la)
    assert Y.dtype == getattr(lamina, dtype) and tuple(Y.shape) == (n, n)
    ref = torch.linalg.inv(ta).numpy()
    tol = 2e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(Y.numpy(), ref, rtol=0, atol=tol * np.abs(ref).max())
    lamina.set_num_threads(2)                                            # the two-trsm path
    np.testing.assert_allclose(lamina.linalg.inv(la).numpy(), Y.numpy(), rtol=0, atol=tol * np.abs(ref).max())


def test_blocked_matches_unblocked_factor(one_thread):
    r = np.random.default_rng(3)
    A = r.standard_normal((192, 192)) + 14 * np.eye(192)
    lu, piv, _ = _fast.lu_factor(A)
    W = _fast._inv_lu_blocked(lu)
    L, U = np.tril(lu, -1) + np.eye(192), np.triu(lu)
    np.testing.assert_allclose(W @ L @ U, np.eye(192), atol=1e-12)


def test_inv_blocked_grad_vs_torch(one_thread):
    r = np.random.default_rng(4)
    n = 160
    A = r.standard_normal((n, n)) + np.sqrt(n) * np.eye(n)
    G = r.standard_normal((n, n))
    la, ta = lamina.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    (lamina.linalg.inv(la) * lamina.tensor(G)).sum().backward()
    (torch.linalg.inv(ta) * torch.tensor(G)).sum().backward()
    np.testing.assert_allclose(la.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_inv_blocked_singular_raises(one_thread):
    A = np.random.default_rng(5).standard_normal((130, 130))
    A[:, 7] = 0.0                                                      # U[7, 7] is exactly zero
    with pytest.raises(torch.linalg.LinAlgError) as et:
        torch.linalg.inv(torch.tensor(A))
    with pytest.raises(lamina.linalg.LinAlgError) as el:
        lamina.linalg.inv(lamina.tensor(A))
    assert str(el.value) == str(et.value)
