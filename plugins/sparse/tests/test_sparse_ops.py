"""Elementwise ops and reductions on sparse COO tensors against torch: which keep the layout, the
coalesced flag and entry order they give (torch's merge for sparse + sparse), sum with dims, softmax and
log_softmax over the stored pattern, and their gradients."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _helpers import TOL, assert_close, assert_same_sparse, pair, random_pair

torch = pytest.importorskip("torch")

IDX = [[0, 1, 1, 0], [2, 0, 2, 2]]
VALS = [1.0, -2.0, 3.0, 0.5]

LINEAR = ["neg", "positive"]
COALESCING = ["abs", "sqrt", "sin", "tan", "tanh", "asin", "atan", "sinh", "asinh", "atanh", "expm1", "log1p",
              "relu", "sign", "sgn", "square", "floor", "ceil", "round", "trunc", "frac", "deg2rad", "rad2deg",
              "nan_to_num", "signbit", "isnan", "isinf"]


@pytest.mark.filterwarnings("ignore:invalid value encountered")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", LINEAR + COALESCING)
def test_unary_keeps_sparsity(name, dtype):
    vals = [0.1, -0.2, 0.3, 0.05]
    lt, tt = pair(IDX, vals, (2, 3), dtype=dtype)
    lo, to = getattr(lt, name)(), getattr(tt, name)()
    assert_same_sparse(lo, to, TOL[dtype])


def test_unary_operators_and_pow():
    lt, tt = pair(IDX, VALS, (2, 3))
    assert_same_sparse(-lt, -tt)
    assert_same_sparse(abs(lt), abs(tt))
    assert_same_sparse(lt.pow(2), tt.pow(2))
    assert_same_sparse(lt ** 3, tt ** 3)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_mul_div(dtype):
    lt, tt = pair(IDX, VALS, (2, 3), dtype=dtype)
    for lo, to in [(lt * 2, tt * 2), (2.5 * lt, 2.5 * tt), (lt.mul(3), tt.mul(3)), (lt / 4, tt / 4),
                   (lt.div(2), tt.div(2)), (lt * lamina.tensor(2.0), tt * torch.tensor(2.0))]:
        assert_same_sparse(lo, to, TOL[dtype])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_add_sub_sparse_merge_order(dtype):
    other = ([[1, 0], [1, 2]], [10.0, 20.0])
    for coalesce in (False, True):
        lt, tt = pair(IDX, VALS, (2, 3), dtype=dtype)
        lu, tu = pair(*other, (2, 3), dtype=dtype)
        if coalesce:
            lt, tt, lu, tu = lt.coalesce(), tt.coalesce(), lu.coalesce(), tu.coalesce()
        for lo, to in [(lt + lu, tt + tu), (lt - lu, tt - tu), (lt.add(lu, alpha=2), tt.add(tu, alpha=2)),
                       (lt + lt, tt + tt), (lt.sub(lu, alpha=0.5), tt.sub(tu, alpha=0.5))]:
            assert_same_sparse(lo, to, TOL[dtype])
            assert_close(lo.to_dense(), to.to_dense(), TOL[dtype])


def test_add_random_against_torch():
    rng = np.random.default_rng(20)
    for _ in range(5):
        la, ta = random_pair(rng, (4, 5), 7)
        lb, tb = random_pair(rng, (4, 5), 6)
        assert_same_sparse(la + lb, ta + tb, TOL["float32"])
        assert_same_sparse(la.coalesce() + lb.coalesce(), ta.coalesce() + tb.coalesce(), TOL["float32"])


def test_dense_plus_sparse_and_errors():
    rng = np.random.default_rng(21)
    d = rng.standard_normal((2, 3)).astype("float32")
    lt, tt = pair(IDX, VALS, (2, 3))
    ld, td = lamina.as_tensor(d.copy()), torch.from_numpy(d.copy())
    assert_close(ld + lt, td + tt, TOL["float32"])
    assert_close(ld - lt, td - tt, TOL["float32"])
    for call in (lambda m, s, x: s + x, lambda m, s, x: s + m.sparse_coo_tensor([[0], [0]], [1.0], (3, 3))):
        with pytest.raises(RuntimeError) as te:
            call(torch, tt, td)
        with pytest.raises(RuntimeError) as le:
            call(lamina, lt, ld)
        assert str(le.value) == str(te.value)


def test_mul_dense_and_sparse():
    rng = np.random.default_rng(22)
    d = rng.standard_normal((2, 3)).astype("float32")
    lt, tt = pair(IDX, VALS, (2, 3))
    ld, td = lamina.as_tensor(d.copy()), torch.from_numpy(d.copy())
    assert_same_sparse(lt * ld, tt * td, TOL["float32"])
    assert_same_sparse(ld * lt, td * tt, TOL["float32"])
    lu, tu = pair([[1, 0], [1, 2]], [10.0, 20.0], (2, 3))
    la, ta = lt.coalesce(), tt.coalesce()
    assert_same_sparse(la * lu.coalesce(), ta * tu.coalesce(), TOL["float32"])
    # uncoalesced operands: torch's pattern may differ, the values do not
    assert_close((lt * lu).to_dense(), (tt * tu).to_dense(), TOL["float32"])


def test_elementwise_gradients():
    v = np.array([1.0, -2.0, 3.0, 0.5])
    grads = []
    for m in (lamina, torch):
        vals = m.tensor(v.copy(), requires_grad=True)
        s = m.sparse_coo_tensor(m.tensor(IDX), vals, (2, 3))
        u = m.sparse_coo_tensor(m.tensor([[1, 0], [1, 2]]), m.tensor([10.0, 20.0], dtype=m.float64), (2, 3))
        w = m.tensor(np.arange(6.0).reshape(2, 3))
        out = ((s * 3 - u).abs() + s.pow(2)).to_dense() * w
        out.sum().backward()
        grads.append(vals.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sum(dtype):
    rng = np.random.default_rng(23)
    for shape, dense in [((4, 5), ()), ((3, 4, 2), ()), ((4, 3), (2,))]:
        lt, tt = random_pair(rng, shape, 9, dtype=dtype, dense=dense)
        assert_close(lamina.sparse.sum(lt), torch.sparse.sum(tt), TOL[dtype])
        assert_close(lt.sum(), tt.sum(), TOL[dtype])
        nd = len(shape) + len(dense)
        dims = [d for d in range(nd)] + [(0, 1), -1, (0, nd - 1)]
        for dim in dims:
            lo, to = lamina.sparse.sum(lt, dim), torch.sparse.sum(tt, dim)
            if to.is_sparse:
                assert_same_sparse(lo, to, TOL[dtype])
            else:
                assert_close(lo, to, TOL[dtype])
    lt, tt = pair([[0, 1]], [1, 2], (3,))
    assert_close(lamina.sparse.sum(lt), torch.sparse.sum(tt))
    assert_close(lamina.sparse.sum(lt, dtype=lamina.float64), torch.sparse.sum(tt, dtype=torch.float64))
    with pytest.raises(IndexError) as te:
        torch.sparse.sum(tt, dim=5)
    with pytest.raises(IndexError) as le:
        lamina.sparse.sum(lt, dim=5)
    assert str(le.value) == str(te.value)


def test_sum_gradient_to_leaf():
    lt, tt = pair(IDX, VALS, (2, 3), dtype="float64", requires_grad=True)
    (lamina.sparse.sum(lt, 1).to_dense() * lamina.tensor([1.0, 2.0], dtype=lamina.float64)).sum().backward()
    (torch.sparse.sum(tt, 1).to_dense() * torch.tensor([1.0, 2.0], dtype=torch.float64)).sum().backward()
    assert_same_sparse(lt.grad, tt.grad, coalesced=False)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_over_pattern(fn, dtype):
    rng = np.random.default_rng(24)
    for shape, dense in [((4, 5), ()), ((3, 4, 2), ()), ((4, 3), (2,))]:
        lt, tt = random_pair(rng, shape, 10, dtype=dtype, dense=dense)
        for dim in range(len(shape) + len(dense)):
            lo = getattr(lamina.sparse, fn)(lt, dim)
            to = getattr(torch.sparse, fn)(tt, dim)
            assert_same_sparse(lo, to, TOL[dtype])
        lo = getattr(lamina.sparse, fn)(lt, -1, dtype=lamina.float64)
        to = getattr(torch.sparse, fn)(tt, -1, dtype=torch.float64)
        assert_same_sparse(lo, to, TOL["float64"])


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_gradients_and_errors(fn):
    rng = np.random.default_rng(25)
    lt, tt = random_pair(rng, (4, 5), 10, dtype="float64", requires_grad=True)
    w = rng.standard_normal((4, 5))
    (getattr(lamina.sparse, fn)(lt, 1).to_dense() * lamina.as_tensor(w)).sum().backward()
    (getattr(torch.sparse, fn)(tt, 1).to_dense() * torch.from_numpy(w)).sum().backward()
    assert_same_sparse(lt.grad, tt.grad, TOL["float64"], coalesced=False)
    idx = lamina.as_tensor(np.array([[0, 1, 1, 2], [2, 0, 2, 1]]))
    v = lamina.as_tensor(rng.standard_normal(4)).requires_grad_()
    assert lamina.testing.gradcheck(
        lambda v: getattr(lamina.sparse, fn)(lamina.sparse_coo_tensor(idx, v, (3, 3)), 0).to_dense(), (v,))
    li, ti = pair([[0, 1]], [1, 2], (3,), dtype="int64")
    for args in ((0,), (1,)):
        with pytest.raises(Exception) as te:
            getattr(torch.sparse, fn)(ti, *args)
        with pytest.raises(type(te.value)) as le:
            getattr(lamina.sparse, fn)(li, *args)
        assert str(le.value) == str(te.value)
