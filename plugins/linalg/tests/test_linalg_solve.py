"""inv, inv_ex, solve, solve_ex, solve_triangular, tensorinv, tensorsolve, det, slogdet vs torch.linalg:
values, dtypes, gradients (float32, float64), batches incl. empty ones, non-contiguous inputs, errors,
and float64 gradcheck / gradgradcheck."""

from __future__ import annotations

import lamina
import lamina.linalg as LA
import numpy as np
import pytest
from _linalg_helpers import parity, rng, tensors64, torch, well
from lamina.testing import gradcheck, gradgradcheck

DT = ["float32", "float64"]
SHAPES = [(3, 3), (2, 4, 4), (2, 1, 3, 3), (0, 3, 3), (2, 0, 0)]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ["inv", "det"])
def test_square_parity(name, shape, dtype):
    parity(getattr(LA, name), getattr(torch.linalg, name), [well(rng(), *shape)], dtype)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shape", SHAPES[:4])
def test_slogdet_parity(shape, dtype):
    A = well(rng(), *shape)
    A[..., 0, :] *= -1                                          # negative determinants too
    parity(lambda a: tuple(LA.slogdet(a)), lambda a: tuple(torch.linalg.slogdet(a)), [A], dtype)
    r = LA.slogdet(lamina.tensor(A))
    assert type(r).__name__ == "linalg_slogdet" and r._fields == ("sign", "logabsdet")


@pytest.mark.parametrize("dtype", DT)
def test_non_contiguous(dtype):
    A = well(rng(), 2, 4, 4).swapaxes(-1, -2)
    parity(lambda a: LA.inv(a.mT), lambda a: torch.linalg.inv(a.mT), [A], dtype)
    parity(lambda a: LA.det(a[:, ::2, ::2]), lambda a: torch.linalg.det(a[:, ::2, ::2]), [A], dtype)


_SOLVE_CASES = [(((3, 3), (3, 2)), True), (((2, 3, 3), (2, 3)), True), (((2, 3, 3), (4, 1, 3, 2)), True),
                (((3, 3), (3,)), True), (((0, 3, 3), (0, 3, 1)), True),
                # XA = B: B (*, k, n); torch takes no vector right-hand side there
                (((3, 3), (2, 3)), False), (((2, 3, 3), (4, 1, 2, 3)), False), (((0, 3, 3), (0, 1, 3)), False)]


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("shapes,left", _SOLVE_CASES)
def test_solve_parity(shapes, left, dtype):
    r = rng()
    sa, sb = shapes
    A, B = well(r, *sa), r.standard_normal(sb)
    parity(lambda a, b: LA.solve(a, b, left=left), lambda a, b: torch.linalg.solve(a, b, left=left), [A, B], dtype)
    parity(lambda a, b: tuple(LA.solve_ex(a, b, left=left)), lambda a, b: tuple(torch.linalg.solve_ex(a, b, left=left)),
           [A, B], dtype)


@pytest.mark.parametrize("dtype", DT)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [True, False])
def test_solve_triangular_parity(upper, left, unit, dtype):
    r = rng(3)
    A = well(r, 2, 3, 3)
    B = r.standard_normal((2, 3, 4) if left else (2, 4, 3))
    parity(lambda a, b: LA.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit),
           lambda a, b: torch.linalg.solve_triangular(a, b, upper=upper, left=left, unitriangular=unit), [A, B], dtype)


@pytest.mark.parametrize("dtype", DT)
def test_inv_ex_info(dtype):
    A = np.stack([np.eye(3), np.diag([1.0, 0.0, 2.0]), np.eye(3)]).astype(dtype)
    got, exp = LA.inv_ex(lamina.tensor(A)), torch.linalg.inv_ex(torch.tensor(A))
    np.testing.assert_array_equal(got.info.numpy(), exp.info.numpy())
    assert got.info.dtype == lamina.int32 and type(got).__name__ == "linalg_inv_ex"
    np.testing.assert_allclose(got.inverse.numpy()[0], exp.inverse.numpy()[0])
    s = LA.solve_ex(lamina.tensor(A), lamina.tensor(np.ones((3, 3), dtype)))
    np.testing.assert_array_equal(s.info.numpy(), torch.linalg.solve_ex(torch.tensor(A), torch.ones(3, 3, dtype=getattr(
        torch, dtype))).info.numpy())


def _singular_batch():
    z = np.stack([np.eye(2), np.diag([1.0, 0.0]), np.eye(2)])
    return z


def _torch_msg(fn, *args):
    with pytest.raises(RuntimeError) as e:
        fn(*args)
    return str(e.value)


@pytest.mark.parametrize("arrays", [[np.diag([1.0, 0.0])], [_singular_batch()]])
def test_singular_errors_match_torch(arrays):
    ours = [lamina.tensor(a) for a in arrays]
    theirs = [torch.tensor(a) for a in arrays]
    for fl, ft, extra in [(LA.inv, torch.linalg.inv, ()), (LA.solve, torch.linalg.solve, (np.ones(2),))]:
        msg = _torch_msg(ft, *theirs, *[torch.tensor(x) for x in extra])
        with pytest.raises(LA.LinAlgError) as e:
            fl(*ours, *[lamina.tensor(x) for x in extra])
        assert str(e.value) == msg
    assert issubclass(LA.LinAlgError, RuntimeError)


@pytest.mark.parametrize("fname", ["inv", "det", "slogdet", "inv_ex", "solve"])
@pytest.mark.parametrize("bad", ["non_square", "one_d", "integer"])
def test_argument_errors_match_torch(fname, bad):
    a = {"non_square": np.ones((2, 3)), "one_d": np.ones(3), "integer": np.ones((2, 2), np.int64)}[bad]
    extra = (np.ones(2),) if fname == "solve" else ()
    msg = _torch_msg(getattr(torch.linalg, fname), torch.tensor(a), *[torch.tensor(x) for x in extra])
    with pytest.raises(RuntimeError) as e:
        getattr(LA, fname)(lamina.tensor(a), *[lamina.tensor(x) for x in extra])
    assert str(e.value) == msg


def test_solve_shape_and_dtype_errors_match_torch():
    cases = [(np.eye(2), np.ones(3), {}), (np.eye(2), np.ones((2, 3)), {"left": False}),
             (np.eye(2, dtype=np.float32), np.ones(2), {})]
    for A, B, kw in cases:
        msg = _torch_msg(lambda a, b, kw=kw: torch.linalg.solve(a, b, **kw), torch.tensor(A), torch.tensor(B))
        with pytest.raises(RuntimeError) as e:
            LA.solve(lamina.tensor(A), lamina.tensor(B), **kw)
        assert str(e.value) == msg
    msg = _torch_msg(lambda a, b: torch.linalg.solve_triangular(a, b, upper=True), torch.eye(2), torch.ones(3, 2))
    with pytest.raises(RuntimeError, match="^" + msg.replace("(", r"\(").replace(")", r"\)") + "$"):
        LA.solve_triangular(lamina.eye(2), lamina.ones(3, 2), upper=True)


def test_gradcheck_and_gradgradcheck():
    r = rng(5)
    A, B = tensors64(well(r, 2, 3, 3), r.standard_normal((2, 3, 2)))
    for fn, args in [(LA.inv, (A,)), (LA.det, (A,)), (lambda a: LA.slogdet(a).logabsdet, (A,)),
                     (LA.solve, (A, B)), (lambda a, b: LA.solve(a, b.mT, left=False), (A, B)),
                     (lambda a, b: LA.solve_triangular(a, b, upper=True), (A, B)),
                     (lambda a, b: LA.solve_triangular(a, b.mT, upper=False, left=False, unitriangular=True), (A, B)),
                     (lambda a: LA.tensorinv(a.reshape(2, 9).reshape(3, 6)[:, :3].reshape(3, 3), ind=1), (A,))]:
        assert gradcheck(fn, args)
        assert gradgradcheck(fn, args)


def test_det_gradient_of_singular_matrix():
    A = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])  # rank 2: the adjugate is nonzero
    a, t = lamina.tensor(A, requires_grad=True), torch.tensor(A, requires_grad=True)
    LA.det(a).backward()
    torch.linalg.det(t).backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("dtype", DT)
def test_tensorinv_tensorsolve_parity(dtype):
    r = rng(7)
    A = well(r, 6, 6).reshape(2, 3, 6)
    parity(lambda a: LA.tensorinv(a, ind=2), lambda a: torch.linalg.tensorinv(a, ind=2), [A], dtype, scale=5)
    B = r.standard_normal((2, 3))
    parity(LA.tensorsolve, torch.linalg.tensorsolve, [A, B], dtype, scale=5)
    A2 = well(r, 6, 6).reshape(6, 2, 3)
    parity(lambda a, b: LA.tensorsolve(a, b, dims=(0,)), lambda a, b: torch.linalg.tensorsolve(a, b, dims=(0,)),
           [A2, B], dtype, scale=5)
    msg = _torch_msg(lambda a: torch.linalg.tensorinv(a, ind=1), torch.ones(4, 3))
    with pytest.raises(RuntimeError) as e:
        LA.tensorinv(lamina.ones(4, 3), ind=1)
    assert str(e.value) == msg
