"""CrossMapLRN2d against PyTorch: the legacy forward windows and the legacy backward, exactly (float64 and
float32), for window sizes odd and even and channel counts below and above the window; repr; errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import numpy as np
import pytest

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("size", [2, 3, 4, 5, 7])
@pytest.mark.parametrize("C", [1, 3, 6, 11])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_values_and_gradients_match_torch(size, C, dtype):
    rng = np.random.default_rng(size * 13 + C)
    x, g = (rng.standard_normal((2, C, 3, 4)) * 2).astype(dtype), rng.standard_normal((2, C, 3, 4)).astype(dtype)
    tm, lm = torch.nn.CrossMapLRN2d(size, 0.3, 0.75, 2.0), nn.CrossMapLRN2d(size, 0.3, 0.75, 2.0)
    assert repr(lm) == repr(tm)
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    ty, ly = tm(tx), lm(lx)
    ty.backward(torch.tensor(g))
    ly.backward(lamina.tensor(g))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    assert ly.dtype is getattr(lamina, np.dtype(dtype).name)
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), **tol)
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), **tol)


def test_size_one_forward_matches_torch():
    # PyTorch's legacy backward fails for size=1 (its padded buffer is too short); the forward is compared
    x = np.random.default_rng(0).standard_normal((1, 4, 2, 2))
    np.testing.assert_allclose(nn.CrossMapLRN2d(1, 0.5)(lamina.tensor(x)).numpy(),
                               torch.nn.CrossMapLRN2d(1, 0.5)(torch.tensor(x)).numpy(), rtol=1e-12)


def test_defaults_and_empty_batch():
    lm, tm = nn.CrossMapLRN2d(5), torch.nn.CrossMapLRN2d(5)
    assert repr(lm) == repr(tm) == "CrossMapLRN2d(5, alpha=0.0001, beta=0.75, k=1)"
    assert tuple(lm(lamina.zeros(0, 3, 2, 2)).shape) == tuple(tm(torch.zeros(0, 3, 2, 2)).shape)


@pytest.mark.parametrize("shape", [(3, 4, 5), (1, 2, 3, 4, 5)])
def test_non_4d_input_raises_as_torch(shape):
    with pytest.raises(ValueError, match="CrossMapLRN2d: Expected input to be 4D"):
        torch.nn.CrossMapLRN2d(3)(torch.zeros(shape))
    with pytest.raises(ValueError, match=f"CrossMapLRN2d: Expected input to be 4D, got {len(shape)}D instead."):
        nn.CrossMapLRN2d(3)(lamina.zeros(shape))
