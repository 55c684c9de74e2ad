"""Max pooling over tiling windows (kernel == stride, no padding), computed by a reshape, against PyTorch:
values, indices and gradients with ties and NaNs; float32 kept; grad and no-grad paths agree."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest

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
