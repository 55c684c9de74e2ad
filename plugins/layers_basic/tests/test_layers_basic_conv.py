"""Conv*d and ConvTranspose*d: PyTorch parity over a grid, gradchecks, errors, init, repr."""

from __future__ import annotations

import itertools
import math

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare, copy_params
from lamina.errors import ShapeError
from lamina.testing import gradcheck

# PyTorch's own warning about its internal copy for even 'same' kernels; not ours
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning")

SIZES = {1: (9,), 2: (7, 6), 3: (5, 6, 6)}
KERNELS = {1: (3,), 2: (3, 2), 3: (2, 3, 2)}

CONV_GRID = [
    dict(stride=s, padding=p, dilation=d, groups=g)
    for s, p, d, g in itertools.product([1, 2], [0, 1, "same", "valid"], [1, 2], [1, 2])
    if not (p == "same" and s > 1)
]


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("cfg", CONV_GRID, ids=str)
def test_conv_functional_matches_torch(n, cfg):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 4) + SIZES[n])
    w = rng.standard_normal((6, 4 // cfg["groups"]) + KERNELS[n])
    b = rng.standard_normal(6)
    compare(lambda *a: getattr(torch.nn.functional, f"conv{n}d")(*a, **cfg),
            lambda *a: getattr(F, f"conv{n}d")(*a, **cfg), [x, w, b], rng)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("batch", [0, 1, 3, None])
def test_conv_module_padding_modes_match_torch(mode, n, batch):
    torch = pytest.importorskip("torch")
    if batch == 0 and mode != "zeros":
        pytest.skip("PyTorch's non-constant F.pad rejects an empty batch")
    rng = np.random.default_rng(2)
    lamina.manual_seed(0)
    kw = dict(kernel_size=3, padding=(1, 2, 1)[:n] if n > 1 else 2, padding_mode=mode, stride=1, dilation=1)
    lm = getattr(nn, f"Conv{n}d")(4, 6, groups=2, dtype=lamina.float64, **kw)
    tm = getattr(torch.nn, f"Conv{n}d")(4, 6, groups=2, dtype=torch.float64, **kw)
    copy_params(lm, tm)
    shape = ((batch,) if batch is not None else ()) + (4,) + SIZES[n]
    compare(tm, lm, [rng.standard_normal(shape)], rng, lmod=lm if batch != 0 else None, tmod=tm)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_conv_float32_matches_torch(n):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    lm = getattr(nn, f"Conv{n}d")(3, 5, 3, padding=1, stride=2)
    tm = getattr(torch.nn, f"Conv{n}d")(3, 5, 3, padding=1, stride=2)
    copy_params(lm, tm)
    x = rng.standard_normal((2, 3) + SIZES[n]).astype(np.float32)
    compare(tm, lm, [x], rng, tol=F32, lmod=lm, tmod=tm)
    assert lm(lamina.tensor(x)).dtype == lamina.float32


def test_depthwise_conv_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 6, 8, 7)), rng.standard_normal((12, 1, 3, 3)), rng.standard_normal(12)
    compare(lambda *a: torch.nn.functional.conv2d(*a, stride=2, padding=1, groups=6),
            lambda *a: F.conv2d(*a, stride=2, padding=1, groups=6), [x, w, b], rng)


CT_GRID = [dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g)
           for s, p, op, d, g in itertools.product([1, 2, 3], [0, 1], [0, 1], [1, 2], [1, 2])
           if op < s or op < d]


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("cfg", CT_GRID, ids=str)
def test_conv_transpose_functional_matches_torch(n, cfg):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4) + tuple(s // 2 + 1 for s in SIZES[n]))
    w = rng.standard_normal((4, 6 // cfg["groups"]) + KERNELS[n])
    b = rng.standard_normal(6)
    compare(lambda *a: getattr(torch.nn.functional, f"conv_transpose{n}d")(*a, **cfg),
            lambda *a: getattr(F, f"conv_transpose{n}d")(*a, **cfg), [x, w, b], rng)


@pytest.mark.parametrize("batch", [0, 1, None])
def test_conv_transpose_module_output_size_matches_torch(batch):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    lm = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=lamina.float64)
    tm = torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=torch.float64)
    copy_params(lm, tm)
    shape = ((batch,) if batch is not None else ()) + (3, 4, 5)
    compare(lambda x: tm(x, output_size=(8, 10)), lambda x: lm(x, output_size=(8, 10)),
            [rng.standard_normal(shape)], rng, lmod=lm if batch else None, tmod=tm)
    assert tuple(lm(lamina.randn(*shape, dtype=lamina.float64)).shape[-2:]) == (7, 9)


@pytest.mark.parametrize("fn, w_shape, kw", [
    (F.conv1d, (4, 1, 3), dict(stride=2, padding=1, groups=2)),
    (F.conv2d, (3, 2, 2, 3), dict(padding="same", dilation=(2, 1))),
    (F.conv3d, (2, 2, 2, 2, 1), dict(stride=(1, 2, 1))),
    (F.conv_transpose1d, (2, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    (F.conv_transpose2d, (2, 2, 2, 3), dict(stride=(2, 1), dilation=2, groups=2)),
    (F.conv_transpose3d, (2, 1, 2, 2, 2), dict(stride=2)),
])
def test_conv_gradcheck(fn, w_shape, kw):
    rng = np.random.default_rng(7)
    n = len(w_shape) - 2
    x = lamina.tensor(rng.standard_normal((2, 2) + (5, 4, 3)[:n]), requires_grad=True)
    w = lamina.tensor(rng.standard_normal(w_shape), requires_grad=True)
    bias_len = w_shape[1] * kw.get("groups", 1) if fn.__name__.startswith("conv_t") else w_shape[0]
    b = lamina.tensor(rng.standard_normal(bias_len), requires_grad=True)
    assert gradcheck(lambda x, w, b: fn(x, w, b, **kw), (x, w, b))


def test_conv_padding_mode_gradcheck():
    rng = np.random.default_rng(8)
    m = nn.Conv2d(2, 2, 3, padding=(1, 2), padding_mode="reflect", dtype=lamina.float64)
    x = lamina.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda x, w: F.conv2d(F.pad(x, (2, 2, 1, 1), mode="reflect"), w), (x, m.weight))
    assert gradcheck(m, (x,))


@pytest.mark.parametrize("make, call, match, etype", [
    (lambda: nn.Conv2d(3, 8, 3), lambda m: m(lamina.randn(1, 4, 5, 5)),
     r"Conv2d: expected input with 3 channels \(in_channels\), got 4", ShapeError),
    (lambda: nn.Conv2d(3, 8, 3), lambda m: m(lamina.randn(5, 5)), r"Conv2d: expected 3-D \(unbatched\) or 4-D",
     ShapeError),
    (lambda: nn.Conv2d(3, 8, 3), lambda m: m(lamina.randn(1, 3, 2, 2)),
     r"Conv2d: expected padded input size per channel \(2, 2\) to be at least the dilated kernel size \(3, 3\)",
     ShapeError),
    (lambda: nn.Conv1d(3, 8, 3), lambda m: m(lamina.randn(1, 3, 5, dtype=lamina.float64)),
     r"Conv1d: expected weight and bias of the input's dtype", TypeError),
    (lambda: nn.Conv2d(4, 6, 3, groups=3), None, "in_channels must be divisible by groups", ValueError),
    (lambda: nn.Conv2d(4, 6, 3, groups=4), None, "out_channels must be divisible by groups", ValueError),
    (lambda: nn.Conv2d(4, 6, 3, groups=0), None, "groups must be a positive integer", ValueError),
    (lambda: nn.Conv2d(4, 6, 3, padding_mode="mirror"), None,
     r"padding_mode must be one of \('zeros', 'reflect', 'replicate', 'circular'\), but got padding_mode='mirror'",
     ValueError),
    (lambda: nn.Conv2d(4, 6, 3, padding="same", stride=2), None,
     "padding='same' is not supported for strided convolutions", ValueError),
    (lambda: nn.Conv2d(4, 6, 3, padding="full"), None, r"invalid padding string 'full'", ValueError),
    (lambda: nn.ConvTranspose2d(4, 6, 3, padding_mode="reflect"), None, 'only "zeros" padding mode', ValueError),
    (lambda: nn.ConvTranspose2d(4, 6, 3, output_padding=1), lambda m: m(lamina.randn(1, 4, 3, 3)),
     "output padding must be smaller than either stride or dilation", ValueError),
    (lambda: nn.ConvTranspose2d(4, 6, 3, stride=2), lambda m: m(lamina.randn(1, 4, 3, 3), output_size=(10, 7)),
     "requested an output size of", ValueError),
    (lambda: nn.ConvTranspose1d(4, 6, 3), lambda m: m(lamina.randn(1, 5, 3)),
     r"ConvTranspose1d: expected input with 4 channels \(in_channels\), got 5", ShapeError),
])
def test_conv_errors(make, call, match, etype):
    with pytest.raises(etype, match=match):
        m = make()
        call(m)


def test_functional_conv_error_names_function():
    with pytest.raises(ShapeError, match=r"conv2d: expected input with 6 channels \(in_channels\), got 3"):
        F.conv2d(lamina.randn(1, 3, 5, 5), lamina.randn(4, 3, 3, 3), groups=2)


@pytest.mark.parametrize("make, fan_in, wshape", [
    (lambda: nn.Conv2d(6, 8, (3, 2), groups=2), 3 * 6, (8, 3, 3, 2)),
    (lambda: nn.Conv1d(4, 5, 7), 4 * 7, (5, 4, 7)),
    (lambda: nn.ConvTranspose2d(6, 8, 3, groups=2), 4 * 9, (6, 4, 3, 3)),
    (lambda: nn.Conv3d(2, 64, 3), 2 * 27, (64, 2, 3, 3, 3)),
])
def test_conv_default_init_is_uniform_with_torch_bound(make, fan_in, wshape):
    lamina.manual_seed(0)
    m = make()
    assert tuple(m.weight.shape) == wshape
    bound = 1 / math.sqrt(fan_in)
    w, b = m.weight.detach().numpy(), m.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.8 * bound                      # spread over the interval, not a narrower one
    if w.size > 1000:
        assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert list(m.state_dict()) == ["weight", "bias"]


def test_conv_repr_matches_torch():
    torch = pytest.importorskip("torch")
    pairs = [
        (dict(in_channels=3, out_channels=8, kernel_size=3), 2),
        (dict(in_channels=4, out_channels=8, kernel_size=(3, 1), stride=2, padding=1, dilation=2, groups=2,
              bias=False, padding_mode="reflect"), 2),
        (dict(in_channels=3, out_channels=8, kernel_size=3, padding="same"), 1),
        (dict(in_channels=3, out_channels=8, kernel_size=2, padding="valid"), 3),
    ]
    for kw, n in pairs:
        assert repr(getattr(nn, f"Conv{n}d")(**kw)) == repr(getattr(torch.nn, f"Conv{n}d")(**kw))
    kw = dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, output_padding=1, groups=2, dilation=2)
    assert repr(nn.ConvTranspose2d(**kw)) == repr(torch.nn.ConvTranspose2d(**kw))
    assert repr(nn.ConvTranspose3d(2, 2, 1, bias=False)) == repr(torch.nn.ConvTranspose3d(2, 2, 1, bias=False))


def test_conv_no_grad_records_no_graph_and_keeps_float32():
    m = nn.Conv2d(2, 3, 3)
    with lamina.no_grad():
        y = m(lamina.randn(1, 2, 5, 5))
    assert y.grad_fn is None and y.dtype == lamina.float32
