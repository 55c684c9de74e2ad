"""torch's legacy tensor types and autograd.Variable, against torch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

NAMES = ["DoubleTensor", "FloatTensor", "HalfTensor", "BFloat16Tensor", "ByteTensor", "CharTensor", "ShortTensor",
         "IntTensor", "LongTensor", "BoolTensor"]


def _same(lt, tt):
    assert str(lt.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]
    assert tuple(lt.shape) == tuple(tt.shape)
    np.testing.assert_array_equal(lt.float().numpy(), tt.float().numpy())


@pytest.mark.parametrize("name", NAMES)
def test_constructors_match_torch(name):
    for args in ([[1.7, 2.0, -3.2]], [], [(2.5, 1.0)], [[300.0]]):
        try:
            expected = getattr(torch, name)(*args)
        except RuntimeError as e:
            with pytest.raises(RuntimeError, match=str(e)):
                getattr(lamina, name)(*args)
            continue
        _same(getattr(lamina, name)(*args), expected)
    for sizes in ((2, 3), (lamina.Size([4]),)):
        lt = getattr(lamina, name)(*sizes)
        tt = getattr(torch, name)(*[torch.Size(s) if isinstance(s, lamina.Size) else s for s in sizes])
        assert tuple(lt.shape) == tuple(tt.shape) and str(lt.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1]


@pytest.mark.parametrize("name", NAMES)
def test_isinstance_and_type_conversion(name):
    for m in (lamina, torch):
        x = m.ones(2)
        cls = getattr(m, name)
        assert isinstance(x.to(cls.dtype), cls)
        assert isinstance(x, cls) == (name == "FloatTensor")
        assert x.type(cls).dtype == cls.dtype
        assert x.type(f"torch.{name}").dtype == cls.dtype


def test_errors_as_torch():
    for m in (lamina, torch):
        with pytest.raises(TypeError, match="argument 'size' failed to unpack"):
            m.FloatTensor(2, "a")
        with pytest.raises(TypeError):
            m.FloatTensor(m.ones(2, dtype=m.int64))
    with pytest.raises(ValueError, match="invalid type: 'torch.Foo'"):
        lamina.ones(2).type("torch.Foo")


def test_variable_is_a_tensor():
    for m in (lamina, torch):
        base = m.ones(3)
        v = m.autograd.Variable(base, requires_grad=True)
        assert type(v) is type(base) and v.requires_grad and v.is_leaf
        assert isinstance(m.zeros(1), m.autograd.Variable)
        (v * 2).sum().backward()
        assert v.grad.tolist() == [2.0, 2.0, 2.0]
