"""F.pad and the padding layers (ZeroPad, ConstantPad, ReflectionPad, ReplicationPad) against PyTorch:
values and gradients, gradchecks, errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from _layers_basic_torch_parity import compare
from lamina.errors import ShapeError
from lamina.testing import gradcheck


@pytest.mark.parametrize("mode, shape, pad", [
    ("constant", (2, 3, 4), (1, 2)), ("constant", (2, 3, 4), (1, -1, 2, 0, 0, 1)), ("constant", (5,), (-2, 3)),
    ("constant", (2, 3, 4, 5), (0, 0, 0, 0, 1, 1, 2, 2)),
    ("reflect", (2, 3, 5), (2, 4)), ("reflect", (3, 5), (1, 1)), ("reflect", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("reflect", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ("replicate", (2, 3, 4), (3, 1)), ("replicate", (2, 3, 4, 5), (2, 2, 0, 3)),
    ("replicate", (2, 4, 3, 5), (1, 0, 2, 1)),
    ("replicate", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
    ("circular", (2, 3, 4), (2, 4)), ("circular", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("circular", (2, 3, 4, 5), (-1, 2, 1, -2)),
    ("circular", (1, 2, 3, 4, 5), (1, 1, 2, 0, 1, 2)),
])
def test_pad_matches_torch(mode, shape, pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    value = 0.5 if mode == "constant" else None
    compare(lambda x: torch.nn.functional.pad(x, pad, mode=mode, value=value),
            lambda x: F.pad(x, pad, mode=mode, value=value), [rng.standard_normal(shape)], rng)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_gradcheck(mode):
    x = lamina.tensor(np.random.default_rng(1).standard_normal((1, 2, 3, 4)), requires_grad=True)
    assert gradcheck(lambda x: F.pad(x, (2, 1, -1, 2) if mode in ("constant", "circular") else (2, 1, 1, 2), mode),
                     (x,))


@pytest.mark.parametrize("name, args, shape", [
    ("ZeroPad2d", ((1, 0, 2, 1),), (2, 3, 4, 5)), ("ZeroPad2d", (2,), (3, 4, 5)),
    ("ConstantPad1d", (2, 1.5), (2, 3, 4)), ("ConstantPad1d", ((1, 3), -1.0), (3, 4)),
    ("ConstantPad2d", ((1, 2, 0, 3), 3.0), (2, 3, 4, 5)), ("ReflectionPad2d", ((2, 1, 0, 3),), (2, 3, 4, 5)),
    ("ReflectionPad2d", (1,), (3, 4, 5)), ("ReplicationPad2d", ((2, 0, 1, 3),), (2, 3, 4, 5)),
])
def test_padding_modules_match_torch(name, args, shape):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    lm, tm = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(lm) == repr(tm)
    compare(tm, lm, [rng.standard_normal(shape)], rng)


@pytest.mark.parametrize("call, etype, match", [
    (lambda: F.pad(lamina.randn(2, 3), (1, 2, 3)), ValueError, "pad: padding length must be divisible by 2"),
    (lambda: F.pad(lamina.randn(2, 3), (1, 1, 1, 1, 1, 1)), ValueError, "pad: padding length too large"),
    (lambda: F.pad(lamina.randn(1, 2, 3), (3, 0), mode="reflect"), ShapeError,
     r"pad: reflect padding expects each pad to be less than the input size at dim 2, got pads \(3, 0\)"),
    (lambda: F.pad(lamina.randn(1, 2, 3), (1, 0), mode="mirror"), ValueError, "pad: mode must be one of"),
    (lambda: F.pad(lamina.randn(3), (1, 0), mode="replicate"), NotImplementedError,
     r"pad: replicate padding of the last 1 dims expects a 2-D \(unbatched\) or 3-D"),
    (lambda: nn.ReflectionPad2d(1)(lamina.randn(4, 4)), ShapeError, r"ReflectionPad2d: expected 3-D \(unbatched\)"),
])
def test_pad_errors(call, etype, match):
    with pytest.raises(etype, match=match):
        call()
