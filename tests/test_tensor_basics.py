"""Tensor state and conversions: shape/size, item/tolist/numpy, to(), repr, in-place ops, setitem."""

from __future__ import annotations

import re

import lamina
import numpy as np
import pytest
from _oracle import assert_close

torch = pytest.importorskip("torch")


def test_shape_size_dim_numel():
    x = lamina.zeros(2, 3)
    assert x.shape == (2, 3) and x.shape == lamina.Size([2, 3]) and isinstance(x.shape, tuple)
    assert repr(x.size()) == "lamina.Size([2, 3])" and repr(lamina.zeros(()).shape) == "lamina.Size([])"
    assert x.size(1) == 3 and x.size(-1) == 3 and x.dim() == 2 and x.ndim == 2 and x.numel() == 6
    assert x.shape[1:] == lamina.Size([3]) and isinstance(x.shape[1:], lamina.Size) and x.shape.numel() == 6
    assert len(x) == 2 and x.nelement() == 6 and x.element_size() == 4
    with pytest.raises(TypeError, match="0-d"):
        len(lamina.tensor(1.0))


def test_item_tolist_numpy_and_python_conversions():
    x = lamina.tensor([[1.5, 2.0], [3.0, 4.0]])
    assert x.tolist() == torch.tensor([[1.5, 2.0], [3.0, 4.0]]).tolist()
    assert lamina.tensor(2.5).item() == 2.5 and isinstance(lamina.tensor(3).item(), int)
    assert lamina.tensor([7]).item() == 7 and isinstance(lamina.tensor(True).item(), bool)
    with pytest.raises(RuntimeError, match="4 elements cannot be converted to Scalar"):
        x.item()
    assert float(lamina.tensor(2.5)) == 2.5 and int(lamina.tensor(3.7)) == 3 and bool(lamina.tensor([1]))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    assert [10, 20, 30][lamina.tensor(1)] == 20
    n = x.numpy()
    n[0, 0] = 9  # shares memory
    assert x[0, 0].item() == 9
    with pytest.raises(RuntimeError, match=r"Use tensor.detach\(\).numpy\(\)"):
        lamina.ones(1, requires_grad=True).numpy()
    assert np.asarray(x).shape == (2, 2)
    assert f"{lamina.tensor(2.5):.2f}" == "2.50"


def test_to_cpu_and_casts():
    x = lamina.tensor([1.5, -2.5])
    assert x.to(lamina.float32) is x and x.cpu() is x and x.to("cpu") is x
    assert x.to(lamina.float64).dtype is lamina.float64 and x.double().dtype is lamina.float64
    assert x.to("cpu", lamina.int64).tolist() == [1, -2] and x.long().dtype is lamina.int64
    assert x.to(lamina.zeros(1, dtype=lamina.float16)).dtype is lamina.float16
    assert x.to(dtype=lamina.float64, copy=True) is not x
    y = x.to(lamina.float32, copy=True)
    y[0] = 0
    assert x[0].item() == 1.5
    assert x.type() == "lamina.FloatTensor" and x.type(lamina.int32).dtype is lamina.int32
    assert x.device == lamina.device("cpu") and x.device == "cpu" and str(x.device) == "cpu"
    assert repr(x.device) == "device(type='cpu')" and not x.is_cuda
    assert x.is_floating_point() and not x.long().is_floating_point()


def test_cast_is_differentiable():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x.double() * 3
    assert y.dtype is lamina.float64
    y.sum().backward()
    assert x.grad.dtype is lamina.float32 and x.grad.tolist() == [3.0, 3.0]


def test_cuda_is_not_available_with_a_reason():
    assert lamina.cuda.is_available() is False
    reason = lamina.cuda.unavailable_reason()
    assert "cuda" in reason and ("install" in reason or "no usable backend" in reason)
    assert lamina.cuda.device_count() == 0
    with pytest.raises(lamina.BackendUnavailableError, match="cuda"):
        lamina.zeros(1, device="cuda")


# --- repr ----------------------------------------------------------------------------------------

def _norm(s: str) -> str:
    s = s.replace("torch.", "lamina.").replace("torch", "lamina")
    return re.sub(r"(grad_fn=<\w+?)\d*>", r"\1>", s)


REPR_CASES = [
    ("ints", lambda m: m.tensor([1, -2, 300])),
    ("int_2d", lambda m: m.arange(12).reshape(3, 4)),
    ("floats", lambda m: m.tensor([1.5, -0.25, 3.125])),
    ("int_valued_floats", lambda m: m.tensor([1.0, -2.0, 30.0])),
    ("sci_small", lambda m: m.tensor([1e-5, 1.0, 2.0])),
    ("sci_large", lambda m: m.tensor([1e10, 1.0])),
    ("sci_ratio", lambda m: m.tensor([0.001, 12345.0])),
    ("int_valued_large", lambda m: m.tensor([1.0, 1e9])),
    ("nan_inf", lambda m: m.tensor([float("nan"), float("inf"), -float("inf"), 1.5])),
    ("scalar", lambda m: m.tensor(3.5)),
    ("scalar_int", lambda m: m.tensor(7)),
    ("bools", lambda m: m.tensor([True, False])),
    ("big_1d", lambda m: m.arange(2000).to(m.float32)),
    ("big_2d", lambda m: m.arange(3000).reshape(100, 30)),
    ("big_2d_float", lambda m: (m.arange(2400).reshape(40, 60) / 7)),
    ("three_d", lambda m: m.arange(24).reshape(2, 3, 4) / 4),
    ("wide", lambda m: m.arange(30) * 1.5),
    ("requires_grad", lambda m: m.tensor([1.0, 2.0], requires_grad=True)),
    ("grad_fn", lambda m: m.tensor([1.0, 2.0], requires_grad=True) * 2),
    ("grad_fn_sum", lambda m: (m.tensor([1.0, 2.0], requires_grad=True) + 1).sum()),
    ("float64", lambda m: m.tensor([1.0, 2.5], dtype=m.float64)),
    ("float64_grad", lambda m: m.tensor([1.0], dtype=m.float64, requires_grad=True)),
    ("float16", lambda m: m.tensor([1.0, 2.5], dtype=m.float16)),
    ("int32", lambda m: m.tensor([1, 2], dtype=m.int32)),
    ("empty", lambda m: m.tensor([])),
    ("empty_2d", lambda m: m.zeros(0, 3)),
    ("empty_int", lambda m: m.zeros(0, dtype=m.int64)),
    ("empty_f64", lambda m: m.zeros(2, 0, dtype=m.float64)),
    ("negative_zero_mix", lambda m: m.tensor([[0.0, -1.5], [2.25, 100.0]])),
]


@pytest.mark.parametrize("name, make", REPR_CASES, ids=[c[0] for c in REPR_CASES])
def test_repr_matches_torch(name, make):
    assert repr(make(lamina)) == _norm(repr(make(torch)))


# --- in-place ops and version counters -----------------------------------------------------------

INPLACE = [
    ("add_", lambda x: x.add_(2)), ("add_alpha", lambda x: x.add_(x.clone(), alpha=2)),
    ("sub_", lambda x: x.sub_(0.5)), ("mul_", lambda x: x.mul_(3)), ("div_", lambda x: x.div_(4)),
    ("pow_", lambda x: x.abs_().pow_(2)), ("neg_", lambda x: x.neg_()), ("exp_", lambda x: x.exp_()),
    ("clamp_", lambda x: x.clamp_(-0.5, 0.5)), ("clamp_min_", lambda x: x.clamp_min_(0)),
    ("zero_", lambda x: x.zero_()), ("fill_", lambda x: x.fill_(1.25)), ("sqrt_", lambda x: x.abs_().sqrt_()),
    ("copy_", lambda x: x.copy_(x.flip(0))), ("iadd", lambda x: x.__iadd__(1)),
    ("imul", lambda x: x.__imul__(2.5)), ("isub", lambda x: x.__isub__(2)), ("itruediv", lambda x: x.__itruediv__(2)),
    ("tanh_", lambda x: x.tanh_()), ("sigmoid_", lambda x: x.sigmoid_()), ("relu_", lambda x: x.relu_()),
    ("masked_fill_", lambda x: x.masked_fill_(x > 0, 0.0)), ("floor_", lambda x: x.floor_()),
    ("copy_bcast", lambda x: x.copy_(x[0].clone())),
]


@pytest.mark.parametrize("name, fn", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_matches_torch_and_bumps_version(name, fn, rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    lx, tx = lamina.tensor(a), torch.tensor(a)
    view = lx[1]
    v0 = lx._version
    out_l = fn(lx)
    fn(tx)
    assert out_l is lx
    assert_close(lx, tx)
    assert_close(view, tx[1])
    assert lx._version > v0 and view._version == lx._version


@pytest.mark.parametrize("name, fn", INPLACE, ids=[c[0] for c in INPLACE])
def test_inplace_on_non_leaf_has_the_gradient_of_torch(name, fn, rng):
    a = rng.uniform(0.2, 1.0, (3, 4)) * rng.choice([-1, 1], (3, 4))
    lx, tx = lamina.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    g = rng.standard_normal((3, 4))
    ly, ty = fn(lx * 1.5), fn(tx * 1.5)
    assert_close(ly, ty)
    (ly * lamina.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    assert_close(lx.grad, tx.grad)


def test_inplace_with_itself_as_operand():
    """``y *= y`` on a non-leaf: PyTorch raises at backward (mul saved y); lamina runs the op on a snapshot
    of y, so both operands are the old y and the gradient is exact (deliberate difference)."""
    x = lamina.tensor([1.0, -2.0], requires_grad=True)
    y = x * 1.5
    y *= y
    y.sum().backward()
    assert y.tolist() == [2.25, 9.0] and x.grad.tolist() == [4.5, -9.0]  # d(1.5x)^2/dx = 4.5x


def test_inplace_on_leaf_requiring_grad_raises_torch_message():
    x = lamina.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place operation"):
        x.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x[0] = 3.0
    with lamina.no_grad():
        x.add_(1)  # allowed: no graph is recorded
    assert x.tolist() == [2.0, 2.0] and x.is_leaf and x.grad_fn is None


def test_inplace_int_result_type_error():
    x = lamina.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        x.div_(2)
    x.mul_(3)
    assert x.tolist() == [3, 6] and x.dtype is lamina.int64


# --- setitem -------------------------------------------------------------------------------------

SETITEM = [
    ("int_scalar", lambda m, x, v: x.__setitem__(0, 5.0)),
    ("slice_scalar", lambda m, x, v: x.__setitem__((slice(None), slice(1, 3)), -1.0)),
    ("step_slice", lambda m, x, v: x.__setitem__((slice(None, None, 2),), 2.0)),
    ("tensor_row", lambda m, x, v: x.__setitem__(1, v)),
    ("broadcast_col", lambda m, x, v: x.__setitem__((slice(None), 0), v[:3])),
    ("broadcast_all", lambda m, x, v: x.__setitem__(Ellipsis, v)),
    ("mask", lambda m, x, v: x.__setitem__(x > 0, 0.0)),
    ("index_list", lambda m, x, v: x.__setitem__(m.tensor([0, 2]), v)),
    ("neg_index", lambda m, x, v: x.__setitem__((-1, -1), 9.0)),
    ("none_ellipsis", lambda m, x, v: x.__setitem__((None, Ellipsis, 1), 4.0)),
]


@pytest.mark.parametrize("name, fn", SETITEM, ids=[c[0] for c in SETITEM])
def test_setitem_values_and_gradient_through_non_leaf(name, fn, rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal(4)
    lx, tx = lamina.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lv, tv = lamina.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True)
    ly, ty = lx * 2, tx * 2
    fn(lamina, ly, lv)
    fn(torch, ty, tv)
    assert_close(ly, ty)
    g = rng.standard_normal((3, 4))
    (ly * lamina.tensor(g)).sum().backward()
    (ty * torch.tensor(g)).sum().backward()
    assert_close(lx.grad, tx.grad)
    if tv.grad is None:
        assert lv.grad is None
    else:
        assert_close(lv.grad, tv.grad)


def test_setitem_without_grad_writes_in_place_and_bumps_version():
    x = lamina.zeros(3, 4)
    v0 = x._version
    x[1, 2] = 5
    x[0] = lamina.arange(4)
    assert x[1, 2].item() == 5 and x[0].tolist() == [0, 1, 2, 3] and x._version == v0 + 2


# --- clone / detach / hooks -------------------------------------------------------------------

def test_clone_detach_requires_grad_():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    c = x.clone()
    assert c.requires_grad and c.grad_fn is not None and c.grad_fn.name() == "CloneBackward"
    d = x.detach()
    assert not d.requires_grad and d.is_leaf
    d[0] = 5.0  # shares storage, as in PyTorch
    assert x[0].item() == 5.0
    y = lamina.ones(2).requires_grad_()
    assert y.requires_grad and y.is_leaf
    with pytest.raises(RuntimeError, match="leaf variables"):
        (x * 2).requires_grad_(False)
    assert x.data.requires_grad is False and x.data.array is x.array


def test_register_hook_and_retain_grad():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h = x.register_hook(lambda g: seen.append(g.tolist()))
    y = x * 3
    y.retain_grad()
    assert y.retains_grad
    y.register_hook(lambda g: g * 2)
    y.sum().backward()
    assert seen == [[6.0, 6.0]] and x.grad.tolist() == [6.0, 6.0]
    assert y.grad.tolist() == [2.0, 2.0]  # retain_grad sees the hook-modified gradient, as in PyTorch
    h.remove()
    (x * 1).sum().backward()
    assert len(seen) == 1
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        lamina.ones(1).register_hook(lambda g: g)
