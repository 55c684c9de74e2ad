"""The sparse-only Tensor methods on a dense tensor (and on COO where they are another layout's), raising
as torch does; sparse_dim/dense_dim of a dense tensor; in-place resizing of COO tensors vs torch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _helpers import assert_same_sparse, pair

torch = pytest.importorskip("torch")

LAYOUT_ERRORS = [  # method, args, expected message
    ("coalesce", (), "coalesce expected sparse coordinate tensor layout but got Strided"),
    ("indices", (), "indices expected sparse coordinate tensor layout but got Strided"),
    ("is_coalesced", (), "is_coalesced expected sparse coordinate tensor layout but got Strided"),
    ("values", (), "values expected sparse tensor layout but got Strided"),
    ("crow_indices", (), "crow_indices expected sparse row compressed tensor layout but got Strided"),
    ("col_indices", (), "col_indices expected sparse row compressed tensor layout but got Strided"),
    ("ccol_indices", (), "ccol_indices expected sparse column compressed tensor layout but got Strided"),
    ("row_indices", (), "row_indices expected sparse column compressed tensor layout but got Strided"),
    ("smm", ("eye",), r"tensor.sspaddmm\(...\) can only be called on sparse tensors"),
    ("sspaddmm", ("eye", "eye"), r"tensor.sspaddmm\(...\) can only be called on sparse tensors"),
]


@pytest.mark.parametrize("method,args,match", LAYOUT_ERRORS, ids=[c[0] for c in LAYOUT_ERRORS])
def test_dense_tensor_raises_as_torch(method, args, match):
    for T in (torch, lamina):
        x = T.ones(2, 2)
        call_args = [T.eye(2) if a == "eye" else a for a in args]
        with pytest.raises(RuntimeError, match=match):
            getattr(x, method)(*call_args)


@pytest.mark.parametrize("method", ["crow_indices", "col_indices", "ccol_indices", "row_indices"])
def test_coo_raises_for_compressed_accessors(method):
    lt, tt = pair([[0, 1], [1, 0]], [1.0, 2.0], (2, 2))
    for t in (tt, lt):
        with pytest.raises(RuntimeError, match=f"{method} expected sparse .* compressed tensor layout but got Sparse"):
            getattr(t, method)()


def test_dense_sparse_dim_and_dense_dim():
    for shape in [(), (3,), (2, 3, 4)]:
        x, y = torch.ones(shape), lamina.ones(shape)
        assert (y.sparse_dim(), y.dense_dim()) == (x.sparse_dim(), x.dense_dim())


@pytest.mark.parametrize("name,args", [("sparse_resize_", ((2, 2), 2, 0)),
                                       ("sparse_resize_and_clear_", ((2, 2), 2, 0))])
def test_dense_resize_has_no_kernel(name, args):
    for T in (torch, lamina):
        with pytest.raises(NotImplementedError, match=f"Could not run 'aten::{name}' with arguments from the 'CPU' "
                                                      f"backend"):
            getattr(T.ones(2, 2), name)(*args)
        with pytest.raises(NotImplementedError, match="Could not run 'aten::resize_as_sparse_'"):
            T.resize_as_sparse_(T.ones(2, 2), T.ones(2, 2))


def _resizable(p):
    return p[0], p[1].clone()                    # torch cannot resize values that share a NumPy array


def _hybrid():
    return _resizable(pair([[0, 1], [1, 0]], np.ones((2, 3)), (2, 2, 3)))


@pytest.mark.parametrize("size,sd,dd", [((3, 3, 4), 2, 1), ((2, 2, 3), 2, 1), ((5, 2, 5), 2, 1)])
def test_sparse_resize_grows(size, sd, dd):
    lt, tt = _hybrid()
    assert lt.sparse_resize_(size, sd, dd) is lt
    tt.sparse_resize_(size, sd, dd)
    assert tuple(lt.shape) == tuple(tt.shape) and lt._values().shape == tt._values().shape
    np.testing.assert_array_equal(lt._indices().numpy(), tt._indices().numpy())
    if size[2] == 3:
        np.testing.assert_array_equal(lt.to_dense().numpy(), tt.to_dense().numpy())
    else:  # torch resizes the values' raw storage (entries shift, new slots uninitialised); lamina pads zeros
        np.testing.assert_array_equal(lt._values()[:, :3].numpy(), np.ones((2, 3), dtype=np.float32))
        assert (lt._values()[:, 3:].numpy() == 0).all()


@pytest.mark.parametrize("size,sd,dd,match", [
    ((3, 3, 3), 2, 2, r"'len\(size\) == sparse_dim \+ dense_dim' is not satisfied: len\(size\) = 3, sparse_dim = 2, "
                      r"dense_dim = 2"),
    ((1, 2, 3), 2, 1, r"shrinking the size of sparse dimensions \(from \[2, 2\] to \[1, 2\]\) on a non-empty"),
    ((3, 3, 2), 2, 1, r"shrinking the size of dense dimensions \(from \[3\] to \[2\]\) on a non-empty"),
    ((3, 3, 3), 3, 0, r"changing the number of sparse dimensions \(from 2 to 3\) on a non-empty"),
    ((3, 3, 3, 1), 2, 2, r"changing the number of dense dimensions \(from 1 to 2\) on a non-empty"),
])
def test_sparse_resize_errors(size, sd, dd, match):
    for t in _hybrid()[::-1]:
        with pytest.raises(RuntimeError, match=match):
            t.sparse_resize_(size, sd, dd)


def test_resize_and_clear_and_resize_as():
    lt, tt = _hybrid()
    lt.sparse_resize_and_clear_((3, 3), 1, 1)
    tt.sparse_resize_and_clear_((3, 3), 1, 1)
    assert_same_sparse(lt, tt)
    lt, tt = _hybrid()
    le, te = _resizable(pair(np.zeros((2, 0)), np.zeros((0, 4)), (5, 5, 4)))
    lamina.resize_as_sparse_(le, lt)
    torch.resize_as_sparse_(te, tt)
    assert_same_sparse(le, te)
    lt.resize_as_sparse_(pair(np.zeros((2, 0)), np.zeros((0, 3)), (4, 4, 3))[0])
    tt.resize_as_sparse_(pair(np.zeros((2, 0)), np.zeros((0, 3)), (4, 4, 3))[1])
    assert_same_sparse(lt, tt)


def test_resize_of_a_leaf_that_requires_grad():
    for t in pair([[0, 1], [1, 0]], [1.0, 2.0], (2, 2), requires_grad=True)[::-1]:
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            t.sparse_resize_((3, 3), 2, 0)
