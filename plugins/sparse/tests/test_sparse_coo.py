"""Sparse COO tensors against torch: construction (checks and messages), metadata, repr, coalesce,
indices/values, to_dense/to_sparse, sparse_mask, transpose, conversions, and the refusal of dense ops."""

from __future__ import annotations

import copy
import pickle

import lamina
import lamina_sparse as ls
import numpy as np
import pytest
from _helpers import TOL, assert_close, assert_same_sparse, pair, random_pair, torch_repr

torch = pytest.importorskip("torch")

IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]
VALS = [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_construction_metadata(dtype):
    lt, tt = pair(IDX, VALS, (2, 3), dtype=dtype)
    assert isinstance(lt, lamina.Tensor) and isinstance(lt, ls.SparseCooTensor)
    assert lt.is_sparse and not lt.is_sparse_csr and lt.layout is lamina.sparse_coo
    assert lt.shape == lamina.Size([2, 3]) and lt.size() == (2, 3) and lt.size(1) == 3
    assert lt.ndim == lt.dim() == 2 and lt.numel() == tt.numel() == 6
    assert lt._nnz() == tt._nnz() == 4
    assert lt.sparse_dim() == 2 and lt.dense_dim() == 0
    assert lt.is_coalesced() is tt.is_coalesced() is False
    assert lt.dtype is getattr(lamina, dtype) and lt.device == lamina.device("cpu")
    assert lt.is_leaf and not lt.requires_grad and lt.grad_fn is None
    assert_same_sparse(lt, tt)


def test_top_level_and_namespace_forms():
    s = lamina.sparse_coo_tensor(IDX, VALS, (2, 3))
    assert isinstance(s, ls.SparseCooTensor)
    assert lamina.sparse.mm is ls.mm and lamina.sparse.sum is ls.sum
    d = lamina.tensor([[0.0, 1.0], [2.0, 0.0]])
    assert isinstance(d.to_sparse(), ls.SparseCooTensor)
    assert d.to_dense() is d


def test_inferred_size_dtypes_and_lists():
    for idx, vals in [([[0, 1], [1, 0]], [1.0, 2.0]), ([[0, 1], [1, 0]], [1, 2]), ([[0, 3]], [True, False])]:
        lt = lamina.sparse_coo_tensor(idx, vals)
        tt = torch.sparse_coo_tensor(idx, vals)
        assert_same_sparse(lt, tt)
    lt = lamina.sparse_coo_tensor(IDX, VALS, dtype=lamina.float64)
    tt = torch.sparse_coo_tensor(IDX, VALS, dtype=torch.float64)
    assert_same_sparse(lt, tt)


def test_hybrid_and_empty():
    rng = np.random.default_rng(0)
    lt, tt = random_pair(rng, (4, 3), 5, dense=(2,))
    assert lt.dense_dim() == 1 and tuple(lt._values().shape) == (5, 2)
    assert_same_sparse(lt, tt)
    assert_close(lt.to_dense(), tt.to_dense(), TOL["float32"])
    le = lamina.sparse_coo_tensor(lamina.zeros(2, 0, dtype=lamina.int64), lamina.zeros(0), (2, 3))
    te = torch.sparse_coo_tensor(torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), (2, 3))
    assert_same_sparse(le, te)
    assert le.is_coalesced() and torch_repr(te) == repr(le)
    assert_close(le.to_dense(), te.to_dense())
    le0 = lamina.sparse_coo_tensor(lamina.zeros(2, 0, dtype=lamina.int64), lamina.zeros(0))
    assert le0.shape == (0, 0)


def test_repr_matches_torch():
    for dtype in ("float32", "float64"):
        lt, tt = pair(IDX, VALS, (2, 3), dtype=dtype)
        assert repr(lt) == torch_repr(tt)
        assert repr(lt.coalesce()) == torch_repr(tt.coalesce())
    lt, tt = pair([[0, 1]], [1.0, 2.0], (3,), requires_grad=True)
    assert repr(lt) == torch_repr(tt)
    rng = np.random.default_rng(1)
    lt, tt = random_pair(rng, (3, 2), 3, dense=(2,))
    assert repr(lt) == torch_repr(tt)
    lt, tt = pair([[0, 1]], [1, 2], (3,))
    assert repr(lt) == torch_repr(tt)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_coalesce_sums_duplicates_sorted(dtype):
    rng = np.random.default_rng(2)
    for shape, nnz, dense in [((4, 5), 12, ()), ((3, 3, 2), 10, ()), ((5,), 9, (3,)), ((2, 2), 1, ())]:
        lt, tt = random_pair(rng, shape, nnz, dtype=dtype, dense=dense)
        lc, tc = lt.coalesce(), tt.coalesce()
        assert_same_sparse(lc, tc, TOL[dtype])
        assert lc.is_coalesced()
        assert lc.coalesce() is lc
        assert_close(lt.to_dense(), tt.to_dense(), TOL[dtype])
        np.testing.assert_array_equal(lc.indices().numpy(), tc.indices().numpy())
        np.testing.assert_allclose(lc.values().numpy(), tc.values().numpy(), **TOL[dtype])


def test_indices_values_need_coalesced():
    lt, tt = pair(IDX, VALS, (2, 3))
    for name in ("indices", "values"):
        with pytest.raises(RuntimeError) as te:
            getattr(tt, name)()
        with pytest.raises(RuntimeError, match="Cannot get " + name + " on an uncoalesced tensor") as le:
            getattr(lt, name)()
        assert str(le.value) == str(te.value)
    np.testing.assert_array_equal(lt._indices().numpy(), tt._indices().numpy())
    np.testing.assert_array_equal(lt._values().numpy(), tt._values().numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.sparse_coo_tensor(IDX, VALS, (2, 2), check_invariants=True),
    lambda m: m.sparse_coo_tensor([[0, -1], [0, 0]], [1.0, 2.0], (2, 2), check_invariants=True),
    lambda m: m.sparse_coo_tensor([0, 1], [1.0, 2.0]),
    lambda m: m.sparse_coo_tensor([[[0, 1]]], [1.0, 2.0]),
    lambda m: m.sparse_coo_tensor(IDX, VALS[:3]),
    lambda m: m.sparse_coo_tensor(IDX, VALS, (2,)),
    lambda m: m.sparse_coo_tensor([[0, 1]], m.ones(2, 3), (3, 2)),
    lambda m: m.sparse_coo_tensor([[0, 1]], [1, 2], (3,), requires_grad=True),
    lambda m: m.sparse_coo_tensor([[0, -1]], [1.0, 2.0]),
], ids=["out_of_bounds", "negative", "indices_1d", "indices_3d", "nnz_mismatch", "len_size", "dense_size",
        "int_requires_grad", "negative_inferred"])
def test_construction_errors_as_torch(call):
    with pytest.raises(Exception) as te:
        call(torch)
    with pytest.raises(type(te.value)) as le:
        call(lamina)
    assert str(le.value).lower() == str(te.value).lower()


def test_no_bounds_check_by_default_as_torch():
    lt, tt = pair(IDX, VALS, (2, 2))
    assert tuple(lt.shape) == tuple(tt.shape) == (2, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_sparse_from_dense(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    x[x < 0.3] = 0
    lx, tx = lamina.as_tensor(x.copy()), torch.from_numpy(x.copy())
    assert_same_sparse(lx.to_sparse(), tx.to_sparse())
    for sd in (1, 2, 3):
        assert_same_sparse(lx.to_sparse(sd), tx.to_sparse(sd))
        assert_close(lx.to_sparse(sd).to_dense(), tx.to_sparse(sd).to_dense())
    assert_same_sparse(lx.to_sparse(dense_dim=1), tx.to_sparse(dense_dim=1))
    assert_same_sparse(lx.to_sparse_coo(), tx.to_sparse_coo())
    for bad in (0, 4, -1):
        with pytest.raises(RuntimeError) as te:
            tx.to_sparse(bad)
        with pytest.raises(RuntimeError) as le:
            lx.to_sparse(bad)
        assert str(le.value) == str(te.value)
    for scalar in (3.0, 0.0):
        ls0, ts0 = lamina.tensor(scalar, dtype=getattr(lamina, dtype)).to_sparse(), torch.tensor(scalar).to(
            getattr(torch, dtype)).to_sparse()
        assert_same_sparse(ls0, ts0)
        assert repr(ls0) == torch_repr(ts0)
    s = lx.to_sparse()
    assert s.to_sparse() is s and s.to_sparse_coo() is s


def test_to_sparse_gradient():
    x = np.array([[0.0, 1.5], [2.0, 0.0]])
    lx = lamina.as_tensor(x.copy()).requires_grad_()
    tx = torch.from_numpy(x.copy()).requires_grad_()
    w = np.array([[1.0, 2.0], [3.0, 4.0]])
    (lx.to_sparse().to_dense() * lamina.as_tensor(w)).sum().backward()
    (tx.to_sparse().to_dense() * torch.from_numpy(w)).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy())


def test_sparse_mask():
    rng = np.random.default_rng(4)
    d = rng.standard_normal((2, 3))
    for coalesce in (False, True):
        lm, tm = pair(IDX, VALS, (2, 3))
        if coalesce:
            lm, tm = lm.coalesce(), tm.coalesce()
        assert_same_sparse(lamina.as_tensor(d).sparse_mask(lm), torch.from_numpy(d).sparse_mask(tm))
    with pytest.raises(RuntimeError, match="sparse_mask"):
        lamina.as_tensor(d[:1]).sparse_mask(lm)


def test_transpose_and_t():
    lt, tt = pair(IDX, VALS, (2, 3))
    assert_same_sparse(lt.t(), tt.t())
    assert_same_sparse(lt.coalesce().t(), tt.coalesce().t())
    assert_same_sparse(lt.transpose(0, 1), tt.transpose(0, 1))
    rng = np.random.default_rng(5)
    lh, th = random_pair(rng, (3, 2), 4, dense=(2, 3))
    assert_same_sparse(lh.transpose(0, 1), th.transpose(0, 1))
    assert_close(lh.transpose(1, 0).to_dense(), th.transpose(1, 0).to_dense())
    with pytest.raises(RuntimeError) as te:
        th.transpose(2, 3)
    with pytest.raises(RuntimeError) as le:
        lh.transpose(2, 3)
    assert str(le.value) == str(te.value)


def test_dtype_conversions_detach_clone():
    lt, tt = pair(IDX, VALS, (2, 3))
    for name in ("double", "float", "int", "long", "bool", "half"):
        assert_same_sparse(getattr(lt, name)(), getattr(tt, name)())
    assert_same_sparse(lt.to(lamina.float64), tt.to(torch.float64))
    assert_same_sparse(lt.clone(), tt.clone())
    assert_same_sparse(lt.detach(), tt.detach())
    assert lt.to(lamina.float32) is lt


def test_values_alias_and_leaf_state():
    lt, _ = pair([[0, 1]], [1.0, 2.0], (3,), requires_grad=True)
    assert lt.is_leaf and lt.requires_grad and lt.grad is None
    v = lamina.tensor([1.0, 2.0], requires_grad=True)
    s = lamina.sparse_coo_tensor([[0, 1]], v, (3,))
    tv = torch.tensor([1.0, 2.0], requires_grad=True)
    ts = torch.sparse_coo_tensor([[0, 1]], tv, (3,))
    assert s.is_leaf is ts.is_leaf is False and s.requires_grad and s.grad_fn is not None
    plain = lamina.tensor([1.0, 2.0])
    s2 = lamina.sparse_coo_tensor([[0, 1]], plain, (3,)).requires_grad_()
    assert s2.requires_grad and not plain.requires_grad


def test_copy_and_pickle():
    lt, tt = pair(IDX, VALS, (2, 3))
    for other in (copy.deepcopy(lt), pickle.loads(pickle.dumps(lt))):
        assert_same_sparse(other, tt, coalesced=False)


def test_dense_ops_refuse_sparse():
    lt, _ = pair(IDX, VALS, (2, 3))
    with pytest.raises(NotImplementedError, match="'exp' with arguments from the 'SparseCPU' backend"):
        lt.exp()
    with pytest.raises(NotImplementedError, match="SparseCPU"):
        lamina.exp(lt)
    with pytest.raises(NotImplementedError, match="SparseCPU"):
        lt.view(6)
    with pytest.raises(NotImplementedError, match="SparseCPU"):
        lamina.relu(lamina.ones(2, 3)) + lt.cos()
