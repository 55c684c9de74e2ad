"""Convolution fast paths (depthwise, 1x1, stride-1 input gradient, pooled scratch buffers) against
PyTorch and against themselves: each path must agree with the general one on every configuration."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare
from lamina.testing import gradcheck

SIZES = {1: (11,), 2: (7, 6), 3: (5, 6, 4)}

# (n, C, O, kernel, stride, padding, dilation, groups): each row reaches one path of ConvNd
FAST_GRID = [
    (2, 6, 6, 3, 1, 1, 1, 6),          # depthwise, shifted-plane path
    (2, 6, 6, (3, 2), 1, (2, 0), 2, 6),  # depthwise, dilated, padding beyond the kernel span
    (2, 6, 6, 3, 1, "same", 1, 6),     # depthwise, 'same'
    (1, 4, 4, 3, 1, 2, 2, 4),          # depthwise 1-d
    (3, 3, 3, 2, 1, 1, 1, 3),          # depthwise 3-d, even kernel
    (2, 6, 6, 3, 2, 1, 1, 6),          # depthwise strided: general grouped path
    (2, 6, 6, 1, 1, 0, 1, 6),          # depthwise 1x1: pointwise path
    (2, 4, 8, 1, 1, 0, 1, 1),          # 1x1: no column matrix
    (2, 4, 8, 1, 1, 0, 1, 2),          # grouped 1x1
    (2, 4, 6, 1, 2, 0, 1, 1),          # 1x1 strided: column matrix
    (2, 4, 6, 1, 1, 1, 1, 1),          # 1x1 padded: column matrix
    (2, 4, 6, 3, 1, 3, 1, 1),          # stride 1, padding > kernel span: col2im input gradient
    (2, 4, 6, 3, 1, (0, 1), 2, 2),     # stride 1 dilated grouped: full-correlation input gradient
    (3, 2, 4, (2, 3, 1), 1, (1, 0, 0), (1, 1, 2), 1),
    (1, 4, 6, 4, 3, 2, 1, 2),          # strided: col2im input gradient
]


def _args(row, rng, dtype=np.float64, batch=2):
    n, C, O, k, s, p, d, g = row
    kernel = (k,) * n if isinstance(k, int) else k
    x = rng.standard_normal((batch, C) + SIZES[n]).astype(dtype)
    w = rng.standard_normal((O, C // g) + kernel).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    return n, dict(stride=s, padding=p, dilation=d, groups=g), x, w, b


@pytest.mark.parametrize("row", FAST_GRID, ids=str)
def test_conv_fast_paths_match_torch(row):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    n, kw, x, w, b = _args(row, rng)
    compare(lambda *a: getattr(torch.nn.functional, f"conv{n}d")(*a, **kw),
            lambda *a: getattr(F, f"conv{n}d")(*a, **kw), [x, w, b], rng)


@pytest.mark.parametrize("row", FAST_GRID[:3] + FAST_GRID[7:9], ids=str)
def test_conv_fast_paths_float32_match_torch(row):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(12)
    n, kw, x, w, b = _args(row, rng, np.float32, batch=3)
    compare(lambda *a: getattr(torch.nn.functional, f"conv{n}d")(*a, **kw),
            lambda *a: getattr(F, f"conv{n}d")(*a, **kw), [x, w, b], rng, tol=F32)


@pytest.mark.parametrize("row", [FAST_GRID[i] for i in (0, 1, 7, 11)], ids=str)
def test_conv_fast_paths_gradcheck(row):
    rng = np.random.default_rng(13)
    n, kw, x, w, b = _args(row, rng, batch=1)
    fn = getattr(F, f"conv{n}d")
    inputs = [lamina.tensor(a, requires_grad=True) for a in (x, w, b)]
    assert gradcheck(lambda *a: fn(*a, **kw), inputs)


@pytest.mark.parametrize("row", [FAST_GRID[i] for i in (0, 7, 12, 14)], ids=str)
def test_conv_scratch_reuse_keeps_saved_values(row):
    """Two forwards before either backward (the second reuses no buffer the first still needs),
    and a third forward between them: every gradient equals the one computed alone."""
    rng = np.random.default_rng(14)
    n, kw, x, w, b = _args(row, rng, np.float32, batch=3)
    fn = getattr(F, f"conv{n}d")
    xs = [x, rng.standard_normal(x.shape).astype(np.float32)]

    def grads(arrs, interleave):
        ts = [(lamina.tensor(a, requires_grad=True), lamina.tensor(w, requires_grad=True)) for a in arrs]
        ys = [fn(xt, wt, lamina.tensor(b), **kw) for xt, wt in ts]
        if interleave:
            with lamina.no_grad():
                fn(lamina.tensor(xs[1] * 3), lamina.tensor(w), None, **kw)
        out = []
        for (xt, wt), y in zip(ts, ys):
            (y * y).sum().backward()
            out.append((y.detach().numpy().copy(), xt.grad.numpy().copy(), wt.grad.numpy().copy()))
        return out

    alone = [grads([a], False)[0] for a in xs]
    together = grads(xs, True)
    for ref, got in zip(alone, together):
        for r, g in zip(ref, got):
            np.testing.assert_array_equal(g, r)


def test_pointwise_conv_detects_in_place_edit_of_its_input():
    x = lamina.randn(2, 4, 3, 3, requires_grad=True)
    h = x * 1.0
    w = lamina.randn(5, 4, 1, 1, requires_grad=True)
    y = F.conv2d(h, w)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
