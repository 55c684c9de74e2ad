"""Second derivatives of the ops whose backward formulas now record a graph under create_graph=True
(linalg.eig / eigvals, lobpcg) and of cholesky_inverse and the low-rank SVDs, against torch float64 and by
gradgradcheck. The quantity compared is d/dA <d/dA <f(A), W>, U>, a Hessian-vector product."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.testing import gradgradcheck

torch = pytest.importorskip("torch")


def _hvp(mod, fn, arrays, w, u):
    """The gradient of <grad <fn(xs), w>, u> with respect to xs, in ``mod`` (lamina or torch)."""
    xs = [mod.tensor(a, requires_grad=True) for a in arrays]
    gs = mod.autograd.grad((fn(*xs) * mod.tensor(w)).sum(), xs, create_graph=True)
    s = sum((g * mod.tensor(ui)).sum() for g, ui in zip(gs, u))
    return [g.detach().numpy() for g in mod.autograd.grad(s, xs)]


def _compare(fn, arrays, out_shape, rtol=1e-9, atol=1e-10, check=True):
    """``fn(mod, *xs)`` in lamina and in torch: equal Hessian-vector products, and lamina's gradgradcheck."""
    rng = np.random.default_rng(11)
    w = rng.standard_normal(out_shape)
    u = [rng.standard_normal(a.shape) for a in arrays]
    got = _hvp(lamina, lambda *xs: fn(lamina, *xs), arrays, w, u)
    exp = _hvp(torch, lambda *xs: fn(torch, *xs), arrays, w, u)
    for i, (g, e) in enumerate(zip(got, exp)):
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=f"input {i}")
    if check:
        assert gradgradcheck(lambda *xs: fn(lamina, *xs), [lamina.tensor(a, requires_grad=True) for a in arrays])


_rng = np.random.default_rng(0)
A3 = _rng.standard_normal((2, 3, 3))             # real, distinct eigenvalues (complex pairs included)


def test_eigvals_abs():
    _compare(lambda mod, A: mod.linalg.eigvals(A).abs(), [A3], (2, 3))


def test_eig_values_and_gauge_free_vectors():
    """|V|: unit-norm eigenvectors up to a phase, so their moduli are well defined."""
    def fn(mod, A):
        w, V = mod.linalg.eig(A)
        return w.real ** 2 + (V.abs() ** 2).sum(-2) * w.imag
    _compare(fn, [A3[:1]], (1, 3))


def test_eig_complex_input():
    Ac = A3[0] + 1j * _rng.standard_normal((3, 3))

    def fn(mod, Ar, Ai):
        return mod.linalg.eigvals(Ar + 1j * Ai).abs()
    _compare(fn, [Ac.real.copy(), Ac.imag.copy()], (3,))


def _lobpcg_problem():
    r = np.random.default_rng(5)
    A = r.standard_normal((6, 6))
    return A + A.T + np.diag(4.0 * np.arange(6)), r.standard_normal((6, 2))


def test_lobpcg_eigenvalues_and_projector():
    A, X = _lobpcg_problem()

    def fn(mod, A):
        E, U = mod.lobpcg((A + A.mT) / 2, k=2, X=mod.tensor(X), tol=1e-12)
        return mod.cat([E, (U @ U.mT).reshape(-1)])
    _compare(fn, [A], (2 + 36,), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_inverse_full_factor(upper):
    """torch's convention: the factor's gradient is that of the full matrix L (finite differences see only a
    triangle, hence gradgradcheck through tril(L) / triu(L))."""
    L = np.tril(_rng.standard_normal((2, 3, 3))) + 3 * np.eye(3)
    L = L.swapaxes(-1, -2).copy() if upper else L
    _compare(lambda mod, L: mod.cholesky_inverse(L, upper=upper), [L], (2, 3, 3), check=False)
    assert gradgradcheck(lambda t: lamina.cholesky_inverse(t.triu() if upper else t.tril(), upper=upper),
                         [lamina.tensor(L, requires_grad=True)])


@pytest.mark.parametrize("name", ["svd_lowrank", "pca_lowrank"])
def test_lowrank_seeded(name):
    """With the generator seeded before each call the projection is fixed and S is a smooth function of A
    (exact for a rank-2 A with q = 2). torch draws other numbers, so only gradgradcheck applies here; the
    Hessian-vector product is compared with torch.linalg.svdvals' on the same A (the same singular values)."""
    low = _rng.standard_normal((6, 2)) @ _rng.standard_normal((2, 5))

    def seeded(A):
        lamina.manual_seed(0)
        return getattr(lamina, name)(A, q=2)[1]

    assert gradgradcheck(seeded, [lamina.tensor(low, requires_grad=True)])
    w, u = np.array([0.7, -1.3]), _rng.standard_normal(low.shape)
    got = _hvp(lamina, seeded, [low], w, [u])[0]
    center = name == "pca_lowrank"
    exp = _hvp(torch, lambda A: torch.linalg.svdvals(A - A.mean(0) if center else A)[:2], [low], w, [u])[0]
    np.testing.assert_allclose(got, exp, rtol=1e-7, atol=1e-8)


def test_geqrf_derivative_raises_as_torch():
    """geqrf has no derivative in torch: its outputs carry a grad_fn whose backward raises NotImplementedError."""
    A = _rng.standard_normal((5, 3))
    for mod in (lamina, torch):
        a, tau = mod.geqrf(mod.tensor(A, requires_grad=True))
        assert a.requires_grad and tau.requires_grad
        with pytest.raises(NotImplementedError, match=r"the derivative for 'geqrf' is not implemented\."):
            (a.sum() + tau.sum()).backward()
    with lamina.no_grad():
        assert lamina.geqrf(lamina.tensor(A, requires_grad=True))[0].grad_fn is None
