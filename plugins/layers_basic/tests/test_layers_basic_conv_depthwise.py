"""Depthwise convolution's masked flat-plane path against PyTorch (and its padded-plane fallback for
padding beyond 'same'): values and gradients in float64 and float32, gradchecks, and an inf/NaN that
must stay in the windows that contain it."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare, conv_case, conv_pair
from lamina.testing import gradcheck

SIZES = {1: (13,), 2: (9, 8), 3: (5, 6, 7)}

# (n, C, O, kernel, stride, padding, dilation, groups)
DEPTHWISE = [
    (2, 5, 5, 3, 1, 1, 1, 5),            # 'same': output written in place, no crop
    (2, 5, 5, 3, 1, 0, 1, 5),            # valid: output smaller than the grid, cropped
    (2, 5, 5, (5, 3), 1, (1, 2), (1, 2), 5),
    (2, 5, 5, 3, 1, 3, 1, 5),            # padding beyond 'same': padded-plane fallback
    (1, 4, 4, 4, 1, 2, 1, 4),            # even kernel, 1-d
    (3, 3, 3, 3, 1, 1, 2, 3),            # 3-d dilated
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", DEPTHWISE, ids=str)
def test_depthwise_paths_match_torch(row, dtype):
    rng = np.random.default_rng(21)
    n, kw, x, w, b = conv_case(row, SIZES, rng, dtype, batch=3)
    compare(*conv_pair(n, kw), [x, w, b], rng, tol=F32 if dtype == np.float32 else dict(rtol=1e-7, atol=1e-7))


@pytest.mark.parametrize("row", DEPTHWISE[:3], ids=str)
def test_depthwise_gradcheck(row):
    rng = np.random.default_rng(22)
    n, kw, x, w, b = conv_case(row, SIZES, rng, batch=1)
    fn = getattr(F, f"conv{n}d")
    assert gradcheck(lambda *a: fn(*a, **kw), [lamina.tensor(a, requires_grad=True) for a in (x, w, b)])


@pytest.mark.parametrize("bad", [np.inf, np.nan])
@pytest.mark.parametrize("where", ["input", "grad"])
def test_depthwise_non_finite_stays_local_like_torch(bad, where):
    """An inf/NaN spreads only to the windows that contain it (masked weights must not multiply it)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    n, kw, x, w, b = conv_case(DEPTHWISE[0], SIZES, rng)
    g = rng.standard_normal(x.shape[:1] + (5,) + SIZES[2])
    (x if where == "input" else g)[0, 1, 3, 7] = bad
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    ty = torch.nn.functional.conv2d(tx, torch.tensor(w), torch.tensor(b), **kw)
    ly = F.conv2d(lx, lamina.tensor(w), lamina.tensor(b), **kw)
    np.testing.assert_array_equal(np.isfinite(ly.detach().numpy()), np.isfinite(ty.detach().numpy()))
    ty.backward(torch.tensor(g))
    ly.backward(lamina.tensor(g))
    np.testing.assert_array_equal(np.isfinite(lx.grad.numpy()), np.isfinite(tx.grad.numpy()))
    finite = np.isfinite(tx.grad.numpy())
    np.testing.assert_allclose(lx.grad.numpy()[finite], tx.grad.numpy()[finite], rtol=1e-7, atol=1e-7)
