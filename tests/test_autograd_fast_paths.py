"""The shortcuts of the autograd hot path behave like the general code: Sum/Mean backward filling a small
input's gradient (a broadcast view for a large one), leaves reached once or several times, the lazily
computed ``needs_input_grad``, extra None gradients, and the shape error naming the gradient's index."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.autograd import Function

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("n", [1, 64, 4096, 4097, 70000])
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_sum_and_mean_backward_small_and_large(n, op):
    x_np = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    ours, theirs = lamina.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    other, other_t = lamina.tensor(x_np, requires_grad=True), torch.tensor(x_np, requires_grad=True)
    (getattr(ours, op)() * 3 + getattr(other, op)()).backward()
    (getattr(theirs, op)() * 3 + getattr(other_t, op)()).backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    np.testing.assert_array_equal(other.grad.numpy(), other_t.grad.numpy())
    ours.grad.numpy()[0] = 123.0  # each leaf owns its gradient
    assert other.grad.numpy()[0] != 123.0


def test_leaf_reached_once_and_several_times_accumulates_like_torch():
    rng = np.random.default_rng(0)
    a_np, b_np = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    results = []
    for lib in (lamina, torch):
        a, b = lib.tensor(a_np, requires_grad=True), lib.tensor(b_np, requires_grad=True)
        for _ in range(3):  # .grad None, then accumulated into in place
            ((a * b + b).relu() * a).sum().backward()
        results.append((a.grad.numpy().copy(), b.grad.numpy().copy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


class _Probe(Function):
    seen: list = []

    @staticmethod
    def forward(ctx, x, y, scale):
        _Probe.seen.append(ctx.needs_input_grad)
        return x * y * scale

    @staticmethod
    def backward(ctx, dy):
        _Probe.seen.append(ctx.needs_input_grad)
        return dy, dy, None, None  # one more None than arguments: accepted


def test_needs_input_grad_is_worked_out_per_call():
    _Probe.seen.clear()
    x, y = lamina.ones(2, requires_grad=True), lamina.ones(2)
    _Probe.apply(x, y, 2.0).sum().backward()
    _Probe.apply(y, x, 2.0).sum().backward()
    with lamina.no_grad():
        _Probe.apply(x, y, 2.0)
    _Probe.apply(y, y, 2.0)
    assert _Probe.seen == [(True, False, False), (True, False, False), (False, True, False), (False, True, False),
                           (False, False, False), (False, False, False)]
    assert x.grad.tolist() == [2.0, 2.0]  # dy from each of the two backward passes


def test_a_gradient_of_the_wrong_shape_names_its_index():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, dy):
            return dy, dy[:1]

    x, y = lamina.ones(3, requires_grad=True), lamina.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"BadBackward returned an invalid gradient at index 1 - got \[1\]"):
        Bad.apply(x, y).sum().backward()
