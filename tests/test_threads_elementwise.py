"""ReLU forward/backward cut into pieces for the backend's ``parallel_for``: bits equal at 1 and 2 threads
and to the one-call NumPy formula, for arrays below and above the split threshold (2^20 elements)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

SIZES = [(1000,), (3, (1 << 20) // 3 + 4099), (1 << 20,)]


def _relu(x: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = lamina.tensor(x, requires_grad=True)
    y = lamina.relu(t)
    y.backward(lamina.tensor(g))
    return y.detach().numpy().copy(), t.grad.numpy().copy()


@pytest.mark.parametrize("shape", SIZES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_bits_do_not_depend_on_threads(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    x.reshape(-1)[:4] = [0.0, -0.0, np.nan, np.inf]
    g = rng.standard_normal(shape).astype(dtype)
    before = lamina.get_num_threads()
    try:
        lamina.set_num_threads(1)
        y1, d1 = _relu(x, g)
        lamina.set_num_threads(2)
        y2, d2 = _relu(x, g)
    finally:
        lamina.set_num_threads(before)
    np.testing.assert_array_equal(y1, y2)
    np.testing.assert_array_equal(d1, d2)
    np.testing.assert_array_equal(y1, np.maximum(x, 0))
    np.testing.assert_array_equal(d1, (np.maximum(x, 0) > 0).astype(dtype) * g)
    assert y1.dtype == dtype and d1.dtype == dtype


def test_relu_large_contiguous_is_split_and_others_are_not(monkeypatch):
    backend = lamina.tensor([1.0]).device.backend
    calls: list[int] = []
    real = backend.parallel_for

    def spy(n, fn, grain=1):
        calls.append(n)
        return real(n, fn, grain)

    monkeypatch.setattr(backend, "parallel_for", spy, raising=False)
    big = np.ones((1 << 20) + 1, dtype=np.float32)
    _relu(big, big)
    assert calls == [17, 17]                     # forward and backward, pieces of 64 Ki elements
    calls.clear()
    _relu(big[:1000], big[:1000])
    strided = np.ones((2, 1 << 21), dtype=np.float32)[:, ::2].T   # not C-contiguous: one call
    y, d = _relu(strided, strided)
    assert calls == []
    np.testing.assert_array_equal(y, strided)
