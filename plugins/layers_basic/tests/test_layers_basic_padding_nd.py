"""The 1-d and 3-d padding layers and the circular ones (ReflectionPad1d/3d, ReplicationPad1d/3d, ZeroPad1d/3d,
ConstantPad3d, CircularPad1d/2d/3d) against PyTorch: values, gradients, repr, state_dict, errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare
from lamina.errors import ShapeError
from lamina.testing import gradcheck

CASES = [
    ("ReflectionPad1d", (2,), (2, 3, 5)), ("ReflectionPad1d", ((1, 3),), (3, 5)),
    ("ReflectionPad3d", (1,), (1, 2, 3, 4, 5)), ("ReflectionPad3d", ((1, 0, 2, 1, 0, 2),), (2, 3, 4, 5)),
    ("ReplicationPad1d", ((3, 1),), (2, 3, 4)), ("ReplicationPad3d", (2,), (1, 2, 3, 2, 4)),
    ("ReplicationPad3d", ((0, 1, 2, 0, 1, 3),), (2, 3, 2, 4)),
    ("ZeroPad1d", ((2, -1),), (2, 3, 4)), ("ZeroPad3d", (1,), (1, 2, 3, 2, 4)),
    ("ConstantPad3d", ((1, 0, 2, 1, 0, 2), -2.5), (2, 2, 3, 2)), ("ConstantPad3d", (1, 3.0), (1, 2, 2, 2, 2)),
    ("CircularPad1d", ((2, 3),), (2, 3, 4)), ("CircularPad1d", (1,), (3, 4)),
    ("CircularPad2d", ((1, 2, 3, 0),), (2, 3, 4, 5)), ("CircularPad2d", ((-1, 2, 1, -2),), (2, 3, 4, 5)),
    ("CircularPad3d", (1,), (1, 2, 3, 4, 5)), ("CircularPad3d", ((1, 0, 2, 1, 0, 2),), (2, 3, 4, 5)),
]


@pytest.mark.parametrize("name, args, shape", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_matches_torch(name, args, shape, dtype):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(len(shape))
    lmod, tmod = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(lmod) == repr(tmod)
    assert list(lmod.state_dict()) == list(tmod.state_dict()) == []
    x = rng.standard_normal(shape).astype(dtype)
    compare(tmod, lmod, [x], rng, tol=F32 if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12))


@pytest.mark.parametrize("name, args, shape", CASES[::3])
def test_gradcheck(name, args, shape):
    x = lamina.tensor(np.random.default_rng(3).standard_normal(shape), requires_grad=True)
    assert gradcheck(getattr(nn, name)(*args), (x,))


def test_integer_input_and_empty_batch_match_torch():
    torch = pytest.importorskip("torch")
    x = np.arange(24).reshape(2, 3, 4)
    for name in ("CircularPad1d", "ReplicationPad1d", "ReflectionPad1d", "ZeroPad1d"):
        y = getattr(nn, name)(2)(lamina.tensor(x))
        t = getattr(torch.nn, name)(2)(torch.tensor(x))
        assert y.dtype == lamina.int64
        np.testing.assert_array_equal(y.numpy(), t.numpy())
    e = nn.ReplicationPad3d(1)(lamina.zeros(0, 2, 2, 2, 2))
    assert tuple(e.shape) == tuple(torch.nn.ReplicationPad3d(1)(torch.zeros(0, 2, 2, 2, 2)).shape)


@pytest.mark.parametrize("name, bad_shape, etype", [
    ("ReflectionPad1d", (2, 3, 4, 5), NotImplementedError),
    ("ReplicationPad3d", (2, 3, 4, 5, 6, 7), NotImplementedError),
    ("CircularPad2d", (5,), ValueError), ("CircularPad1d", (2, 3, 4, 5), ValueError)])
def test_wrong_rank_raises_as_torch(name, bad_shape, etype):
    torch = pytest.importorskip("torch")
    with pytest.raises(etype):
        getattr(torch.nn, name)(1)(torch.zeros(bad_shape))
    with pytest.raises(etype, match=name if etype is ValueError else "padding"):
        getattr(nn, name)(1)(lamina.zeros(bad_shape))


@pytest.mark.parametrize("name, shape", [("ZeroPad3d", (3, 4, 5)), ("ZeroPad1d", (5,)), ("ZeroPad1d", (1, 2, 3, 4))])
def test_constant_pads_take_any_rank_as_torch(name, shape):
    torch = pytest.importorskip("torch")
    assert tuple(getattr(nn, name)(1)(lamina.zeros(shape)).shape) == \
        tuple(getattr(torch.nn, name)(1)(torch.zeros(shape)).shape)


def test_reflect_pad_too_large_raises():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError):
        torch.nn.ReflectionPad1d(4)(torch.zeros(1, 2, 4))
    with pytest.raises(ShapeError, match="reflect padding expects each pad to be less than the input size"):
        nn.ReflectionPad1d(4)(lamina.zeros(1, 2, 4))


def test_padding_argument_length_checked():
    with pytest.raises(ValueError, match="padding"):
        nn.ReflectionPad3d((1, 2))
