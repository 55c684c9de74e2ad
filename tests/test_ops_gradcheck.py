"""Float64 numerical gradient checks of every differentiable op, and of gradcheck itself."""

from __future__ import annotations

import subprocess
import sys

import lamina
import numpy as np
import pytest
from _optable import ALL, BINARY, LINALG, UNARY
from _oracle import lamina_input, sample
from lamina.testing import GradcheckError, gradcheck, gradgradcheck


def _cases(ops, gradgrad=False):
    out = []
    for op in ops:
        if not op.grad or "no_gradcheck" in op.tags or (gradgrad and not op.gradgrad):
            continue
        shapes_list = op.shapes[:2] if gradgrad else op.shapes
        for shapes in shapes_list:
            if any(0 in s for s in shapes):
                continue
            for layout in (op.layouts if not gradgrad else ("contig",)):
                if layout == "noncontig" and all(len(s) < 2 for s in shapes):
                    continue
                sid = "&".join("x".join(map(str, s)) or "0d" for s in shapes)
                out.append(pytest.param(op, shapes, layout, id=f"{op.name}-{sid}-{layout}"))
    return out


def _inputs(op, shapes, layout, rng):
    return [lamina_input(sample(rng, s, d), np.float64, layout, True) for s, d in zip(shapes, op.domains())]


@pytest.mark.parametrize("op, shapes, layout", _cases(ALL))
def test_gradcheck(op, shapes, layout, rng):
    xs = _inputs(op, shapes, layout, rng)
    assert gradcheck(lambda *a: op.fn(lamina, *a), xs)


@pytest.mark.parametrize("op, shapes, layout", _cases(UNARY + BINARY + LINALG, gradgrad=True))
def test_gradgradcheck(op, shapes, layout, rng):
    xs = _inputs(op, shapes, layout, rng)
    assert gradgradcheck(lambda *a: op.fn(lamina, *a), xs)


# --- gradcheck must be able to fail --------------------------------------------------------------

class _WrongSquare(lamina.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * x  # should be 2 * x


class _WrongSecondInput(lamina.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        db = dy * a
        db[..., -1] = 0  # wrong only at the last element of b
        return dy * b, db


def test_gradcheck_reports_input_element_and_values(rng):
    x = lamina.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0.*element \(0,\): numerical 2\.0\d*, analytical 1\.0"):
        gradcheck(_WrongSquare.apply, (x,))
    assert gradcheck(_WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradcheck_names_the_second_input(rng):
    a = lamina.tensor(sample(rng, (2, 3)), requires_grad=True)
    b = lamina.tensor(sample(rng, (2, 3), "pos"), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"with respect to input 1.*input element \(0, 2\)"):
        gradcheck(_WrongSecondInput.apply, (a, b))


@pytest.mark.parametrize("bad", [_WrongSquare, _WrongSecondInput])
def test_fast_mode_catches_wrong_backward(bad, rng):
    n_inputs = bad.forward.__code__.co_argcount - 1
    xs = [lamina.tensor(sample(rng, (4, 5), "pos"), requires_grad=True) for _ in range(n_inputs)]
    with pytest.raises(GradcheckError, match="fast mode.*numerical .*analytical"):
        gradcheck(bad.apply, xs, fast_mode=True)


def test_fast_mode_passes_correct_ops_and_restores_inputs(rng):
    a = lamina.tensor(sample(rng, (30, 40)), requires_grad=True)
    b = lamina.tensor(sample(rng, (40, 20)), requires_grad=True)
    before = a.detach().numpy().copy()
    assert gradcheck(lambda x, y: (x @ y).tanh(), (a, b), fast_mode=True)
    np.testing.assert_array_equal(a.detach().numpy(), before)


def test_gradgradcheck_catches_wrong_double_backward(rng):
    class FirstOrderOnly(lamina.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.x2 = x * x  # a constant array: right first derivative, no second
            return x ** 3

        @staticmethod
        def backward(ctx, dy):
            return dy * 3 * ctx.x2

    x = lamina.tensor(sample(rng, (3,)), requires_grad=True)
    assert gradcheck(FirstOrderOnly.apply, (x,))
    with pytest.raises(GradcheckError):
        gradgradcheck(FirstOrderOnly.apply, (x,))


def test_multiple_outputs_and_unused_inputs(rng):
    a = lamina.tensor(sample(rng, (3,)), requires_grad=True)
    b = lamina.tensor(sample(rng, (3,)), requires_grad=True)
    assert gradcheck(lambda x, y: (x.exp(), x * 2), (a, b))
    assert gradcheck(lambda x, y: (x.max(0)), (a, b))


def test_gradcheck_warns_for_float32_and_needs_an_input():
    x = lamina.tensor([1.0, 2.0], requires_grad=True)
    with pytest.warns(UserWarning, match="float32"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)
    with pytest.raises(ValueError, match="requires_grad=True"):
        gradcheck(lambda t: t * 2, (lamina.tensor([1.0]),))


def test_importing_lamina_testing_does_not_import_pytest():
    code = "import sys, lamina.testing; assert 'pytest' not in sys.modules, 'pytest imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
