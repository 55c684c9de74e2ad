"""Factories (tensor, zeros, arange, randn, ...), dtypes and type promotion, against PyTorch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _oracle import assert_close, dtype_name

torch = pytest.importorskip("torch")

DATA = [1, 2.5, True, [1, 2], [1.0, 2], [[1, 2], [3, 4]], [True, False], [], [[]], 3.0, [1, 2.0, True]]


@pytest.mark.parametrize("data", DATA, ids=repr)
def test_tensor_infers_dtype_and_shape_like_torch(data):
    assert_close(lamina.tensor(data), torch.tensor(data))


@pytest.mark.parametrize("dt", ["float16", "float32", "float64", "int64", "int32", "bool", "uint8", "int8"])
def test_tensor_with_dtype(dt):
    data = [[0, 1], [2, 3]]
    assert_close(lamina.tensor(data, dtype=getattr(lamina, dt)), torch.tensor(data, dtype=getattr(torch, dt)))


@pytest.mark.parametrize("np_dtype", [np.float32, np.float64, np.int64, np.int32, np.bool_, np.float16])
def test_from_numpy_shares_memory_and_keeps_dtype(np_dtype):
    a = np.arange(6).reshape(2, 3).astype(np_dtype)
    t = lamina.from_numpy(a)
    assert_close(t, torch.from_numpy(a))
    if np_dtype is not np.bool_:
        a[0, 0] = 5
        assert t[0, 0].item() == 5
    with pytest.raises(TypeError, match="expected np.ndarray"):
        lamina.from_numpy([1, 2])


def test_tensor_copies_as_tensor_shares():
    a = np.ones(3, dtype=np.float32)
    t, s = lamina.tensor(a), lamina.as_tensor(a)
    a[0] = 7
    assert t[0].item() == 1 and s[0].item() == 7
    assert lamina.as_tensor(t) is t
    assert lamina.as_tensor(t, dtype=lamina.float64).dtype is lamina.float64
    assert lamina.tensor(t).dtype is lamina.float32


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
@pytest.mark.parametrize("size", [(2, 3), ((2, 3),), ([4],), (0,), ((),)], ids=repr)
def test_fill_factories(name, size):
    lt, tt = getattr(lamina, name)(*size), getattr(torch, name)(*size)
    assert dtype_name(lt.dtype) == dtype_name(tt.dtype) and tuple(lt.shape) == tuple(tt.shape)
    if name != "empty":
        assert_close(lt, tt)
    lt = getattr(lamina, name)(*size, dtype=lamina.int32, requires_grad=False)
    assert lt.dtype is lamina.int32
    like = getattr(lamina, name + "_like")(lamina.zeros(2, 2, dtype=lamina.float64))
    assert like.dtype is lamina.float64 and like.shape == (2, 2)


@pytest.mark.parametrize("fill", [1.5, 2, True])
def test_full_infers_dtype_from_the_fill_value(fill):
    assert_close(lamina.full((2, 3), fill), torch.full((2, 3), fill))
    assert_close(lamina.full_like(lamina.zeros(2), fill), torch.full_like(torch.zeros(2), fill))


@pytest.mark.parametrize("args, kwargs", [((5,), {}), ((2, 7), {}), ((1, 10, 3), {}), ((0, 1, 0.1), {}),
                                          ((5,), {"dtype": "float64"}), ((-1.5, 2.5, 0.5), {}), ((10, 0, -3), {}),
                                          ((0.0, 1.0, 0.3), {}), ((3.0,), {})], ids=repr)
def test_arange(args, kwargs):
    lk = {k: getattr(lamina, v) for k, v in kwargs.items()}
    tk = {k: getattr(torch, v) for k, v in kwargs.items()}
    assert_close(lamina.arange(*args, **lk), torch.arange(*args, **tk))


@pytest.mark.parametrize("args", [(0, 1, 5), (-2, 2, 1), (3, -1, 7), (0, 1, 0)], ids=repr)
def test_linspace_and_eye(args):
    assert_close(lamina.linspace(*args), torch.linspace(*args))
    assert_close(lamina.eye(3), torch.eye(3))
    assert_close(lamina.eye(2, 4, dtype=lamina.int64), torch.eye(2, 4, dtype=torch.int64))


def test_requires_grad_factory_argument():
    assert lamina.zeros(2, requires_grad=True).requires_grad
    assert lamina.tensor([1.0], requires_grad=True).is_leaf
    with pytest.raises(RuntimeError, match="floating point"):
        lamina.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize("fn", [
    lambda g: lamina.rand(3, 4), lambda g: lamina.randn(5), lambda g: lamina.randint(0, 10, (6,)),
    lambda g: lamina.randint(4, (3,)), lambda g: lamina.randperm(8), lambda g: lamina.rand_like(lamina.zeros(3)),
    lambda g: lamina.randn_like(lamina.zeros(2, 2, dtype=lamina.float64)),
    lambda g: lamina.randint_like(lamina.zeros(3), 0, 5), lambda g: lamina.randn(4, generator=g),
], ids=["rand", "randn", "randint", "randint_high", "randperm", "rand_like", "randn_like", "randint_like", "gen"])
def test_random_factories_are_reproducible(fn):
    g = lamina.Generator().manual_seed(3)
    lamina.manual_seed(123)
    a = fn(g)
    g.manual_seed(3)
    lamina.manual_seed(123)
    b = fn(g)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    c = fn(g)
    assert not np.array_equal(a.numpy(), c.numpy())


def test_random_factories_dtypes_and_ranges():
    lamina.manual_seed(0)
    assert lamina.rand(2).dtype is lamina.float32 and lamina.randn(2, dtype=lamina.float64).dtype is lamina.float64
    assert lamina.randint(0, 3, (100,)).dtype is lamina.int64
    r = lamina.rand(10000)
    assert 0 <= r.min().item() and r.max().item() < 1 and abs(r.mean().item() - 0.5) < 0.02
    n = lamina.randn(10000)
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1) < 0.05
    i = lamina.randint(-2, 3, (1000,))
    assert set(i.tolist()) == {-2, -1, 0, 1, 2}
    assert sorted(lamina.randperm(10).tolist()) == list(range(10))
    assert lamina.randn(2, 3).shape == lamina.Size([2, 3])
    with pytest.raises(TypeError):
        lamina.rand(2, dtype=lamina.int64)


def test_generator_isolated_from_global_state():
    lamina.manual_seed(0)
    a = lamina.rand(3)
    lamina.manual_seed(0)
    lamina.rand(3, generator=lamina.Generator().manual_seed(9))
    b = lamina.rand(3)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    state = lamina.get_rng_state()
    c = lamina.rand(2)
    lamina.set_rng_state(state)
    np.testing.assert_array_equal(c.numpy(), lamina.rand(2).numpy())


# --- dtypes and promotion ------------------------------------------------------------------------

def test_default_dtype_and_set_default_dtype():
    assert lamina.get_default_dtype() is lamina.float32
    assert lamina.tensor([1.0]).dtype is lamina.float32 and lamina.zeros(1).dtype is lamina.float32
    lamina.set_default_dtype(lamina.float64)
    assert lamina.tensor([1.0]).dtype is lamina.float64 and lamina.ones(1).dtype is lamina.float64
    assert lamina.arange(0, 1, 0.5).dtype is lamina.float64 and lamina.rand(1).dtype is lamina.float64
    assert (lamina.tensor([1, 2]) / 2).dtype is lamina.float64
    assert lamina.tensor([1]).dtype is lamina.int64
    with pytest.raises(TypeError):
        lamina.set_default_dtype(lamina.int64)


def test_dtype_objects():
    assert repr(lamina.float32) == "lamina.float32" and lamina.float is lamina.float32
    assert lamina.double is lamina.float64 and lamina.long is lamina.int64 and lamina.half is lamina.float16
    assert lamina.float32.is_floating_point and not lamina.int64.is_floating_point
    assert lamina.bool.itemsize == 1


DT = ["float16", "float32", "float64", "int64", "int32", "uint8", "bool"]
SCALARS = [2, 2.5, True, np.float64(2.5), np.float32(2.5), np.int64(3)]


def _pair(dt, shape, m):
    return m.ones(shape, dtype=getattr(m, dt))


_TT = [(a, b, d, op) for op in ("add", "mul", "div", "sub", "maximum") for d in (1, 0) for a in DT for b in DT]
_TT_BOOL_SUB = [c for c in _TT if c[3] == "sub" and "bool" in c[:2]]  # torch forbids bool subtraction
_SCALAR_FNS = {"add": lambda x, s: x + s, "mul": lambda x, s: x * s, "div": lambda x, s: x / s,
               "pow": lambda x, s: x ** s, "rsub": lambda x, s: s - x, "rdiv": lambda x, s: s / x}
_TS = [(a, s, op) for op in _SCALAR_FNS for s in SCALARS for a in DT]
_TS_BOOL_SUB = [c for c in _TS if c[2] == "rsub" and (c[0] == "bool" or isinstance(c[1], (bool, np.bool_)))]


def _tt(cases):
    return [pytest.param(*c, id=f"{c[3]}-{c[0]}-{c[1]}-{'1d' if c[2] else '0d'}") for c in cases]


def _ts(cases):
    return [pytest.param(*c, id=f"{c[2]}-{c[0]}-{c[1]!r}") for c in cases]


@pytest.mark.parametrize(("a", "b", "b_dim", "op"), _tt(c for c in _TT if c not in _TT_BOOL_SUB))
def test_tensor_tensor_promotion(a, b, b_dim, op):
    shape_b = (2,) if b_dim else ()
    lr = getattr(lamina, op)(_pair(a, (2,), lamina), _pair(b, shape_b, lamina))
    tr = getattr(torch, op)(_pair(a, (2,), torch), _pair(b, shape_b, torch))
    assert dtype_name(lr.dtype) == dtype_name(tr.dtype)


@pytest.mark.parametrize(("a", "b", "b_dim", "op"), _tt(_TT_BOOL_SUB))
def test_bool_tensor_subtraction_is_refused_like_torch(a, b, b_dim, op):
    shape_b = (2,) if b_dim else ()
    with pytest.raises(RuntimeError):
        torch.sub(_pair(a, (2,), torch), _pair(b, shape_b, torch))
    with pytest.raises((TypeError, RuntimeError)):
        lamina.sub(_pair(a, (2,), lamina), _pair(b, shape_b, lamina))


@pytest.mark.parametrize(("a", "scalar", "op"), _ts(c for c in _TS if c not in _TS_BOOL_SUB))
def test_tensor_scalar_promotion(a, scalar, op):
    lr = _SCALAR_FNS[op](_pair(a, (2,), lamina), scalar)
    tr = _SCALAR_FNS[op](_pair(a, (2,), torch), scalar)
    assert dtype_name(lr.dtype) == dtype_name(tr.dtype), f"{a} {op} {scalar!r}: {lr.dtype} vs {tr.dtype}"


@pytest.mark.parametrize(("a", "scalar", "op"), _ts(_TS_BOOL_SUB))
def test_bool_scalar_subtraction_is_refused_like_torch(a, scalar, op):
    with pytest.raises(RuntimeError):
        _SCALAR_FNS[op](_pair(a, (2,), torch), scalar)
    with pytest.raises((TypeError, RuntimeError)):
        _SCALAR_FNS[op](_pair(a, (2,), lamina), scalar)


def test_python_and_numpy_float_scalars_never_upcast_float32():
    x = lamina.ones(3)
    for s in (2.5, np.float64(2.5), 1e300 / 1e299):
        for y in (x + s, s * x, x / s, s - x, x ** s, lamina.maximum(x, lamina.tensor(s, dtype=lamina.float64))):
            assert y.dtype is lamina.float32, (s, y.dtype)
    assert (lamina.tensor([1, 2]) / 3).dtype is lamina.float32
    assert (lamina.tensor([1, 2]) * 1.5).dtype is lamina.float32
    assert (lamina.tensor([1, 2]) + 1).dtype is lamina.int64
    assert (lamina.tensor([1, 2], dtype=lamina.int32) + 1).dtype is lamina.int32


@pytest.mark.parametrize("method, dt", [("float", "float32"), ("double", "float64"), ("half", "float16"),
                                        ("long", "int64"), ("int", "int32"), ("bool", "bool"),
                                        ("short", "int16"), ("byte", "uint8")])
def test_cast_methods(method, dt):
    lt = getattr(lamina.tensor([0.0, 1.7, -2.2]), method)()
    tt = getattr(torch.tensor([0.0, 1.7, -2.2]), method)()
    assert_close(lt, tt)
    assert lamina.tensor([1.0]).to(getattr(lamina, dt)).dtype is getattr(lamina, dt)
