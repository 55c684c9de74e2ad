"""torch.sparse's legacy types against torch: torch.sparse.FloatTensor(indices, values[, size]) (the adjacency of
old GCN code), the sizes forms, isinstance checks (dense legacy types reject a sparse tensor), x.type(), errors
and the once-per-form deprecation warning."""

from __future__ import annotations

import lamina
import lamina_sparse.legacy as legacy
import numpy as np
import pytest
from _helpers import TOL, assert_close

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:torch.sparse.SparseTensor", "ignore:Sparse invariant checks")

IDX = [[0, 1, 2], [1, 0, 2]]
NAMES = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor",
         "CharTensor", "ShortTensor"]


def _both(fn):
    return fn(lamina), fn(torch)


def _same_meta(lt, tt):
    assert lt.is_sparse and tt.is_sparse
    assert str(lt.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]
    assert tuple(lt.shape) == tuple(tt.shape) and lt._nnz() == tt._nnz()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_indices_values_forms(dtype):
    vals = np.array([2.0, -3.0, 0.5], dtype=dtype)
    for form in (lambda m: m.sparse.FloatTensor(m.LongTensor(IDX), m.from_numpy(vals.copy()), m.Size([3, 4])),
                 lambda m: m.sparse.FloatTensor(m.LongTensor(IDX), m.from_numpy(vals.copy()), (3, 4)),
                 lambda m: m.sparse.FloatTensor(m.LongTensor(IDX), m.from_numpy(vals.copy())),
                 lambda m: m.sparse.DoubleTensor(m.LongTensor(IDX), m.from_numpy(vals.copy()), (3, 3))):
        lt, tt = _both(form)
        _same_meta(lt, tt)          # the values' dtype is kept, whatever the class says (as torch)
        assert_close(lt.to_dense(), tt.to_dense(), TOL[dtype])


def test_gcn_style_adjacency_product():
    """pygcn's sparse_mx_to_torch_sparse_tensor then torch.spmm(adj, x @ w), with the gradient of w."""
    rng = np.random.default_rng(0)
    rows, cols = np.nonzero(rng.random((6, 6)) < 0.4)
    vals = rng.random(rows.size).astype(np.float32)
    x, w = rng.standard_normal((6, 3)).astype(np.float32), rng.standard_normal((3, 2)).astype(np.float32)
    outs = []
    for m in (lamina, torch):
        adj = m.sparse.FloatTensor(m.from_numpy(np.vstack((rows, cols)).astype(np.int64)), m.from_numpy(vals),
                                   m.Size((6, 6)))
        wt = m.from_numpy(w.copy()).requires_grad_()
        y = m.spmm(adj, m.from_numpy(x) @ wt)
        y.pow(2).sum().backward()
        outs.append((y, wt.grad))
    for lo, to in zip(*outs):
        assert_close(lo, to, TOL["float32"])


@pytest.mark.parametrize("name", NAMES)
def test_sizes_forms_and_isinstance(name):
    for form in (lambda m: getattr(m.sparse, name)(2, 3), lambda m: getattr(m.sparse, name)(m.Size([4])),
                 lambda m: getattr(m.sparse, name)()):
        lt, tt = _both(form)
        _same_meta(lt, tt)
        assert isinstance(lt, getattr(lamina.sparse, name)) and isinstance(tt, getattr(torch.sparse, name))
    other = "DoubleTensor" if name == "FloatTensor" else "FloatTensor"
    lt, tt = _both(lambda m: getattr(m.sparse, name)(2, 3))
    assert isinstance(lt, getattr(lamina.sparse, other)) is isinstance(tt, getattr(torch.sparse, other)) is False
    assert getattr(lamina.sparse, name).__name__ == name


def test_isinstance_across_layouts_and_type():
    lt, tt = _both(lambda m: m.sparse_coo_tensor(m.tensor(IDX), m.tensor([1.0, 2.0, 3.0]), (3, 3)))
    for m, t in ((lamina, lt), (torch, tt)):
        assert isinstance(t, m.sparse.FloatTensor)
        assert not isinstance(t, m.FloatTensor)           # a dense legacy type is strided only
        assert not isinstance(t.to_dense(), m.sparse.FloatTensor) and isinstance(t.to_dense(), m.FloatTensor)
        assert not isinstance(t, m.sparse.DoubleTensor)
    assert lt.type() == "lamina.sparse.FloatTensor" and tt.type() == "torch.sparse.FloatTensor"
    assert lt.to_dense().type() == "lamina.FloatTensor"
    for spec in (lamina.sparse.DoubleTensor, "lamina.sparse.DoubleTensor"):
        cast = lt.type(spec)
        assert cast.is_sparse and cast.dtype is lamina.float64
    assert tt.type(torch.sparse.DoubleTensor).dtype is torch.float64
    with pytest.raises(ValueError, match="invalid type"):
        lt.type("lamina.sparse.NoSuchTensor")


@pytest.mark.parametrize("args", [("x",), (2.5,), ("tensor", [2.0, 3.0, 1.0], (3, 3)), ("tensor", "tensor", "x")])
def test_bad_arguments_raise_type_error(args):
    def call(m):
        real = [m.LongTensor(IDX) if a == "tensor" and i == 0 else m.FloatTensor([1.0, 2.0, 3.0]) if a == "tensor"
                else a for i, a in enumerate(args)]
        return m.sparse.FloatTensor(*real)

    for m in (lamina, torch):
        with pytest.raises(TypeError, match="invalid combination of arguments"):
            call(m)


def test_device_other_than_cpu_refused():
    with pytest.raises(RuntimeError, match="legacy constructor expects device type: cpu"):
        lamina.sparse.FloatTensor(2, 2, device="cuda")


def test_deprecation_warns_once_per_form(monkeypatch):
    monkeypatch.setattr(legacy, "_WARNED", set())
    i, v = lamina.LongTensor(IDX), lamina.FloatTensor([1.0, 2.0, 3.0])
    with pytest.warns(UserWarning, match=r"SparseTensor\(indices, values, shape, \*, device=\) is deprecated"):
        lamina.sparse.FloatTensor(i, v, (3, 3))
    with pytest.warns(UserWarning, match=r"SparseTensor\(shape, \*, device=\)"):
        lamina.sparse.FloatTensor(2, 2)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lamina.sparse.FloatTensor(i, v, (3, 3))          # the second call of a form is silent, as torch
        lamina.sparse.DoubleTensor(3)
