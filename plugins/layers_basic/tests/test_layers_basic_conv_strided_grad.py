"""Convolution input gradients for strides above 1, computed by phase-decomposed col2im, against
PyTorch: float64 and float32, gradchecks, and a NaN weight that must reach only the positions it reads."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare, conv_case, conv_pair
from lamina.testing import gradcheck

SIZES = {1: (13,), 2: (9, 8), 3: (5, 6, 7)}

# (n, C, O, kernel, stride, padding, dilation, groups)
STRIDED = [
    (2, 4, 6, 3, 2, 1, 1, 2),                    # every phase has an unshifted offset
    (2, 4, 6, (3, 2), (2, 3), (1, 0), (2, 1), 1),  # dilation a multiple of the stride: one phase per dim
    (2, 4, 4, 1, 2, 0, 1, 1),                    # 1x1 stride 2: three phases receive nothing
    (2, 4, 4, 2, 3, 1, 2, 4),                    # kernel reach beyond the stride, grouped
    (2, 4, 6, 3, 1, 3, 1, 1),                    # stride 1, padding beyond the kernel span
    (1, 3, 6, 5, 2, 2, 1, 3),
    (3, 2, 4, 3, (2, 1, 2), 1, 1, 1),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", STRIDED, ids=str)
def test_phase_input_grad_matches_torch(row, dtype):
    rng = np.random.default_rng(24)
    n, kw, x, w, b = conv_case(row, SIZES, rng, dtype, batch=3)
    compare(*conv_pair(n, kw), [x, w, b], rng, tol=F32 if dtype == np.float32 else dict(rtol=1e-7, atol=1e-7))


@pytest.mark.parametrize("row", STRIDED[:4], ids=str)
def test_phase_input_grad_gradcheck(row):
    rng = np.random.default_rng(25)
    n, kw, x, w, b = conv_case(row, SIZES, rng, batch=1)
    fn = getattr(F, f"conv{n}d")
    assert gradcheck(lambda *a: fn(*a, **kw), [lamina.tensor(a, requires_grad=True) for a in (x, w, b)])


def test_phase_input_grad_non_finite_weight_like_torch():
    """A NaN weight must reach only the input positions its offset reads (no NaN from zero padding)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(26)
    n, kw, x, w, b = conv_case(STRIDED[0], SIZES, rng)
    w[1, 0, 0, 0] = np.nan
    tw, lw = torch.tensor(w), lamina.tensor(w)
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    g = rng.standard_normal(tuple(torch.nn.functional.conv2d(tx, tw, **kw).shape))
    torch.nn.functional.conv2d(tx, tw, **kw).backward(torch.tensor(g))
    F.conv2d(lx, lw, **kw).backward(lamina.tensor(g))
    finite = np.isfinite(tx.grad.numpy())
    np.testing.assert_array_equal(np.isfinite(lx.grad.numpy()), finite)
    np.testing.assert_allclose(lx.grad.numpy()[finite], tx.grad.numpy()[finite], rtol=1e-7, atol=1e-7)
