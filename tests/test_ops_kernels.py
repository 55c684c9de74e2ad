"""The kernel registry: a faster kernel for (op, device type), selection, explain, fallback, unregister."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina import kernels
from lamina.ops.elementwise import Mul

CALLS: list[str] = []


class FastMul(Mul):
    """A 'faster' Mul: same maths, records that it ran."""

    @staticmethod
    def forward(ctx, a, b):
        CALLS.append("fast")
        return Mul.forward(ctx, a, b)


class FasterMul(Mul):
    @staticmethod
    def forward(ctx, a, b):
        CALLS.append("faster")
        return Mul.forward(ctx, a, b)


def _float32_only(arrays, kwargs):
    return all(getattr(a, "dtype", None) == np.float32 for a in arrays)


@pytest.fixture
def registered():
    del CALLS[:]
    made = []

    def reg(*args, **kwargs):
        k = kernels.register(*args, **kwargs)
        made.append(k)
        return k

    yield reg
    for k in made:
        kernels.unregister(k)
    assert not kernels.candidates(Mul, "cpu")


def test_kernel_selected_by_supports_and_falls_back_to_reference(registered):
    registered("Mul", "cpu", FastMul, priority=5, supports=_float32_only)
    x32 = lamina.tensor([1.0, 2.0], requires_grad=True)
    y = x32 * x32
    assert CALLS == ["fast"] and y.tolist() == [1.0, 4.0]
    y.sum().backward()
    assert x32.grad.tolist() == [2.0, 4.0]  # the kernel's backward is the reference's
    del CALLS[:]
    x64 = lamina.tensor([1.0, 2.0], dtype=lamina.float64)
    assert (x64 * x64).tolist() == [1.0, 4.0] and CALLS == []  # not supported: the reference runs


def test_priority_orders_kernels_and_unregister_restores(registered):
    low = registered(Mul, "cpu", FastMul, priority=1)
    registered(Mul, "cpu", FasterMul, priority=10)
    lamina.ones(2) * 2
    assert CALLS == ["faster"]
    assert [k.name for k in kernels.candidates("Mul", "cpu")] == ["FasterMul", "FastMul"]
    kernels.unregister(kernels.candidates("Mul", "cpu")[0])
    del CALLS[:]
    lamina.ones(2) * 2
    assert CALLS == ["fast"]
    kernels.unregister(low)
    del CALLS[:]
    lamina.ones(2) * 2
    assert CALLS == [] and Mul not in kernels.kernel_ops


def test_kernels_are_per_device_type(registered):
    registered(Mul, "cuda", FastMul, priority=3)
    lamina.ones(2) * 2
    assert CALLS == []
    assert not kernels.candidates(Mul, "cpu")


def test_explain_names_the_choice(registered):
    registered("Mul", "cpu", FastMul, priority=5, supports=_float32_only)
    text = kernels.explain("Mul", lamina.ones(2), lamina.ones(2))
    assert "op Mul on cpu" in text and "kernel FastMul (priority 5): supports these inputs" in text
    assert text.strip().endswith("-> FastMul")
    text = kernels.explain(Mul, lamina.ones(2, dtype=lamina.float64), lamina.ones(2, dtype=lamina.float64))
    assert "does not support these inputs" in text and text.strip().endswith("-> reference implementation Mul")
    assert "reference implementation Add" in kernels.explain("Add", lamina.ones(1), lamina.ones(1))


def test_register_rejects_a_non_subclass_and_unknown_names():
    class NotAMul(lamina.autograd.Function):
        pass

    with pytest.raises(TypeError, match="subclass of Mul"):
        kernels.register("Mul", "cpu", NotAMul)
    with pytest.raises(KeyError, match="no op named 'Nope'"):
        kernels.register("Nope", "cpu", FastMul)


def test_kernel_keeps_the_reference_op_name(registered):
    registered(Mul, "cpu", FastMul)
    y = lamina.ones(1, requires_grad=True) * 2
    assert y.grad_fn.name() == "MulBackward" and "grad_fn=<MulBackward>" in repr(y)
