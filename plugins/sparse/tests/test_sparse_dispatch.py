"""The core's lamina.mm / matmul / addmm and the dense Tensor's methods with a sparse operand (the
``__lamina_function__`` hook), against torch: values, dtypes, leaf gradients (dense, as torch.mm gives)
and gradients of the values and the dense operand; errors as torch raises them."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _helpers import MM_TOL, assert_close, pair, random_pair

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta",
                                        "ignore:Sparse CSC tensor support is in beta")

FORMS = {
    "mm": lambda T, s, d: T.mm(s, d),
    "matmul": lambda T, s, d: T.matmul(s, d),
    "at": lambda T, s, d: s @ d,
    "addmm": lambda T, s, d: T.addmm(T.ones(s.shape[0], d.shape[1], dtype=d.dtype), s, d),
    "addmm_scaled": lambda T, s, d: T.addmm(T.ones(d.shape[1], dtype=d.dtype), s, d, beta=0.5, alpha=2.0),
    "Tensor.addmm": lambda T, s, d: T.ones(s.shape[0], d.shape[1], dtype=d.dtype).addmm(s, d, beta=2, alpha=3),
}


def _dense(rng, shape, dtype):
    x = rng.standard_normal(shape).astype(dtype)
    return lamina.as_tensor(x.copy()).requires_grad_(), torch.from_numpy(x.copy()).requires_grad_()


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_core_products_with_a_sparse_leaf(form, dtype):
    rng = np.random.default_rng(3)
    ls_, ts = random_pair(rng, (5, 4), 8, dtype=dtype, requires_grad=True)
    ld, td = _dense(rng, (4, 3), dtype)
    fn = FORMS[form]
    lo, to = fn(lamina, ls_, ld), fn(torch, ts, td)
    assert not lo.is_sparse and lo.layout is lamina.strided
    assert_close(lo, to, MM_TOL[dtype])
    w = rng.standard_normal(tuple(to.shape)).astype(dtype)
    (lo * lamina.as_tensor(w)).sum().backward()
    (to * torch.from_numpy(w)).sum().backward()
    assert_close(ld.grad, td.grad, MM_TOL[dtype])
    assert ts.grad.layout == torch.strided                     # torch.mm's leaf gradient is dense
    assert_close(ls_.grad, ts.grad, MM_TOL[dtype])


@pytest.mark.parametrize("form", ["lamina.mm", "Tensor.mm", "Tensor.matmul"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dense_times_sparse_leaf(form, dtype):
    rng = np.random.default_rng(6)
    ls_, ts = random_pair(rng, (5, 4), 8, dtype=dtype, requires_grad=True)
    ld, td = _dense(rng, (3, 5), dtype)
    fn = {"lamina.mm": lambda T, d, s: T.mm(d, s), "Tensor.mm": lambda T, d, s: d.mm(s),
          "Tensor.matmul": lambda T, d, s: d.matmul(s)}[form]
    lo, to = fn(lamina, ld, ls_), fn(torch, td, ts)
    assert_close(lo, to, MM_TOL[dtype])
    lo.pow(2).sum().backward()
    to.pow(2).sum().backward()
    assert_close(ld.grad, td.grad, MM_TOL[dtype])
    assert_close(ls_.grad, ts.grad, MM_TOL[dtype])


@pytest.mark.parametrize("form", ["mm", "matmul", "addmm"])
def test_core_products_reach_the_values(form):
    rng = np.random.default_rng(4)
    idx = np.array([[0, 1, 1, 3], [2, 0, 2, 1]])
    v = rng.standard_normal(4)
    lv, tv = lamina.as_tensor(v.copy()).requires_grad_(), torch.from_numpy(v.copy()).requires_grad_()
    ls_ = lamina.sparse_coo_tensor(lamina.as_tensor(idx), lv * 2, (4, 3))
    ts = torch.sparse_coo_tensor(torch.from_numpy(idx), tv * 2, (4, 3))
    ld, td = _dense(rng, (3, 2), "float64")
    FORMS[form](lamina, ls_, ld).pow(2).sum().backward()
    FORMS[form](torch, ts, td).pow(2).sum().backward()
    assert_close(lv.grad, tv.grad, MM_TOL["float64"])
    assert_close(ld.grad, td.grad, MM_TOL["float64"])


def test_core_products_gradcheck():
    from lamina.testing import gradcheck

    idx = lamina.as_tensor(np.array([[0, 1, 1, 2], [1, 0, 2, 2]]))
    rng = np.random.default_rng(5)
    v = lamina.as_tensor(rng.standard_normal(4)).requires_grad_()
    d = lamina.as_tensor(rng.standard_normal((3, 2))).requires_grad_()
    m = lamina.as_tensor(rng.standard_normal((3, 2))).requires_grad_()
    assert gradcheck(lambda v, d: lamina.mm(lamina.sparse_coo_tensor(idx, v, (3, 3)), d), (v, d))
    assert gradcheck(lambda v, d: lamina.matmul(lamina.sparse_coo_tensor(idx, v, (3, 3)), d), (v, d))
    assert gradcheck(lambda m, v, d: lamina.addmm(m, lamina.sparse_coo_tensor(idx, v, (3, 3)), d, beta=0.3,
                                                  alpha=-2), (m, v, d))


def test_sparse_sparse_and_vector_forms():
    lt, tt = pair([[0, 1, 1], [2, 0, 2]], [1.0, 2.0, 3.0], (2, 3))
    out_l, out_t = lamina.mm(lt, lt.t()), torch.mm(tt, tt.t())
    assert out_l.is_sparse and out_t.is_sparse
    assert_close(out_l.to_dense(), out_t.to_dense())
    x = np.arange(3.0, dtype=np.float32)
    assert_close(lamina.matmul(lt, lamina.as_tensor(x)), torch.matmul(tt, torch.from_numpy(x)))
    y = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    assert_close(lamina.as_tensor(y).t().mm(lt.t()), torch.from_numpy(y).t().mm(tt.t()))


def test_errors_match_torch():
    lt, tt = pair([[0, 1, 1], [2, 0, 2]], [1.0, 2.0, 3.0], (2, 3))
    cases = [
        (lambda T, s: T.mm(s, T.ones(4, 2)), RuntimeError, "Expected dim 0 size 3, got 4"),
        (lambda T, s: T.mm(s, T.ones(3, 2, dtype=T.float64)), RuntimeError,
         "expected scalar type Float but found Double"),
        (lambda T, s: T.addmm(s, s, T.ones(3, 2)), RuntimeError, "expand is unsupported for Sparse tensors"),
        (lambda T, s: T.addmm(T.ones(2, 2), s, s.t()), RuntimeError,
         "expected either 'mat1' to have sparse layout and 'mat2' to have strided layout, got 'mat1' with layout "
         "Sparse and 'mat2' with layout Sparse"),
        (lambda T, s: T.addmm(T.ones(3), T.ones(3, 2), s), RuntimeError,
         "got 'mat1' with layout Strided and 'mat2' with layout Sparse"),
    ]
    for fn, err, match in cases:
        for T, s in ((torch, tt), (lamina, lt)):
            with pytest.raises(err, match=match):
                fn(T, s)


def test_dense_calls_are_untouched():
    a = lamina.as_tensor(np.arange(6.0).reshape(2, 3))
    assert lamina.mm(a, a.t()).tolist() == [[5.0, 14.0], [14.0, 50.0]]
    from lamina.ops.layouts import layout_hook

    assert layout_hook(a, a.t()) is None
    s = lamina.sparse_coo_tensor([[0], [1]], [1.0], (2, 3))
    assert layout_hook(a, s) is not None
