"""CSC, BSR and BSC (and CSR through the same code) against torch: constructors with and without size,
index/value accessors and their layout errors, repr, to_dense, conversions dense <-> compressed <-> COO,
products with dense matrices (values, leaf and value gradients)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _helpers import MM_TOL, assert_close, assert_same_sparse, torch_repr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Sparse (CSR|CSC|BSR|BSC) tensor support is in beta")

X = np.array([[0.0, 1.0, 0.0, 0.0], [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0], [4.0, 0.0, 0.5, 6.0]])
NAMES = {"sparse_csr": ("crow_indices", "col_indices"), "sparse_csc": ("ccol_indices", "row_indices"),
         "sparse_bsr": ("crow_indices", "col_indices"), "sparse_bsc": ("ccol_indices", "row_indices")}


def _convert(T, x, layout, block=(2, 1)):
    name = layout[7:]
    return getattr(x, f"to_sparse_{name}")(block) if name.startswith("b") else getattr(x, f"to_sparse_{name}")()


def _same(lc, tc, tol=None):
    layout = str(lc.layout).split(".")[-1]
    assert str(tc.layout) == f"torch.{layout}"
    assert tuple(lc.shape) == tuple(tc.shape) and lc._nnz() == tc._nnz()
    assert str(lc.dtype).split(".")[-1] == str(tc.dtype).split(".")[-1]
    for name in NAMES[layout]:
        np.testing.assert_array_equal(getattr(lc, name)().numpy(), getattr(tc, name)().numpy())
    np.testing.assert_allclose(lc.values().detach().numpy(), tc.values().detach().numpy(), **(tol or {}))


LAYOUTS = ["sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_round_trip_and_repr(layout, dtype):
    x = X.astype(dtype)
    lc, tc = _convert(lamina, lamina.as_tensor(x.copy()), layout), _convert(torch, torch.from_numpy(x.copy()), layout)
    _same(lc, tc)
    assert lc.layout is getattr(lamina, layout) and not lc.is_sparse
    assert lc.is_sparse_csr == tc.is_sparse_csr
    assert lc.sparse_dim() == tc.sparse_dim() == 2 and lc.dense_dim() == tc.dense_dim() == 0
    assert_close(lc.to_dense(), tc.to_dense())
    assert repr(lc) == torch_repr(tc)
    assert_same_sparse(lc.to_sparse_coo(), tc.to_sparse_coo())
    for other in ("sparse_csr", "sparse_csc"):
        if layout in ("sparse_csr", "sparse_csc"):
            _same(_convert(lamina, lc, other), _convert(torch, tc, other))
    _same(lamina.as_tensor(x).to_sparse(layout=getattr(lamina, layout), blocksize=(2, 1) if "b" in layout[7] else None),
          torch.from_numpy(x).to_sparse(layout=getattr(torch, layout), blocksize=(2, 1) if "b" in layout[7] else None))


@pytest.mark.parametrize("layout", ["sparse_csc", "sparse_bsr", "sparse_bsc"])
def test_from_coo(layout):
    ls_, ts = lamina.as_tensor(X).to_sparse(), torch.from_numpy(X).to_sparse()
    _same(_convert(lamina, ls_, layout), _convert(torch, ts, layout))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_constructors(layout):
    blocked = layout in ("sparse_bsr", "sparse_bsc")
    c, p = [0, 1, 3], [1, 0, 1]
    v = np.arange(1.0, 4.0 if not blocked else 13.0).reshape((3, 2, 2) if blocked else (3,))
    lf, tf = getattr(lamina, f"{layout}_tensor"), getattr(torch, f"{layout}_tensor")
    _same(lf(c, p, lamina.as_tensor(v)), tf(c, p, torch.from_numpy(v)))
    size = (6, 4) if blocked else (3, 2)
    size = size[::-1] if layout == "sparse_csc" else size
    _same(lf(c, p, v, size, dtype=lamina.float32), tf(c, p, v, size, dtype=torch.float32))
    _same(lamina.sparse_compressed_tensor(c, p, v, layout=getattr(lamina, layout)),
          torch.sparse_compressed_tensor(c, p, torch.from_numpy(v), layout=getattr(torch, layout)))
    assert_close(lf(c, p, v).to_dense(), tf(c, p, torch.from_numpy(v)).to_dense())


def test_constructor_errors():
    for T in (torch, lamina):
        with pytest.raises(RuntimeError, match="expected sparse compressed tensor layout but got none"):
            T.sparse_compressed_tensor([0, 1, 2], [0, 1], [1.0, 2.0])
        with pytest.raises(RuntimeError, match="expected sparse compressed tensor layout but got Strided"):
            T.sparse_compressed_tensor([0, 1, 2], [0, 1], [1.0, 2.0], (2, 2), layout=T.strided)
        with pytest.raises(RuntimeError, match=r"dense_to_sparse_bsr: tensor sparse size \(3,3\) must be divisible "
                                               r"by given blocksize \(2,2\)"):
            T.ones(3, 3).to_sparse_bsr((2, 2))
        with pytest.raises(RuntimeError, match="dense_to_sparse_bsc: tensor sparse size"):
            T.ones(3, 3).to_sparse_bsc(2)
        with pytest.raises(RuntimeError, match="without blocksize argument given is not supported"):
            T.ones(2, 2).to_sparse(layout=T.sparse_bsr)
        with pytest.raises(RuntimeError, match="expected SparseCsr or SparseCsc layout but got SparseBsr"):
            T.ones(2, 2).to_sparse_bsr((1, 1)).to_sparse_csr()


def test_accessor_layout_errors():
    x = X.astype(np.float32)
    cases = [("crow_indices", "sparse_csc", "row compressed", "SparseCsc"),
             ("ccol_indices", "sparse_csr", "column compressed", "SparseCsr"),
             ("row_indices", "sparse_bsr", "column compressed", "SparseBsr"),
             ("col_indices", "sparse_bsc", "row compressed", "SparseBsc"),
             ("indices", "sparse_csc", "coordinate", "SparseCsc"),
             ("coalesce", "sparse_csr", "coordinate", "SparseCsr"),
             ("is_coalesced", "sparse_csr", "coordinate", "SparseCsr")]
    for method, layout, kind, got in cases:
        for T, src in ((torch, torch.from_numpy(x)), (lamina, lamina.as_tensor(x))):
            with pytest.raises(RuntimeError, match=f"{method} expected sparse {kind} tensor layout but got {got}"):
                getattr(_convert(T, src, layout), method)()


@pytest.mark.parametrize("layout", ["sparse_csr", "sparse_csc", "sparse_bsr"])
@pytest.mark.parametrize("form", ["mm", "at", "addmm"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_and_leaf_gradients(layout, form, dtype):
    rng = np.random.default_rng(7)
    x = X.astype(dtype)
    lc = _convert(lamina, lamina.as_tensor(x), layout, (2, 2)).requires_grad_()
    tc = _convert(torch, torch.from_numpy(x), layout, (2, 2)).requires_grad_()
    d = rng.standard_normal((4, 3)).astype(dtype)
    ld = lamina.as_tensor(d.copy()).requires_grad_()
    td = torch.from_numpy(d.copy()).requires_grad_(layout != "sparse_bsr")   # torch has no BSR^T @ dy kernel
    fn = {"mm": lambda T, s, m: T.mm(s, m), "at": lambda T, s, m: s @ m,
          "addmm": lambda T, s, m: T.addmm(T.ones(3, dtype=m.dtype), s, m, alpha=2.0)}[form]
    lo, to = fn(lamina, lc, ld), fn(torch, tc, td)
    assert_close(lo, to, MM_TOL[dtype])
    lo.pow(2).sum().backward()
    to.pow(2).sum().backward()
    if layout != "sparse_bsr":
        assert_close(ld.grad, td.grad, MM_TOL[dtype])
    assert tc.grad.layout == torch.strided
    assert_close(lc.grad, tc.grad, MM_TOL[dtype])


def test_block_products_and_value_gradients():
    rng = np.random.default_rng(8)
    for layout in ("sparse_bsr", "sparse_csc", "sparse_csr"):   # torch's BSR product takes square blocks only
        lc = _convert(lamina, lamina.as_tensor(X), layout, (2, 2))
        tc = _convert(torch, torch.from_numpy(X), layout, (2, 2))
        v = tc.values().detach().numpy()
        lv, tv = lamina.as_tensor(v.copy()).requires_grad_(), torch.from_numpy(v.copy()).requires_grad_()
        names = NAMES[layout]
        ls_ = lamina.sparse_compressed_tensor(*(getattr(lc, n)() for n in names), lv * 1.5, (4, 4),
                                              layout=getattr(lamina, layout))
        ts = torch.sparse_compressed_tensor(*(getattr(tc, n)() for n in names), tv * 1.5, (4, 4),
                                            layout=getattr(torch, layout))
        d = rng.standard_normal((4, 2))
        ld = lamina.as_tensor(d.copy()).requires_grad_()
        td = torch.from_numpy(d.copy()).requires_grad_(layout != "sparse_bsr")  # torch has no BSR^T @ dy kernel
        lo, to = ls_ @ ld, ts @ td
        assert_close(lo, to, MM_TOL["float64"])
        lo.pow(2).sum().backward()
        to.pow(2).sum().backward()
        assert_close(lv.grad, tv.grad, MM_TOL["float64"])
        assert_close(ld.grad, ts.detach().to_dense().t() @ (2 * to.detach()), MM_TOL["float64"])


def test_to_dense_gradcheck():
    from lamina.testing import gradcheck

    c, p = lamina.as_tensor([0, 1, 3]), lamina.as_tensor([1, 0, 1])
    v = lamina.as_tensor(np.random.default_rng(9).standard_normal((3, 2, 2))).requires_grad_()
    for layout in (lamina.sparse_bsr, lamina.sparse_bsc):
        assert gradcheck(lambda v, lay=layout: lamina.sparse_compressed_tensor(c, p, v, layout=lay).to_dense(), (v,))
    x = lamina.as_tensor(np.random.default_rng(10).uniform(0.5, 2.0, (4, 4))).requires_grad_()  # no zeros
    assert gradcheck(lambda x: x.to_sparse_csc().to_dense(), (x,))
    assert gradcheck(lambda x: x.to_sparse_bsc((2, 2)).values(), (x,))


def test_sparse_mm_gives_a_csr_leaf_a_csr_gradient():
    rng = np.random.default_rng(12)
    lc, tc = lamina.as_tensor(X).to_sparse_csr().requires_grad_(), torch.from_numpy(X).to_sparse_csr().requires_grad_()
    d = rng.standard_normal((4, 2))
    lamina.sparse.mm(lc, lamina.as_tensor(d)).pow(2).sum().backward()
    torch.sparse.mm(tc, torch.from_numpy(d)).pow(2).sum().backward()
    assert tc.grad.layout == torch.sparse_csr
    _same(lc.grad, tc.grad, MM_TOL["float64"])
    lc.grad = None
    assert lc.grad is None
