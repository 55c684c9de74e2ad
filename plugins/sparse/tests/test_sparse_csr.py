"""2-D CSR tensors against torch: construction, crow/col indices and values, repr, conversions to and
from dense and COO, csr @ dense with gradients to the values and the dense operand."""

from __future__ import annotations

import lamina
import lamina_sparse as ls
import numpy as np
import pytest
from _helpers import MM_TOL, TOL, assert_close, assert_same_sparse, torch_repr

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")


def _csr_pair(dtype="float32"):
    x = np.array([[0.0, 1.0, 0.0], [2.0, 0.0, 3.0], [0.0, 0.0, 0.0], [4.0, 0.0, 0.5]], dtype=dtype)
    return lamina.as_tensor(x.copy()).to_sparse_csr(), torch.from_numpy(x.copy()).to_sparse_csr(), x


def _same_csr(lc, tc, tol=None):
    assert lc.is_sparse_csr and not lc.is_sparse and lc.layout is lamina.sparse_csr
    assert tuple(lc.shape) == tuple(tc.shape) and lc._nnz() == tc._nnz()
    np.testing.assert_array_equal(lc.crow_indices().numpy(), tc.crow_indices().numpy())
    np.testing.assert_array_equal(lc.col_indices().numpy(), tc.col_indices().numpy())
    np.testing.assert_allclose(lc.values().detach().numpy(), tc.values().detach().numpy(), **(tol or {}))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_csr_coo_round_trips(dtype):
    lc, tc, x = _csr_pair(dtype)
    _same_csr(lc, tc)
    assert isinstance(lc, lamina.Tensor) and isinstance(lc, ls.SparseCsrTensor)
    assert_close(lc.to_dense(), tc.to_dense())
    assert_same_sparse(lc.to_sparse_coo(), tc.to_sparse_coo())
    assert_same_sparse(lc.to_sparse(), tc.to_sparse())
    _same_csr(lamina.as_tensor(x).to_sparse().to_sparse_csr(), torch.from_numpy(x).to_sparse().to_sparse_csr())
    _same_csr(lamina.as_tensor(x).to_sparse(layout=lamina.sparse_csr),
              torch.from_numpy(x).to_sparse(layout=torch.sparse_csr))
    assert lc.to_sparse_csr() is lc
    assert repr(lc) == torch_repr(tc)


def test_sparse_csr_tensor_constructor():
    args = ([0, 1, 3], [1, 0, 2], [1.0, 2.0, 3.0])
    lc, tc = lamina.sparse_csr_tensor(*args, (2, 3)), torch.sparse_csr_tensor(*args, (2, 3))
    _same_csr(lc, tc)
    _same_csr(lamina.sparse_csr_tensor(*args), torch.sparse_csr_tensor(*args))
    assert repr(lamina.sparse_csr_tensor(*args, dtype=lamina.float64)) == torch_repr(
        torch.sparse_csr_tensor(*args, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="col_indices and values"):
        lamina.sparse_csr_tensor([0, 1, 3], [1, 0], [1.0, 2.0, 3.0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_csr_matmul_and_gradients(dtype):
    rng = np.random.default_rng(30)
    d = rng.standard_normal((3, 2)).astype(dtype)
    v = np.array([1.0, 2.0, 3.0], dtype=dtype)
    lv, tv = lamina.as_tensor(v.copy()).requires_grad_(), torch.from_numpy(v.copy()).requires_grad_()
    ld, td = lamina.as_tensor(d.copy()).requires_grad_(), torch.from_numpy(d.copy()).requires_grad_()
    lc = lamina.sparse_csr_tensor([0, 1, 3], [1, 0, 2], lv, (2, 3))
    tc = torch.sparse_csr_tensor([0, 1, 3], [1, 0, 2], tv, (2, 3))
    lo, to = lc @ ld, tc @ td
    assert_close(lo, to, MM_TOL[dtype])
    (lo * lo).sum().backward()
    (to * to).sum().backward()
    assert_close(lv.grad, tv.grad, MM_TOL[dtype])
    assert_close(ld.grad, td.grad, MM_TOL[dtype])
    assert_close(lc.to_dense(), tc.to_dense(), TOL[dtype])


def test_csr_refuses_dense_ops():
    lc, _, _ = _csr_pair()
    with pytest.raises(NotImplementedError, match="SparseCsrCPU"):
        lc.exp()
