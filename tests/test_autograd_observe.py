"""``lamina.autograd.observe_ops``: a tool sees each top-level Function application, once."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina.autograd import Function, observe_ops
from lamina.errors import ShapeError
from lamina.ops.elementwise import Add, Mul


class TwiceThenSquare(Function):
    """An op whose forward applies two other ops: only the outer one is observed."""

    @staticmethod
    def forward(ctx, x):
        y = lamina.tensor(x) * 2
        return (y * y).array

    @staticmethod
    def backward(ctx, dy):
        return dy


def test_observer_sees_class_arguments_and_result_of_each_top_level_op():
    seen = []
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    with observe_ops(lambda cls, args, kwargs, out: seen.append((cls, args, kwargs, out))):
        y = x * 3
        z = Add.apply(y, 1, alpha=2)
    assert [s[0] for s in seen] == [Mul, Add]
    assert seen[0][1][0] is x and seen[0][1][1] == 3 and seen[0][3] is y
    assert seen[1][1] == (y, 1) and seen[1][2] == {"alpha": 2} and seen[1][3] is z
    np.testing.assert_allclose(z.detach().numpy(), [5.0, 8.0])


def test_ops_inside_a_forward_and_ops_of_the_observer_are_not_observed():
    seen = []

    def observer(cls, args, kwargs, out):
        seen.append(cls)
        _ = out + 1  # an op applied by the observer itself

    with observe_ops(observer):
        TwiceThenSquare.apply(lamina.tensor([3.0]))
    assert seen == [TwiceThenSquare]


def test_observation_ends_with_the_block_even_on_error():
    seen = []
    with pytest.raises(RuntimeError, match="boom"), observe_ops(lambda *a: seen.append(a[0])):
        _ = lamina.ones(2) + 1
        raise RuntimeError("boom")
    _ = lamina.ones(2) * 2
    assert seen == [Add]


def test_an_op_that_raises_leaves_observers_in_place():
    seen = []
    with observe_ops(lambda *a: seen.append(a[0])):
        with pytest.raises(ShapeError):
            lamina.ones(2, 3) @ lamina.ones(2, 3)
        _ = lamina.ones(2) + 1
    assert seen == [Add]


def test_two_observers_both_see_each_op():
    first, second = [], []
    with observe_ops(lambda *a: first.append(a[0])), observe_ops(lambda *a: second.append(a[0])):
        _ = lamina.ones(2) * 2
    assert first == second == [Mul]


def test_non_differentiable_ops_are_seen_with_the_op_function_as_key():
    seen = []
    x = lamina.tensor([[1.0, -2.0], [3.0, 0.5]], requires_grad=True)
    with observe_ops(lambda op, args, kwargs, out: seen.append((op, args, kwargs, out))):
        mask = x > 0
        both = lamina.logical_and(mask, x.lt(2))
        flipped = ~both
        index = x.argmax(1, keepdim=True)
        some = mask.any(dim=0)
    assert [f"{op.__module__}.{op.__qualname__}" for op, *_ in seen] == [
        "lamina.ops.comparison.gt", "lamina.ops.comparison.lt", "lamina.ops.comparison.logical_and",
        "lamina.ops.comparison.bitwise_not", "lamina.ops.reduction.argmax", "lamina.ops.reduction.any"]
    assert seen[0][0] is lamina.gt and seen[0][1] == (x, 0) and seen[0][2] == {} and seen[0][3] is mask
    assert seen[2][1][0] is mask and seen[2][3] is both and seen[3][3] is flipped
    assert seen[4][1] == (x, 1, True) and seen[4][3] is index and seen[5][1] == (mask, 0, False)
    assert some.tolist() == [True, True] and flipped.tolist() == [[False, True], [True, False]]


def test_non_differentiable_ops_inside_a_forward_or_an_observer_are_not_seen():
    class CountPositive(Function):
        @staticmethod
        def forward(ctx, x):
            return (lamina.tensor(x) > 0).sum().array

        @staticmethod
        def backward(ctx, dy):
            return None

    seen = []

    def observer(op, args, kwargs, out):
        seen.append(op)
        _ = lamina.isnan(lamina.ones(1))  # seen by nobody

    with observe_ops(observer):
        CountPositive.apply(lamina.tensor([1.0, -1.0]))
        lamina.eq(lamina.ones(2), 1)
    assert seen == [CountPositive, lamina.eq]
    _ = lamina.ones(2) > 0  # outside the block
    assert seen == [CountPositive, lamina.eq]
