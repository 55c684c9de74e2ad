"""Cross-entropy on (N, C) logits without weight or smoothing takes a shorter path (row indexing instead of
take/put_along_axis); it must give bitwise what the general path gives (forced here with weight=ones, which
multiplies by exactly 1), for every reduction and with ignored rows."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest


def _run(x_np, target, reduction, weight):
    x = lamina.tensor(x_np, requires_grad=True)
    w = None if weight is None else lamina.ones(x_np.shape[1], dtype=x.dtype)
    loss = F.cross_entropy(x, lamina.tensor(target), weight=w, ignore_index=-1, reduction=reduction)
    (loss * lamina.tensor(np.linspace(0.5, 2, loss.numel()).reshape(loss.shape).astype(x_np.dtype))).sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("target", [[0, 3, 1, 2, 3, 0], [0, -1, 1, -1, 3, 0], [-1] * 6],
                         ids=["all", "ignored", "none-valid"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rows_path_is_bitwise_the_general_path(reduction, target, dtype):
    x = np.random.default_rng(0).standard_normal((6, 4)).astype(dtype) * 3
    x[2, 1] = -np.inf
    fast, general = _run(x, target, reduction, None), _run(x, target, reduction, "ones")
    for a, b in zip(fast, general):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.dtype(dtype)


def test_out_of_range_target_still_raises_on_the_fast_check():
    x = lamina.zeros(2, 3, requires_grad=True)
    with pytest.raises(IndexError, match="target 3 is out of bounds for 3 classes"):
        F.cross_entropy(x, lamina.tensor([0, 3]))
    with pytest.raises(IndexError, match="target -2 is out of bounds"):
        F.cross_entropy(x, lamina.tensor([-2, 0]))
    assert F.cross_entropy(x, lamina.tensor([-100, 0])).item() == pytest.approx(np.log(3))


@pytest.mark.parametrize("upstream", [np.inf, np.nan, 0.0])
def test_rows_path_without_errstate_still_silent_and_bitwise(upstream):
    """The rows path skips np.errstate when nothing can warn; a non-finite upstream gradient or a +inf/NaN
    logit takes it again (the suite turns warnings into errors)."""
    x_np = np.random.default_rng(2).standard_normal((4, 3)).astype(np.float32)
    for extreme in (None, np.inf, np.nan):
        if extreme is not None:
            x_np[1, 2] = extreme
        grads = []
        for weight in (None, lamina.ones(3)):
            x = lamina.tensor(x_np, requires_grad=True)
            loss = F.cross_entropy(x, lamina.tensor([0, 1, 2, 0]), weight=weight)
            loss.backward(lamina.tensor(upstream, dtype=lamina.float32))
            grads.append((loss.detach().numpy(), x.grad.numpy()))
        for a, b in zip(*grads):
            np.testing.assert_array_equal(a, b)
