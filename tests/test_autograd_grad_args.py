"""autograd.grad's less common arguments and the scalar-conversion warning, against torch 2.13.

Found by tests/programs/wgan_gp.py (``only_inputs=True`` as the WGAN-GP reference code passes it) and
tests/programs/gradscaler_loop.py (``float(loss)`` warns under torch).
"""

from __future__ import annotations

import warnings

import lamina
import lamina.autograd.methods as _methods
import numpy as np
import pytest
import torch


def _pair(dtype: str):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3)).astype(dtype)
    return (torch.tensor(a, requires_grad=True), lamina.tensor(a, requires_grad=True))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_only_inputs_true_is_accepted_silently(dtype):
    tx, lx = _pair(dtype)
    (tg,) = torch.autograd.grad((tx ** 3).sum(), tx, only_inputs=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (lg,) = lamina.autograd.grad((lx ** 3).sum(), lx, only_inputs=True)
    np.testing.assert_allclose(lg.numpy(), tg.numpy(), rtol=1e-6)
    assert str(lg.dtype).split(".")[-1] == str(tg.dtype).split(".")[-1]


def test_only_inputs_false_warns_future_warning_and_is_ignored():
    tx, lx = _pair("float64")
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        (tg,) = torch.autograd.grad((tx * 2).sum(), tx, only_inputs=False)
    with pytest.warns(FutureWarning, match="only_inputs argument is deprecated"):
        (lg,) = lamina.autograd.grad((lx * 2).sum(), lx, only_inputs=False)
    np.testing.assert_array_equal(lg.numpy(), tg.numpy())
    assert lx.grad is None and tx.grad is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_is_grads_batched_matches_torch(dtype):
    tx, lx = _pair(dtype)
    rng = np.random.default_rng(1)
    go = rng.standard_normal((4, 2, 3)).astype(dtype)
    (tg,) = torch.autograd.grad(tx.sin() * tx, tx, torch.tensor(go), is_grads_batched=True)
    (lg,) = lamina.autograd.grad(lx.sin() * lx, lx, lamina.tensor(go), is_grads_batched=True)
    assert tuple(lg.shape) == tuple(tg.shape) == (4, 2, 3)
    np.testing.assert_allclose(lg.numpy(), tg.numpy(), rtol=1e-6, atol=1e-7)


def test_is_grads_batched_create_graph_second_derivative_matches_torch():
    tx, lx = _pair("float64")
    go = np.stack([np.eye(2, 3), np.ones((2, 3))])
    outs = []
    for lib, x in ((torch, tx), (lamina, lx)):
        (g,) = lib.autograd.grad(x ** 3, x, lib.tensor(go), is_grads_batched=True, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        outs.append((g.detach().numpy(), gg.numpy()))
    np.testing.assert_allclose(outs[1][0], outs[0][0], rtol=1e-12)
    np.testing.assert_allclose(outs[1][1], outs[0][1], rtol=1e-12)


def test_is_grads_batched_several_inputs_and_unused():
    outs = []
    for lib in (torch, lamina):
        a = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        c = lib.tensor([5.0], dtype=lib.float64, requires_grad=True)
        ga, gb, gc = lib.autograd.grad(a * b, (a, b, c), lib.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]],
                                                                      dtype=lib.float64),
                                       is_grads_batched=True, allow_unused=True)
        assert gc is None
        outs.append((ga.numpy(), gb.numpy()))
    np.testing.assert_array_equal(outs[1][0], outs[0][0])
    np.testing.assert_array_equal(outs[1][1], outs[0][1])


def _scalar_warnings(lib, fn, make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(make(lib))
    return [str(w.message).splitlines()[0] for w in caught if w.category is UserWarning]


@pytest.mark.parametrize("conv", [float, complex])
def test_scalar_of_requires_grad_tensor_warns_once(conv, monkeypatch):
    monkeypatch.setattr(_methods, "_scalar_warned", False)
    got = _scalar_warnings(lamina, conv, lambda lib: lib.tensor(2.0, requires_grad=True) * 3)
    assert got == ["Converting a tensor with requires_grad=True to a scalar may lead to unexpected behavior."]
    # torch warns once per process (its flag may already be spent by another test), lamina the same
    assert _scalar_warnings(lamina, conv, lambda lib: lib.tensor(2.0, requires_grad=True)) == []


@pytest.mark.parametrize("conv", [int, bool, lambda t: t.item()])
def test_item_int_bool_do_not_warn(conv, monkeypatch):
    monkeypatch.setattr(_methods, "_scalar_warned", False)
    for lib in (torch, lamina):
        assert _scalar_warnings(lib, conv, lambda lib: lib.tensor(2.0, requires_grad=True)) == []


def test_scalar_under_no_grad_or_without_grad_does_not_warn(monkeypatch):
    monkeypatch.setattr(_methods, "_scalar_warned", False)
    t = lamina.tensor(2.0, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lamina.no_grad():
            assert float(t) == 2.0
        assert float(lamina.tensor(2.5)) == 2.5
    assert _methods._scalar_warned is False


def test_a_backward_returning_arrays_under_create_graph_names_the_node():
    """A Function whose backward is not differentiable (returns arrays under create_graph) gives a clear error at
    the next node, not a bare StopIteration."""

    class Doubling(lamina.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, dy):
            return (dy._data if isinstance(dy, lamina.Tensor) else dy) * 2

    x = lamina.randn(3, requires_grad=True)
    y = Doubling.apply(x.exp()).sum()
    with pytest.raises(RuntimeError, match="create_graph=True: the gradient reaching Exp is not differentiable"):
        lamina.autograd.grad(y, x, create_graph=True)
