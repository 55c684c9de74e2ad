"""lamina.segment_reduce against torch.segment_reduce: values and gradients (ties, zeros in prod, empty
segments, initial, offsets, batched lengths) and torch's errors."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")

DATA = np.array([1.0, 3.0, 3.0, 2.0, 5.0, 0.0])


def _compare(data, reduce, weights, **kw):
    a, t = lamina.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    lk = {k: (lamina.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    tk = {k: (torch.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
    ly, ty = lamina.segment_reduce(a, reduce, **lk), torch.segment_reduce(t, reduce, **tk)
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-12, equal_nan=True)
    w = weights(ty.shape)
    (ly * lamina.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("initial", [None, 10.0, -2.0])
@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min", "prod", "amax", "amin"])
def test_one_dim_with_an_empty_segment(reduce, initial):
    _compare(DATA, reduce, lambda s: np.arange(1.0, 1.0 + np.prod(s)).reshape(s), lengths=np.array([3, 0, 3]),
             initial=initial)


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "prod"])
def test_batched_lengths_and_offsets_along_axis_1(reduce):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((2, 6, 3))  # no ties: torch's batched max/min backward counts ties per row
    weights = lambda s: rng.standard_normal(s)  # noqa: E731
    _compare(data, reduce, weights, lengths=np.array([[2, 4], [3, 3]]), axis=1)
    _compare(data, reduce, weights, offsets=np.array([[0, 2, 6], [0, 3, 6]]), axis=1)
    _compare(data.transpose(1, 0, 2).copy(), reduce, weights, lengths=np.array([1, 5]), axis=0)


def test_gradcheck_in_float64():
    x = lamina.tensor(np.random.default_rng(1).standard_normal((7, 2)), requires_grad=True)
    for reduce in ("sum", "mean", "prod", "max"):
        assert lamina.testing.gradcheck(
            lambda v, r=reduce: lamina.segment_reduce(v, r, lengths=lamina.tensor([2, 1, 4])), (x,))


def test_errors_match_torch():
    x = lamina.tensor(DATA)
    with pytest.raises(RuntimeError, match="Expected all rows of lengths along axis to sum"):
        lamina.segment_reduce(x, "sum", lengths=lamina.tensor([3, 2]))
    with pytest.raises(RuntimeError, match="reduce argument must be either sum, prod, mean, amax or amin, got avg"):
        lamina.segment_reduce(x, "avg", lengths=lamina.tensor([3, 3]))
    with pytest.raises(RuntimeError, match="Either lengths or offsets must be defined"):
        lamina.segment_reduce(x, "sum")
    with pytest.raises(RuntimeError, match="Expected axis to be the last dimension of offsets"):
        lamina.segment_reduce(lamina.zeros(2, 6), "sum", offsets=lamina.tensor([0, 2, 6]), axis=1)
    with pytest.raises(NotImplementedError, match="not implemented for"):
        lamina.segment_reduce(lamina.tensor([1, 2, 3]), "sum", lengths=lamina.tensor([2, 1]))
