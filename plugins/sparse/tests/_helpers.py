"""Shared helpers: the same sparse tensor built in torch and lamina, and comparisons of the two."""

from __future__ import annotations

import lamina
import lamina_sparse as ls
import numpy as np

TOL = {"float32": dict(rtol=1.3e-6, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-7)}
MM_TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-7)}


def tdtype(name: str):
    import torch

    return getattr(torch, name)


def pair(indices, values, size=None, dtype="float32", requires_grad=False, **kw):
    """(lamina sparse, torch sparse) from the same NumPy indices and values."""
    import torch

    idx = np.asarray(indices, dtype=np.int64)
    vals = np.asarray(values, dtype=dtype)
    lt = ls.sparse_coo_tensor(lamina.as_tensor(idx), lamina.as_tensor(vals.copy()), size,
                              requires_grad=requires_grad, **kw)
    tt = torch.sparse_coo_tensor(torch.from_numpy(idx), torch.from_numpy(vals.copy()), size,
                                 requires_grad=requires_grad, **kw)
    return lt, tt


def random_pair(rng, shape, nnz, dtype="float32", dense=(), duplicates=True, requires_grad=False):
    idx = np.stack([rng.integers(0, s, size=nnz) for s in shape])
    if not duplicates:
        lin = np.unique(np.ravel_multi_index(idx, shape))
        rng.shuffle(lin)
        idx = np.stack(np.unravel_index(lin, shape)).astype(np.int64)
        nnz = idx.shape[1]
    vals = rng.standard_normal((nnz,) + tuple(dense))
    return pair(idx, vals, tuple(shape) + tuple(dense), dtype=dtype, requires_grad=requires_grad)


def np_of(t) -> np.ndarray:
    """A NumPy copy of a lamina or torch (dense) tensor."""
    return np.array(t.detach().numpy())


def assert_same_sparse(lt, tt, tol=None, coalesced=True):
    """Same layout, size, dtype, stored indices and values (in order) and, with ``coalesced``, flag."""
    assert lt.is_sparse and tt.is_sparse
    assert tuple(lt.shape) == tuple(tt.shape)
    assert str(lt.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]
    assert lt.sparse_dim() == tt.sparse_dim() and lt.dense_dim() == tt.dense_dim()
    np.testing.assert_array_equal(np_of(lt._indices()), tt._indices().numpy())
    np.testing.assert_allclose(np_of(lt._values()), tt._values().detach().numpy(), **(tol or {}))
    if coalesced:
        assert lt.is_coalesced() == tt.is_coalesced()


def assert_close(a, b, tol=None):
    """A lamina dense tensor against a torch one: values, shape and dtype."""
    assert not a.is_sparse and not b.is_sparse
    assert tuple(a.shape) == tuple(b.shape)
    assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
    np.testing.assert_allclose(np_of(a), b.detach().numpy(), **(tol or {}))


def torch_repr(t) -> str:
    return repr(t).replace("torch.", "lamina.")
