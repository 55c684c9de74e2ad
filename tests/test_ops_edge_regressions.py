"""Edge cases found by the distributions plugin's tests, against torch: gradients of diagonal/unfold views of
expanded (stride-0) tensors, torch's error for shapes that do not broadcast, narrow's bounds, 0-d samplers."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("case", ["diagonal", "diagonal_offset", "unfold", "unfold_step", "diag_of_transposed"])
def test_view_gradients_of_expanded_inputs(case):
    a = np.random.default_rng(0).standard_normal((3, 4))
    w = np.random.default_rng(1).standard_normal(64)
    grads = []
    for m in (lamina, torch):
        x = m.tensor(a, requires_grad=True)
        if case == "diagonal":
            y = m.diagonal(x[:, :3].expand(2, 3, 3), 0, -2, -1)
        elif case == "diagonal_offset":
            y = m.diagonal(x.expand(5, 3, 4), 1, 1, 2)
        elif case == "unfold":
            y = x.expand(2, 3, 4).unfold(2, 2, 1)
        elif case == "unfold_step":
            y = x.t().expand(3, 4, 3).unfold(0, 2, 1)
        else:
            y = m.diagonal(x.t(), -1)
        (y * m.tensor(w[: y.numel()]).reshape(y.shape)).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["add", "lt", "mul_grad", "where", "eq"])
def test_shapes_that_do_not_broadcast_raise_torchs_runtime_error(op):
    ops = {"add": lambda m, a, b: a + b, "lt": lambda m, a, b: a < b, "mul_grad": lambda m, a, b: a * b,
           "where": lambda m, a, b: m.where(a > 0, b, 0.0), "eq": lambda m, a, b: m.eq(a, b)}
    msgs = []
    for m in (lamina, torch):
        with pytest.raises(RuntimeError) as info:
            ops[op](m, m.ones(2, 3, requires_grad=op == "mul_grad"), m.ones(4))
        msgs.append(str(info.value))
    assert msgs[0] == msgs[1]


@pytest.mark.parametrize("args", [(0, 2, 3), (0, -4, 1), (0, 4, 0), (0, 1, -1), (0, -1, 1), (0, 3, 0), (1, 0, 2)])
def test_narrow_bounds(args):
    outs = []
    for m in (lamina, torch):
        try:
            outs.append(m.arange(6.0).reshape(3, 2).narrow(*args).tolist())
        except (RuntimeError, IndexError) as e:
            outs.append((type(e).__name__, str(e)))
    assert outs[0] == outs[1]


def test_samplers_on_zero_dim_parameters():
    for fn in (lambda m: m.normal(m.tensor(0.0), m.tensor(1.0)), lambda m: m.poisson(m.tensor(2.0)),
               lambda m: m.binomial(m.tensor(5.0), m.tensor(0.5)), lambda m: m.normal(m.tensor(1.0), 2.0)):
        lo, to = fn(lamina), fn(torch)
        assert tuple(lo.shape) == tuple(to.shape) == ()
        assert str(lo.dtype).split(".")[-1] == str(to.dtype).split(".")[-1]
