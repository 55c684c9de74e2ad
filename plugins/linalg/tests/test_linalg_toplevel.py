"""torch's top-level forms and Tensor methods served by lamina-linalg (``lamina.det``, ``A.svd()``, ...)
vs torch: values, result types, gradients, the removed names' errors and the once-per-process warnings."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
from _linalg_helpers import parity, rng, spd, tensors64, torch, well
from lamina.testing import gradcheck, gradgradcheck
from lamina_linalg import _common

DT = ["float32", "float64"]


@pytest.fixture(autouse=True)
def quiet():
    """torch and lamina warn about their deprecated forms (once per process); test_deprecation_warnings checks ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


_DEPRECATED = [("lu", "torch.lu is deprecated"), ("lu_solve", "torch.lu_solve is deprecated"),
               ("qr", "torch.qr is deprecated"), ("cholesky", "torch.cholesky is deprecated"),
               ("triangular_solve", "torch.triangular_solve is deprecated"), ("chain_matmul", "chain_matmul is "
                                                                                          "deprecated"),
               ("cross", "Using torch.cross without specifying the dim arg is deprecated"),
               ("nuclear_norm", "at::nuclear_norm is deprecated"),
               ("frobenius_norm", "at::frobenius_norm is deprecated")]


def _deprecated_call(name: str):
    A = lamina.tensor(well(rng(), 3, 3))
    calls = {"lu": lambda: lamina.lu(A), "lu_solve": lambda: lamina.lu_solve(A, *lamina.linalg.lu_factor(A)),
             "qr": lambda: lamina.qr(A), "cholesky": lambda: lamina.cholesky(A @ A.mT),
             "triangular_solve": lambda: lamina.triangular_solve(A, A),
             "chain_matmul": lambda: lamina.chain_matmul(A, A),
             "cross": lambda: lamina.cross(A, A), "nuclear_norm": lambda: lamina.nuclear_norm(A),
             "frobenius_norm": lambda: lamina.frobenius_norm(A, (0, 1))}
    return calls[name]


@pytest.mark.parametrize("name,match", _DEPRECATED)
def test_deprecation_warnings_once(name, match):
    saved = set(_common._WARNED)
    _common._WARNED.clear()
    try:
        call = _deprecated_call(name)
        with pytest.warns(UserWarning, match=match):
            call()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            call()                                              # once per process, as torch's TORCH_WARN_ONCE
    finally:
        _common._WARNED.clear()
        _common._WARNED.update(saved)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("name", ["det", "logdet", "inverse", "matrix_exp", "pinverse"])
def test_square_functions_and_methods(name, dtype):
    A = well(rng(), 2, 3, 3)
    parity(getattr(lamina, name), getattr(torch, name), [A], dtype, scale=10)
    parity(lambda a: getattr(a, name)(), lambda a: getattr(a, name)(), [A], dtype, scale=10)


@pytest.mark.parametrize("dtype", DT)
def test_decomposition_forms(dtype):
    r = rng(1)
    A, S = r.standard_normal((2, 4, 3)), spd(r, 2, 3, 3)
    gauge = lambda o: (o[0] @ o[2].mT if hasattr(o[2], "mT") else None, o[1])  # noqa: E731  U V^T is gauge free
    for some in (True, False):
        parity(lambda a, s=some: gauge(lamina.svd(a, some=s)), lambda a, s=some: gauge(torch.svd(a, some=s)),
               [A[..., :3, :]], dtype)
        parity(lambda a, s=some: tuple(a.qr(some=s)), lambda a, s=some: tuple(a.qr(some=s)), [A], dtype,
               grad=some)
    U, Sv, V = lamina.svd(lamina.tensor(A), compute_uv=False)
    tU, tSv, tV = torch.svd(torch.tensor(A), compute_uv=False)
    assert U.shape == tU.shape and V.shape == tV.shape and float(U.abs().sum()) == 0.0
    res = lamina.svd(lamina.tensor(A))
    assert type(res).__name__ == "svd" and res._fields == ("U", "S", "V")
    parity(lambda s: lamina.cholesky(s), lambda s: torch.cholesky(s), [S], dtype, grad=False)
    parity(lambda s: s.cholesky(upper=True), lambda s: s.cholesky(upper=True), [S], dtype, grad=False)
    parity(lambda s: tuple(lamina.slogdet(s)), lambda s: tuple(torch.slogdet(s)), [S], dtype)
    assert type(lamina.slogdet(lamina.tensor(S))).__name__ == "slogdet"
    L = np.linalg.cholesky(S)
    B = r.standard_normal((2, 3, 2))
    for upper in (False, True):
        F = L.swapaxes(-1, -2) if upper else L
        parity(lambda b, f, u=upper: lamina.cholesky_solve(b, f, u),
               lambda b, f, u=upper: torch.cholesky_solve(b, f, u), [B, F], dtype)
        parity(lambda f, u=upper: f.cholesky_inverse(u), lambda f, u=upper: f.cholesky_inverse(u), [F], dtype, scale=10)


@pytest.mark.parametrize("dtype", DT)
def test_lu_forms(dtype):
    A, B = well(rng(2), 2, 3, 3), rng(3).standard_normal((2, 3, 2))
    parity(lambda a: tuple(a.lu()), (lambda a: tuple(a.lu())), [A], dtype)
    parity(lambda a: tuple(lamina.lu(a, get_infos=True)), (lambda a: tuple(torch.lu(a, get_infos=True))), [A],
           dtype)
    assert type(lamina.lu(lamina.tensor(A), get_infos=True)).__name__ == "_lu_with_info"

    def ours(a, b):
        LU, piv = lamina.lu(a)
        return b.lu_solve(LU, piv), tuple(lamina.lu_unpack(LU, piv))

    def theirs(a, b):
        LU, piv = (torch.lu)(a)
        return b.lu_solve(LU, piv), tuple(torch.lu_unpack(LU, piv))

    parity(ours, theirs, [A, B], dtype)
    LU, piv = lamina.lu(lamina.tensor(A))
    tLU, tpiv = (torch.lu)(torch.tensor(A))
    for kw in [{"unpack_data": False}, {"unpack_pivots": False}]:
        got, exp = lamina.lu_unpack(LU, piv, **kw), torch.lu_unpack(tLU, tpiv, **kw)
        assert [tuple(g.shape) for g in got] == [tuple(e.shape) for e in exp]


@pytest.mark.parametrize("dtype", DT)
def test_triangular_solve_and_householder_forms(dtype):
    r = rng(4)
    A, b = np.triu(well(r, 2, 3, 3)), r.standard_normal((2, 3, 2))
    for kw in [{}, {"upper": False, "transpose": True}, {"unitriangular": True}]:
        parity(lambda x, a, kw=kw: tuple(x.triangular_solve(a, **kw)),
               (lambda x, a, kw=kw: tuple(x.triangular_solve(a, **kw))), [b, A], dtype)
    M = r.standard_normal((2, 5, 3))
    parity(lambda m: tuple(lamina.geqrf(m)), lambda m: tuple(torch.geqrf(m)), [M], dtype, grad=False)
    assert type(lamina.geqrf(lamina.tensor(M))).__name__ == "geqrf"
    a, tau = torch.geqrf(torch.tensor(M))
    C = r.standard_normal((2, 5, 4))
    parity(lambda x, t: x.orgqr(t), lambda x, t: x.orgqr(t), [a.numpy(), tau.numpy()], dtype)
    for left, tr in [(True, False), (True, True)]:
        parity(lambda x, t, c, left=left, tr=tr: x.ormqr(t, c, left, tr),
               lambda x, t, c, left=left, tr=tr: x.ormqr(t, c, left, tr), [a.numpy(), tau.numpy(), C], dtype)


@pytest.mark.parametrize("dtype", DT)
def test_products_and_norm_forms(dtype):
    r = rng(5)
    ms = [r.standard_normal(s) for s in [(2, 3), (3, 4), (4, 2)]]
    parity(lambda *m: lamina.chain_matmul(*m), (lambda *m: torch.chain_matmul(*m)), ms, dtype)
    A = well(r, 2, 3, 3)
    for n in (-2, 0, 3):
        parity(lambda a, n=n: a.matrix_power(n), lambda a, n=n: a.matrix_power(n), [A], dtype, grad=n != 0, scale=10)
    X = r.standard_normal((3, 4))
    parity(lamina.nuclear_norm, torch.nuclear_norm, [X], dtype)
    parity(lambda x: lamina.nuclear_norm(x, (0, 1), True), lambda x: torch.nuclear_norm(x, (0, 1), True), [X], dtype)
    parity(lambda x: lamina.frobenius_norm(x, (0, 1)), lambda x: torch.frobenius_norm(x, (0, 1)), [X], dtype)
    parity(lambda x: lamina.frobenius_norm(x, 1, True), lambda x: torch.frobenius_norm(x, 1, True), [X], dtype)
    a, b = r.standard_normal((3, 4)), r.standard_normal((3, 4))
    parity(lambda x, y: x.cross(y), (lambda x, y: x.cross(y)), [a, b], dtype)
    parity(lambda x, y: lamina.cross(x.mT, y.mT, dim=1), lambda x, y: torch.cross(x.mT, y.mT, dim=1), [a, b], dtype)
    parity(lambda u, v: u.ger(v), lambda u, v: u.ger(v), [r.standard_normal(3), r.standard_normal(2)], dtype)


@pytest.mark.parametrize("name", ["eig", "symeig", "solve", "lstsq", "matrix_rank"])
def test_removed_names_raise_torch_messages(name):
    args = (torch.eye(2), torch.eye(2)) if name in ("solve", "lstsq") else (torch.eye(2),)
    with pytest.raises(RuntimeError) as t:
        getattr(torch, name)(*args)
    with pytest.raises(RuntimeError) as e:
        getattr(lamina, name)(*[lamina.tensor(a.numpy()) for a in args])
    assert str(e.value) == str(t.value)
    if hasattr(torch.Tensor, name):
        with pytest.raises(RuntimeError) as e:
            getattr(lamina.eye(2), name)(*[lamina.tensor(a.numpy()) for a in args[1:]])
        assert str(e.value) == str(t.value)


def test_lowrank_recovers_a_low_rank_matrix():
    r = rng(6)
    A = r.standard_normal((2, 8, 2)) @ r.standard_normal((2, 2, 6))            # rank 2
    lamina.manual_seed(0)
    U, S, V = lamina.svd_lowrank(lamina.tensor(A), q=4)
    assert U.shape == (2, 8, 4) and S.shape == (2, 4) and V.shape == (2, 6, 4)
    np.testing.assert_allclose((U * S.unsqueeze(-2)) @ V.mT, A, atol=1e-10)
    np.testing.assert_allclose(S.numpy()[:, :2], np.linalg.svd(A, compute_uv=False)[:, :2], rtol=1e-10)
    W = r.standard_normal((6, 2)) @ r.standard_normal((2, 9))                   # wide
    U, S, V = lamina.svd_lowrank(lamina.tensor(W), q=3, niter=1)
    assert U.shape == (6, 3) and V.shape == (9, 3)
    np.testing.assert_allclose((U * S) @ V.mT, W, atol=1e-10)
    M = W + 5.0
    U, S, V = lamina.pca_lowrank(lamina.tensor(M), q=2)
    np.testing.assert_allclose(S.numpy(), np.linalg.svd(M - M.mean(0), compute_uv=False)[:2], rtol=1e-10)
    with pytest.raises(ValueError, match=r"q\(=7\) must be non-negative integer and not greater than min\(m, n\)=6"):
        lamina.pca_lowrank(lamina.tensor(M), q=7)


def test_toplevel_gradcheck_and_gradgradcheck():
    r = rng(7)
    A, b, L = tensors64(well(r, 3, 3), r.standard_normal((3, 2)), np.linalg.cholesky(spd(r, 3, 3)))
    cases = [(lamina.logdet, (A,)), (lambda a: lamina.svd(a)[0] @ lamina.svd(a)[2].mT, (A,)),
             (lambda x, a: (lamina.triangular_solve)(x, a)[0], (b, A)),
             # the factor's gradient is the full matrix's (torch's convention): check through tril(L)
             (lambda x, f: lamina.cholesky_solve(x, f * lamina.tensor(np.tri(3))), (b, L)),
             (lambda f: lamina.cholesky_inverse(f * lamina.tensor(np.tri(3))), (L,)),
             (lambda a, x: x.lu_solve(*(lamina.lu)(a)), (A, b))]
    for fn, args in cases:
        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)
