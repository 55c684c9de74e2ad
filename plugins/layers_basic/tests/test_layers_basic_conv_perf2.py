"""Second round of convolution/pooling fast paths against PyTorch: masked flat-plane depthwise
(and its padded-plane fallback for wide padding and non-finite values), phase-decomposed col2im
for strided input gradients, reshape-based max pooling over tiling windows."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_a_helpers import F32, compare
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


def _args(row, rng, dtype=np.float64, batch=2):
    n, C, O, k, s, p, d, g = row
    kernel = (k,) * n if isinstance(k, int) else k
    x = rng.standard_normal((batch, C) + SIZES[n]).astype(dtype)
    w = rng.standard_normal((O, C // g) + kernel).astype(dtype)
    b = rng.standard_normal(O).astype(dtype)
    return n, dict(stride=s, padding=p, dilation=d, groups=g), x, w, b


def _fns(n, kw):
    torch = pytest.importorskip("torch")
    return (lambda *a: getattr(torch.nn.functional, f"conv{n}d")(*a, **kw),
            lambda *a: getattr(F, f"conv{n}d")(*a, **kw))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", DEPTHWISE, ids=str)
def test_depthwise_paths_match_torch(row, dtype):
    rng = np.random.default_rng(21)
    n, kw, x, w, b = _args(row, rng, dtype, batch=3)
    compare(*_fns(n, kw), [x, w, b], rng, tol=F32 if dtype == np.float32 else dict(rtol=1e-7, atol=1e-7))


@pytest.mark.parametrize("row", DEPTHWISE[:3], ids=str)
def test_depthwise_gradcheck(row):
    rng = np.random.default_rng(22)
    n, kw, x, w, b = _args(row, rng, batch=1)
    fn = getattr(F, f"conv{n}d")
    assert gradcheck(lambda *a: fn(*a, **kw), [lamina.tensor(a, requires_grad=True) for a in (x, w, b)])


@pytest.mark.parametrize("bad", [np.inf, np.nan])
@pytest.mark.parametrize("where", ["input", "grad"])
def test_depthwise_non_finite_stays_local_like_torch(bad, where):
    """An inf/NaN spreads only to the windows that contain it (masked weights must not multiply it)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(23)
    n, kw, x, w, b = _args(DEPTHWISE[0], rng)
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
    n, kw, x, w, b = _args(row, rng, dtype, batch=3)
    compare(*_fns(n, kw), [x, w, b], rng, tol=F32 if dtype == np.float32 else dict(rtol=1e-7, atol=1e-7))


@pytest.mark.parametrize("row", STRIDED[:4], ids=str)
def test_phase_input_grad_gradcheck(row):
    rng = np.random.default_rng(25)
    n, kw, x, w, b = _args(row, rng, batch=1)
    fn = getattr(F, f"conv{n}d")
    assert gradcheck(lambda *a: fn(*a, **kw), [lamina.tensor(a, requires_grad=True) for a in (x, w, b)])


def test_phase_input_grad_non_finite_weight_like_torch():
    """A NaN weight must reach only the input positions its offset reads (no NaN from zero padding)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(26)
    n, kw, x, w, b = _args(STRIDED[0], rng)
    w[1, 0, 0, 0] = np.nan
    tw, lw = torch.tensor(w), lamina.tensor(w)
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    g = rng.standard_normal(tuple(torch.nn.functional.conv2d(tx, tw, **kw).shape))
    torch.nn.functional.conv2d(tx, tw, **kw).backward(torch.tensor(g))
    F.conv2d(lx, lw, **kw).backward(lamina.tensor(g))
    finite = np.isfinite(tx.grad.numpy())
    np.testing.assert_array_equal(np.isfinite(lx.grad.numpy()), finite)
    np.testing.assert_allclose(lx.grad.numpy()[finite], tx.grad.numpy()[finite], rtol=1e-7, atol=1e-7)


# (kernel, input spatial size): non-overlapping max-pool windows, exact cover or cropped remainder
TILING = [((2, 2), (8, 6)), ((2, 3), (7, 8)), ((3,), (10,)), ((2, 2, 2), (4, 5, 4)), ((4, 4), (8, 8))]


@pytest.mark.parametrize("values", ["ties", "normal", "nan"])
@pytest.mark.parametrize("kernel, size", TILING, ids=str)
def test_tiling_max_pool_matches_torch(kernel, size, values):
    """Values, indices and gradients, ties going to the first max and NaN windows to the last NaN."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(27)
    n = len(kernel)
    x = rng.standard_normal((2, 3) + size)
    if values == "ties":
        x = rng.integers(0, 3, x.shape).astype(np.float64)
    if values == "nan":
        x.reshape(-1)[rng.choice(x.size, x.size // 7, replace=False)] = np.nan
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    ty, ti = getattr(torch.nn.functional, f"max_pool{n}d")(tx, kernel, return_indices=True)
    ly, li = getattr(F, f"max_pool{n}d")(lx, kernel, return_indices=True)
    np.testing.assert_array_equal(ly.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(li.numpy(), ti.numpy())
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    ly.backward(lamina.tensor(g))
    np.testing.assert_array_equal(lx.grad.numpy(), tx.grad.numpy())


def test_tiling_max_pool_float32_grad_and_no_grad_path_agree():
    rng = np.random.default_rng(28)
    x = rng.standard_normal((3, 4, 12, 10)).astype(np.float32)
    lx = lamina.tensor(x, requires_grad=True)
    y = F.max_pool2d(lx, 2)
    with lamina.no_grad():
        y0 = F.max_pool2d(lamina.tensor(x), 2)
    assert y.dtype == lamina.float32 and lx.dtype == lamina.float32
    np.testing.assert_array_equal(y.detach().numpy(), y0.numpy())
    y.sum().backward()
    assert lx.grad.dtype == lamina.float32
    np.testing.assert_array_equal(lx.grad.numpy().reshape(3, 4, 6, 2, 5, 2).sum(axis=(3, 5)), np.ones((3, 4, 6, 5)))
