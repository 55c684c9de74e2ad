"""FractionalMaxPool2d/3d and F.fractional_max_pool2d/3d(_with_indices) against PyTorch given the same
_random_samples: values, indices, gradients (float32 windows computed in float32 as PyTorch), output_ratio,
unbatched and empty inputs, seeded default draws, repr/state_dict, errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import gradcheck

torch = pytest.importorskip("torch")

CASES = [(2, (2, 3, 9, 11), (3, 2), {"output_size": (4, 6)}), (2, (3, 7, 7), 2, {"output_size": 3}),
         (2, (2, 2, 10, 9), 3, {"output_ratio": (0.5, 0.7)}), (2, (1, 1, 5, 5), 2, {"output_size": 1}),
         (3, (1, 2, 7, 6, 8), (2, 3, 2), {"output_size": (3, 3, 4)}), (3, (2, 5, 6, 5), 2, {"output_ratio": 0.6})]


@pytest.mark.parametrize("n, shape, k, kw", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matches_torch_with_the_same_samples(n, shape, k, kw, dtype):
    rng = np.random.default_rng(len(shape) + n)
    N, C = (shape[0] if len(shape) == n + 2 else 1), shape[-n - 1]
    x, s = rng.standard_normal(shape).astype(dtype), rng.random((N, C, n)).astype(dtype)
    name = f"fractional_max_pool{n}d"
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ly, li = getattr(F, name)(lx, k, return_indices=True, _random_samples=lamina.tensor(s), **kw)
    ty, ti = getattr(torch.nn.functional, name)(tx, k, return_indices=True, _random_samples=torch.tensor(s), **kw)
    np.testing.assert_array_equal(ly.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(li.numpy(), ti.numpy())
    assert li.dtype is lamina.int64 and ly.dtype is getattr(lamina, np.dtype(dtype).name)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    ly.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)
    wy, wi = getattr(F, name + "_with_indices")(lamina.tensor(x), k, _random_samples=lamina.tensor(s), **kw)
    np.testing.assert_array_equal(wi.numpy(), ti.numpy())


@pytest.mark.parametrize("n", [2, 3])
def test_modules_match_torch(n):
    rng = np.random.default_rng(n)
    shape = (2, 3, 8, 7) if n == 2 else (2, 3, 5, 6, 7)
    s = rng.random((2, 3, n))
    lm = getattr(nn, f"FractionalMaxPool{n}d")(2, output_ratio=0.5, return_indices=True,
                                               _random_samples=lamina.tensor(s))
    tm = getattr(torch.nn, f"FractionalMaxPool{n}d")(2, output_ratio=0.5, return_indices=True,
                                                     _random_samples=torch.tensor(s))
    assert repr(lm) == repr(tm)
    assert list(lm.state_dict()) == list(tm.state_dict()) == ["_random_samples"]
    x = rng.standard_normal(shape)
    (ly, li), (ty, ti) = lm(lamina.tensor(x)), tm(torch.tensor(x))
    np.testing.assert_array_equal(ly.numpy(), ty.numpy())
    np.testing.assert_array_equal(li.numpy(), ti.numpy())
    assert list(getattr(nn, f"FractionalMaxPool{n}d")(2, output_size=2).state_dict()) == []


def test_default_samples_come_from_the_seeded_generator():
    x = lamina.randn(2, 3, 9, 9)
    lamina.manual_seed(7)
    a = F.fractional_max_pool2d(x, 2, output_size=4, return_indices=True)[1]
    lamina.manual_seed(7)
    b = F.fractional_max_pool2d(x, 2, output_size=4, return_indices=True)[1]
    lamina.manual_seed(7)
    s = lamina.rand(2, 3, 2)
    c = F.fractional_max_pool2d(x, 2, output_size=4, return_indices=True, _random_samples=s)[1]
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy(), c.numpy())


def test_nan_and_empty_batch_as_torch():
    x = np.random.default_rng(3).standard_normal((1, 1, 6, 6))
    x[0, 0, 1, 2] = x[0, 0, 4, 4] = np.nan
    s = np.full((1, 1, 2), 0.3)
    ly, li = F.fractional_max_pool2d(lamina.tensor(x), 3, output_size=3, return_indices=True,
                                     _random_samples=lamina.tensor(s))
    ty, ti = torch.nn.functional.fractional_max_pool2d(torch.tensor(x), 3, output_size=3, return_indices=True,
                                                       _random_samples=torch.tensor(s))
    np.testing.assert_array_equal(ly.numpy(), ty.numpy())
    np.testing.assert_array_equal(li.numpy(), ti.numpy())
    e = F.fractional_max_pool3d(lamina.zeros(0, 2, 4, 4, 4), 2, output_size=2)
    assert tuple(e.shape) == tuple(torch.nn.functional.fractional_max_pool3d(torch.zeros(0, 2, 4, 4, 4), 2,
                                                                             output_size=2).shape)


def test_gradcheck():
    x = lamina.tensor(np.random.default_rng(4).standard_normal((1, 2, 5, 6)), requires_grad=True)
    s = lamina.tensor(np.random.default_rng(5).random((1, 2, 2)))
    assert gradcheck(lambda v: F.fractional_max_pool2d(v, 2, output_size=(3, 4), _random_samples=s), (x,))


@pytest.mark.parametrize("call, etype, match", [
    (lambda m, X: m.fractional_max_pool2d(X(1, 2, 6, 6), 3, output_size=5), RuntimeError,
     r"fractional_max_pool2d\(\): pool height 3 too large relative to input height 6"),
    (lambda m, X: m.fractional_max_pool2d(X(1, 2, 6, 6), 2), ValueError,
     "fractional_max_pool2d requires specifying either an output_size or an output_ratio"),
    (lambda m, X: m.fractional_max_pool3d(X(1, 2, 6, 6, 6), 2), ValueError,
     "fractional_max_pool3d requires specifying either an output_size or an output_ratio"),
])
def test_errors_as_torch(call, etype, match):
    with pytest.raises(etype, match=match):
        call(torch.nn.functional, torch.zeros)
    with pytest.raises(etype, match=match):
        call(F, lamina.zeros)


def test_bad_samples_and_module_arguments_raise_as_torch():
    x = lamina.zeros(1, 2, 6, 6)
    with pytest.raises(RuntimeError, match=r"Expect _random_samples.size\(1\) equals to input channel size."):
        F.fractional_max_pool2d(x, 3, output_size=3, _random_samples=lamina.rand(1, 3, 2))
    for name in ("FractionalMaxPool2d", "FractionalMaxPool3d"):
        for kw, match in (({}, f"{name} requires specifying either an output size, or a pooling ratio"),
                          ({"output_ratio": 1.5}, r"output_ratio must be between 0 and 1 \(got 1.5\)"),
                          ({"output_ratio": 0.5, "output_size": 2}, "only one of output_size and output_ratio")):
            with pytest.raises(ValueError, match=match):
                getattr(torch.nn, name)(2, **kw)
            with pytest.raises(ValueError, match=match):
                getattr(nn, name)(2, **kw)
