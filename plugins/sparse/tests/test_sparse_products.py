"""Products with sparse operands against torch: torch.sparse.mm/addmm, torch.mm/matmul/@, spmm, dsmm,
smm, hspmm/hsmm, sspaddmm/saddmm; values, result layout, and gradients to the dense operand, to the
values, and to a leaf sparse tensor (sparse on its coalesced pattern for torch.sparse.mm, dense for
torch.mm, as torch); gradcheck in float64."""

from __future__ import annotations

import lamina
import lamina_sparse as ls
import numpy as np
import pytest
from _helpers import MM_TOL, assert_close, assert_same_sparse, pair, random_pair

torch = pytest.importorskip("torch")


def _dense(rng, shape, dtype, requires_grad=True):
    d = rng.standard_normal(shape).astype(dtype)
    return (lamina.as_tensor(d.copy()).requires_grad_(requires_grad),
            torch.from_numpy(d.copy()).requires_grad_(requires_grad))


def _grad_of(t):
    g = t.grad
    return g


def _check_leaf_grad(lg, tg, tol):
    assert lg.is_sparse == tg.is_sparse
    if tg.is_sparse:
        assert_same_sparse(lg, tg, tol)
    else:
        assert_close(lg, tg, tol)


FORMS = {
    "sparse.mm": (lambda m, s, d: m.sparse.mm(s, d)),
    "mm": (lambda m, s, d: m.mm(s, d) if m is torch else ls.products.mm(s, d)),
    "method_mm": (lambda m, s, d: s.mm(d)),
    "matmul_op": (lambda m, s, d: s @ d),
    "method_matmul": (lambda m, s, d: s.matmul(d)),
    "spmm": (lambda m, s, d: m.spmm(s, d)),
    "dsmm": (lambda m, s, d: m.dsmm(s, d)),
    "sparse.addmm": (lambda m, s, d: m.sparse.addmm(m.ones(s.shape[0], d.shape[1], dtype=d.dtype), s, d,
                                                    beta=0.5, alpha=2.0)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", list(FORMS))
def test_sparse_dense_product_values_and_grads(form, dtype):
    rng = np.random.default_rng(10)
    fn = FORMS[form]
    tol = MM_TOL[dtype]
    # a leaf sparse tensor (torch's grad kind differs between forms)
    lt, tt = random_pair(rng, (5, 4), 9, dtype=dtype, requires_grad=True)
    ld, td = _dense(rng, (4, 3), dtype)
    w = rng.standard_normal((5, 3))
    lo, to = fn(lamina, lt, ld), fn(torch, tt, td)
    assert_close(lo, to, tol)
    (lo * lamina.as_tensor(w, dtype=lo.dtype)).sum().backward()
    (to * torch.from_numpy(w).to(to.dtype)).sum().backward()
    assert_close(ld.grad, td.grad, tol)
    _check_leaf_grad(lt.grad, tt.grad, tol)
    # values that require grad (the gradient reaches them on the pattern, duplicates each theirs)
    idx = tt._indices().numpy()
    v = rng.standard_normal(idx.shape[1]).astype(dtype)
    lv, tv = lamina.as_tensor(v.copy()).requires_grad_(), torch.from_numpy(v.copy()).requires_grad_()
    ls_, ts_ = lamina.sparse_coo_tensor(lamina.as_tensor(idx), lv, (5, 4)), torch.sparse_coo_tensor(
        torch.from_numpy(idx), tv, (5, 4))
    fn(lamina, ls_, ld).pow(2).sum().backward()
    fn(torch, ts_, td).pow(2).sum().backward()
    assert_close(lv.grad, tv.grad, tol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_at_sparse_and_vectors(dtype):
    rng = np.random.default_rng(11)
    lt, tt = random_pair(rng, (4, 5), 7, dtype=dtype)
    ld, td = _dense(rng, (3, 4), dtype)
    assert_close(ld @ lt, td @ tt, MM_TOL[dtype])
    assert_close(lamina.sparse.mm(ld, lt), torch.sparse.mm(td, tt), MM_TOL[dtype])
    (ld @ lt).sum().backward()
    (td @ tt).sum().backward()
    assert_close(ld.grad, td.grad, MM_TOL[dtype])
    lv, tv = _dense(rng, (5,), dtype, requires_grad=False)
    assert_close(lt @ lv, tt @ tv, MM_TOL[dtype])
    assert_close(lt.matmul(lv), torch.matmul(tt, tv), MM_TOL[dtype])


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_sparse_mm(dtype):
    rng = np.random.default_rng(12)
    la, ta = random_pair(rng, (4, 5), 8, dtype=dtype)
    lb, tb = random_pair(rng, (5, 3), 7, dtype=dtype)
    lo, to = lamina.sparse.mm(la, lb), torch.sparse.mm(ta, tb)
    assert_same_sparse(lo, to, MM_TOL[dtype])
    assert_close(lo.to_dense(), to.to_dense(), MM_TOL[dtype])
    # gradients to values that require grad (torch's leaf gradient here is not masked to the pattern)
    grads = []
    for m, a, b in ((lamina, la, lb), (torch, ta, tb)):
        va, vb = a._values().clone().requires_grad_(), b._values().clone().requires_grad_()
        sa = m.sparse_coo_tensor(a._indices(), va, tuple(a.shape))
        sb = m.sparse_coo_tensor(b._indices(), vb, tuple(b.shape))
        out = m.sparse.mm(sa, sb).to_dense()
        (out * out).sum().backward()
        grads.append((va.grad.numpy(), vb.grad.numpy()))
    for lg, tg in zip(*grads):
        np.testing.assert_allclose(lg, tg, **MM_TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_smm_hspmm_sspaddmm(dtype):
    rng = np.random.default_rng(13)
    idx = [[0, 0, 2, 2], [1, 0, 0, 1]]
    lt, tt = pair(idx, [1.0, 2.0, 3.0, -1.0], (4, 3), dtype=dtype)
    ld, td = _dense(rng, (3, 2), dtype, requires_grad=False)
    for name in ("smm", "hspmm", "hsmm"):
        assert_same_sparse(getattr(lamina, name)(lt, ld), getattr(torch, name)(tt, td), MM_TOL[dtype])
    assert_same_sparse(lt.smm(ld), tt.smm(td), MM_TOL[dtype])
    li, ti = pair([[0, 3], [2, 1]], [5.0, 6.0], (4, 2), dtype=dtype)
    for name in ("sspaddmm", "saddmm"):
        lo = getattr(lamina, name)(li, lt, ld, beta=2, alpha=3)
        to = getattr(torch, name)(ti, tt, td, beta=2, alpha=3)
        assert_same_sparse(lo, to, MM_TOL[dtype])
    assert_same_sparse(li.sspaddmm(lt, ld), ti.sspaddmm(tt, td), MM_TOL[dtype])


@pytest.mark.parametrize("call", [
    lambda m, s: m.sparse.mm(s, m.ones(2, 2)),
    lambda m, s: m.sparse.mm(s, m.ones(3, 2, dtype=m.float64)),
    lambda m, s: s @ m.ones(4, 2),
], ids=["inner_dim", "dtype", "matmul_inner"])
def test_product_errors_as_torch(call):
    lt, tt = pair([[0, 1], [2, 0]], [1.0, 2.0], (2, 3))
    with pytest.raises(Exception) as te:
        call(torch, tt)
    with pytest.raises(type(te.value)) as le:
        call(lamina, lt)
    assert str(le.value) == str(te.value)


def test_gradcheck_float64():
    rng = np.random.default_rng(14)
    idx = lamina.as_tensor(np.array([[0, 1, 1, 2, 0], [2, 0, 2, 1, 2]]))
    v = lamina.as_tensor(rng.standard_normal(5)).requires_grad_()
    d = lamina.as_tensor(rng.standard_normal((3, 2))).requires_grad_()

    def sparse_mm(v, d):
        return lamina.sparse.mm(lamina.sparse_coo_tensor(idx, v, (3, 3)), d)

    def addmm(v, d):
        return lamina.sparse.addmm(d[:, :1], lamina.sparse_coo_tensor(idx, v, (3, 3)), d, beta=0.3, alpha=1.7)

    def matmul(v, d):
        return lamina.sparse_coo_tensor(idx, v, (3, 3)) @ d

    def dense_at_sparse(v, d):
        return d.t() @ lamina.sparse_coo_tensor(idx, v, (3, 3))

    def sparse_sparse(v, d):
        s = lamina.sparse_coo_tensor(idx, v, (3, 3))
        return lamina.sparse.mm(s, s * 2.0).to_dense() + d.sum()

    for f in (sparse_mm, addmm, matmul, dense_at_sparse, sparse_sparse):
        assert lamina.testing.gradcheck(f, (v, d))


MV_FORMS = {
    "mv": (lambda m, s, v: m.mv(s, v)),
    "method_mv": (lambda m, s, v: s.mv(v)),
    "csr_mv": (lambda m, s, v: s.detach().to_sparse_csr().requires_grad_(s.requires_grad).mv(v)),
}


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("form", list(MV_FORMS))
def test_sparse_mv_values_and_grads(form, dtype):
    """torch.mv / Tensor.mv with a sparse matrix: a dense (N,) result, the vector's gradient, and the values'."""
    rng = np.random.default_rng(14)
    fn, tol = MV_FORMS[form], MM_TOL[dtype]
    lt, tt = random_pair(rng, (5, 4), 9, dtype=dtype)
    lv, tv = _dense(rng, (4,), dtype)
    idx = tt._indices().numpy()
    vals = rng.standard_normal(idx.shape[1]).astype(dtype)
    lw, tw = lamina.as_tensor(vals.copy()).requires_grad_(), torch.from_numpy(vals.copy()).requires_grad_()
    ls_ = lamina.sparse_coo_tensor(lamina.as_tensor(idx), lw, (5, 4))
    ts_ = torch.sparse_coo_tensor(torch.from_numpy(idx), tw, (5, 4))
    lo, to = fn(lamina, lt, lv), fn(torch, tt, tv)
    assert not lo.is_sparse and tuple(lo.shape) == (5,)
    assert_close(lo, to, tol)
    g = rng.standard_normal(5)
    (lo * lamina.as_tensor(g, dtype=lo.dtype)).sum().backward()
    (to * torch.from_numpy(g).to(to.dtype)).sum().backward()
    assert_close(lv.grad, tv.grad, tol)
    if form != "csr_mv":
        fn(lamina, ls_, lv).pow(2).sum().backward()
        fn(torch, ts_, tv).pow(2).sum().backward()
        assert_close(lw.grad, tw.grad, tol)


def test_sparse_mv_leaf_grad_dense_and_errors():
    """A leaf sparse matrix gets torch.mv's dense gradient; torch's errors for bad shapes and COO addmv."""
    lt, tt = pair([[0, 1, 1], [1, 0, 1]], [1.0, 2.0, 3.0], (2, 2), requires_grad=True)
    lv, tv = lamina.tensor([1.0, -2.0]), torch.tensor([1.0, -2.0])
    (lamina.mv(lt, lv) * lamina.tensor([1.0, 3.0])).sum().backward()
    (torch.mv(tt, tv) * torch.tensor([1.0, 3.0])).sum().backward()
    assert not lt.grad.is_sparse and not tt.grad.is_sparse
    assert_close(lt.grad, tt.grad, MM_TOL["float32"])
    for args in ((lt, lamina.ones(3)), (lamina.ones(2, 2), lt)):
        with pytest.raises(RuntimeError, match="mv"):
            lamina.mv(*args)
    with pytest.raises(RuntimeError):
        torch.mv(tt, torch.ones(3))
    with pytest.raises(NotImplementedError):
        torch.addmv(torch.ones(2), tt.detach(), tv)
    with pytest.raises(NotImplementedError, match="addmv"):
        lamina.addmv(lamina.ones(2), lt.detach(), lv)


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
def test_csr_addmv_matches_torch():
    lt, tt = pair([[0, 1, 1], [1, 0, 1]], [1.0, 2.0, 3.0], (2, 2))
    lc, tc = lt.to_sparse_csr().requires_grad_(), tt.to_sparse_csr().requires_grad_()
    lv, tv = lamina.tensor([1.0, -2.0], requires_grad=True), torch.tensor([1.0, -2.0], requires_grad=True)
    lo = lamina.addmv(lamina.ones(2), lc, lv, beta=0.5, alpha=2.0)
    to = torch.addmv(torch.ones(2), tc, tv, beta=0.5, alpha=2.0)
    assert_close(lo, to, MM_TOL["float32"])
    lo.sum().backward()
    to.sum().backward()
    assert_close(lv.grad, tv.grad, MM_TOL["float32"])
    assert_close(lc.grad.to_dense() if lc.grad.is_sparse else lc.grad, tc.grad, MM_TOL["float32"])


def test_sparse_mv_gradcheck_float64():
    idx = lamina.tensor([[0, 1, 1, 2], [2, 0, 2, 1]])
    v = lamina.tensor([3.0, 4.0, 5.0, 6.0], dtype=lamina.float64, requires_grad=True)
    x = lamina.tensor([0.5, -1.0, 2.0], dtype=lamina.float64, requires_grad=True)
    assert lamina.testing.gradcheck(lambda v, x: lamina.mv(lamina.sparse_coo_tensor(idx, v, (3, 3)), x), (v, x))
