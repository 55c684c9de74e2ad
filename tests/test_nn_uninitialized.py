"""nn.UninitializedParameter / nn.UninitializedBuffer and nn.parameter.is_lazy (core) against PyTorch: repr,
the shape error, materialize (same object, dtype/device, requires_grad), registration on a Module, casts that keep
them uninitialized, state_dict entries, copies."""

from __future__ import annotations

import copy
import pickle

import lamina
import lamina.nn as nn
import pytest
from lamina.nn.parameter import is_lazy


def test_parameter_repr_shape_and_materialize_match_torch():
    torch = pytest.importorskip("torch")
    p, t = nn.UninitializedParameter(), torch.nn.UninitializedParameter()
    assert repr(p) == repr(t) == "<UninitializedParameter>"
    assert is_lazy(p) and torch.nn.parameter.is_lazy(t) and p.requires_grad == t.requires_grad
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        _ = t.shape
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter or buffer"):
        _ = p.shape
    obj = p
    p.materialize((2, 3))
    t.materialize((2, 3))
    assert p is obj and type(p) is nn.Parameter and type(t) is torch.nn.Parameter
    assert tuple(p.shape) == tuple(t.shape) == (2, 3) and p.requires_grad and not is_lazy(p)
    q = nn.UninitializedParameter(requires_grad=False, dtype=lamina.float64)
    q.materialize(4)
    assert q.dtype is lamina.float64 and not q.requires_grad and tuple(q.shape) == (4,)


def test_buffer_repr_and_materialize():
    torch = pytest.importorskip("torch")
    b, t = nn.UninitializedBuffer(persistent=False), torch.nn.UninitializedBuffer(persistent=False)
    assert repr(b) == repr(t) == "<UninitializedBuffer>" and is_lazy(b) and b.persistent is t.persistent is False
    b.materialize((3,), dtype=lamina.float64)
    assert not is_lazy(b) and isinstance(b, lamina.Tensor) and b.dtype is lamina.float64 and tuple(b.shape) == (3,)


def test_module_keeps_them_uninitialized_through_casts_and_state_dict():
    m = nn.Module()
    m.w = nn.UninitializedParameter()
    m.b = nn.UninitializedBuffer()
    m.hidden = nn.UninitializedBuffer(persistent=False)
    assert [n for n, _ in m.named_parameters()] == ["w"] and [n for n, _ in m.named_buffers()] == ["b", "hidden"]
    m.double()
    assert is_lazy(m.w) and is_lazy(m.b) and m.w.dtype is m.b.dtype is lamina.float64
    assert list(m.state_dict()) == ["w", "b"]


def test_copies_keep_the_kind_dtype_and_persistence():
    p = nn.UninitializedParameter(dtype=lamina.float64)
    b = nn.UninitializedBuffer(persistent=False)
    for q in (copy.deepcopy(p), pickle.loads(pickle.dumps(p))):
        assert type(q) is nn.UninitializedParameter and q is not p and q.dtype is lamina.float64
    for c in (copy.deepcopy(b), pickle.loads(pickle.dumps(b))):
        assert type(c) is nn.UninitializedBuffer and c.persistent is False


def test_share_memory_raises_as_torch():
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter or buffer"):
        torch.nn.UninitializedParameter().share_memory_()
    with pytest.raises(RuntimeError, match="Can't share memory on an uninitialized parameter or buffer"):
        nn.UninitializedParameter().share_memory_()


def test_is_lazy_is_false_for_ordinary_tensors():
    assert not is_lazy(nn.Parameter(lamina.zeros(2))) and not is_lazy(lamina.zeros(2)) and not is_lazy(None)
