"""Pooling: PyTorch parity over a grid (values, indices, gradients), ties, gradchecks, errors, repr."""

from __future__ import annotations

import itertools

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare
from lamina.errors import ShapeError
from lamina.testing import gradcheck

SIZES = {1: (9,), 2: (7, 6), 3: (5, 6, 5)}
GRID = list(itertools.product([2, 3], [None, 1, 2], [0, 1], [False, True]))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("k, s, p, ceil", GRID)
@pytest.mark.parametrize("d", [1, 2])
def test_max_pool_matches_torch(n, k, s, p, ceil, d):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3) + SIZES[n])
    kw = dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=ceil, return_indices=True)
    compare(lambda x: getattr(torch.nn.functional, f"max_pool{n}d")(x, **kw),
            lambda x: getattr(F, f"max_pool{n}d")(x, **kw), [x], rng)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("k, s, p, ceil", GRID)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool_matches_torch(n, k, s, p, ceil, count_include_pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3) + SIZES[n])
    kw = dict(kernel_size=k, stride=s, padding=p, ceil_mode=ceil, count_include_pad=count_include_pad)
    compare(lambda x: getattr(torch.nn.functional, f"avg_pool{n}d")(x, **kw),
            lambda x: getattr(F, f"avg_pool{n}d")(x, **kw), [x], rng)


@pytest.mark.parametrize("n, divisor", [(2, 3), (3, 5)])
def test_avg_pool_divisor_override_matches_torch(n, divisor):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3) + SIZES[n])
    kw = dict(kernel_size=2, stride=1, padding=1, divisor_override=divisor)
    compare(lambda x: getattr(torch.nn.functional, f"avg_pool{n}d")(x, **kw),
            lambda x: getattr(F, f"avg_pool{n}d")(x, **kw), [x], rng)


@pytest.mark.parametrize("name, kw, shape", [
    ("MaxPool2d", dict(kernel_size=2), (0, 3, 4, 4)),
    ("MaxPool2d", dict(kernel_size=2, return_indices=True), (3, 5, 4)),
    ("MaxPool1d", dict(kernel_size=3, stride=1, padding=1), (1, 2, 5)),
    ("AvgPool1d", dict(kernel_size=3, padding=1, ceil_mode=True), (2, 7)),
    ("AvgPool2d", dict(kernel_size=2), (0, 2, 4, 4)),
    ("AvgPool3d", dict(kernel_size=2, stride=1), (2, 3, 3, 3)),
    ("LPPool2d", dict(norm_type=2, kernel_size=2), (2, 3, 4, 6)),
    ("LPPool2d", dict(norm_type=3, kernel_size=(2, 3), stride=1, ceil_mode=True), (2, 3, 4, 6)),
    ("AdaptiveAvgPool1d", dict(output_size=4), (2, 3, 9)),
    ("AdaptiveAvgPool2d", dict(output_size=(3, None)), (2, 5, 7)),
    ("AdaptiveAvgPool2d", dict(output_size=(4, 5)), (0, 2, 9, 7)),
    ("AdaptiveAvgPool3d", dict(output_size=(2, 3, 4)), (2, 2, 5, 6, 7)),
    ("AdaptiveMaxPool1d", dict(output_size=4, return_indices=True), (2, 3, 9)),
    ("AdaptiveMaxPool2d", dict(output_size=(3, 5), return_indices=True), (2, 3, 7, 9)),
    ("AdaptiveMaxPool2d", dict(output_size=(4, 2)), (3, 8, 4)),
])
def test_pool_modules_match_torch(name, kw, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    if name == "LPPool2d":
        x = np.abs(x) + 0.1
    lm, tm = getattr(nn, name)(**kw), getattr(torch.nn, name)(**kw)
    assert repr(lm) == repr(tm)
    compare(tm, lm, [x], rng)
    compare(tm, lm, [x.astype(np.float32)], rng, tol=F32)


def test_max_pool_ties_go_to_the_first_max_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, (2, 3, 8, 8)).astype(np.float64)      # many ties
    for kw in (dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2)):
        compare(lambda x, kw=kw: torch.nn.functional.max_pool2d(x, return_indices=True, **kw),
                lambda x, kw=kw: F.max_pool2d(x, return_indices=True, **kw), [x], rng)
    compare(lambda x: torch.nn.functional.adaptive_max_pool2d(x, (3, 5), True),
            lambda x: F.adaptive_max_pool2d(x, (3, 5), True), [x], rng)


def test_max_pool_nan_propagates():
    x = lamina.tensor([[[1.0, float("nan"), 0.5, 2.0]]], requires_grad=True)
    y = F.max_pool1d(x, 2)
    assert np.isnan(y.detach().numpy()[0, 0, 0]) and y.detach().numpy()[0, 0, 1] == 2.0
    y.sum().backward()
    assert x.grad.numpy().tolist() == [[[0.0, 1.0, 0.0, 1.0]]]


def test_max_unpool2d_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6))
    for kw, size in [(dict(kernel_size=2), None), (dict(kernel_size=3, stride=2, padding=1), (7, 6))]:
        ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
        ly, li = F.max_pool2d(lamina.tensor(x), return_indices=True, **kw)
        tm, lm = torch.nn.MaxUnpool2d(**kw), nn.MaxUnpool2d(**kw)
        assert repr(tm) == repr(lm)
        compare(lambda v, tm=tm, ti=ti, size=size: tm(v, ti, output_size=size),
                lambda v, lm=lm, li=li, size=size: lm(v, li, output_size=size),
                [ty.numpy()], rng)


@pytest.mark.parametrize("fn, kw", [
    (F.max_pool2d, dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    (F.max_pool3d, dict(kernel_size=2, dilation=2)),
    (F.avg_pool1d, dict(kernel_size=3, padding=1, count_include_pad=False, ceil_mode=True)),
    (F.avg_pool2d, dict(kernel_size=(2, 3), stride=1, divisor_override=4)),
    (F.lp_pool2d, dict(norm_type=2.0, kernel_size=2)),
    (F.adaptive_avg_pool2d, dict(output_size=(3, 2))),
    (F.adaptive_max_pool1d, dict(output_size=3)),
])
def test_pool_gradcheck(fn, kw):
    rng = np.random.default_rng(6)
    ndim = 5 if fn is F.max_pool3d else 3 if fn in (F.avg_pool1d, F.adaptive_max_pool1d) else 4
    x = rng.permutation(np.arange(2 * 2 * 5 ** (ndim - 2)) / 7.0 + 0.5).reshape((2, 2) + (5,) * (ndim - 2))
    assert gradcheck(lambda x: fn(x, **kw), (lamina.tensor(x, requires_grad=True),))


@pytest.mark.parametrize("call, etype, match", [
    (lambda: F.max_pool2d(lamina.randn(1, 1, 8, 8), 3, 1, 2), ValueError, "max_pool2d: pad should be at most half"),
    (lambda: nn.MaxPool2d(3)(lamina.randn(1, 1, 2, 2)), ShapeError,
     r"MaxPool2d: expected an output size of at least 1"),
    (lambda: nn.AvgPool2d(2)(lamina.randn(4, 4)), ShapeError, r"AvgPool2d: expected 3-D \(unbatched\) or 4-D"),
    (lambda: F.avg_pool2d(lamina.randn(1, 1, 4, 4), 2, divisor_override=0), ValueError, "divisor must be not zero"),
    (lambda: nn.AdaptiveAvgPool2d((2, 2, 2))(lamina.randn(1, 1, 4, 4)), ValueError,
     "AdaptiveAvgPool2d: expected output_size with 2 elements"),
    (lambda: nn.MaxUnpool2d(2)(lamina.randn(1, 1, 2, 2), lamina.tensor(np.full((1, 1, 2, 2), 99))), ValueError,
     r"max_unpool2d: expected indices in \[0, 16\)"),
])
def test_pool_errors(call, etype, match):
    with pytest.raises(etype, match=match):
        call()


def test_fast_2x2_pool_keeps_float32_and_matches_general_path():
    rng = np.random.default_rng(7)
    x = lamina.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32), requires_grad=True)
    y = F.max_pool2d(x, 2)
    y.sum().backward()
    assert y.dtype == lamina.float32 and x.grad.dtype == lamina.float32
    g1 = x.grad.numpy().copy()
    x.grad = None
    F.max_pool2d(x, 2, 2, 0, 1, False, True)[0].sum().backward()   # the indices path
    np.testing.assert_array_equal(g1, x.grad.numpy())
    assert F.avg_pool2d(x, 2).dtype == lamina.float32
