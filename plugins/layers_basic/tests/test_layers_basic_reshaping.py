"""Reshaping layers (Flatten, Unflatten, PixelShuffle, PixelUnshuffle, ChannelShuffle) against PyTorch:
values and gradients bit for bit, repr, errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest

RESHAPE = [("Flatten", {}, (2, 3, 4, 5)), ("Flatten", {"start_dim": 0, "end_dim": 2}, (2, 3, 4, 5)),
           ("Unflatten", {"dim": 1, "unflattened_size": (3, 4)}, (2, 12, 5)),
           ("Unflatten", {"dim": -1, "unflattened_size": (2, -1)}, (2, 12)),
           ("PixelShuffle", {"upscale_factor": 2}, (2, 8, 3, 4)), ("PixelShuffle", {"upscale_factor": 3}, (9, 2, 2)),
           ("PixelShuffle", {"upscale_factor": 2}, (2, 2, 4, 3, 3)),
           ("PixelUnshuffle", {"downscale_factor": 2}, (2, 3, 4, 6)),
           ("PixelUnshuffle", {"downscale_factor": 3}, (1, 6, 6)), ("ChannelShuffle", {"groups": 3}, (2, 6, 4, 4)),
           ("ChannelShuffle", {"groups": 2}, (3, 4, 5))]


@pytest.mark.parametrize("name,kwargs,shape", RESHAPE, ids=[f"{r[0]}{r[1]}{r[2]}" for r in RESHAPE])
def test_reshaping_parity(name, kwargs, shape):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(0).standard_normal(shape)
    m, tm = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    assert repr(m) == repr(tm)
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = m(lx), tm(tx)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    y.backward(lamina.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(lx.grad.numpy(), tx.grad.numpy())


RESHAPE_ERRORS = [
    (lambda: F.pixel_shuffle(lamina.randn(1, 5, 2, 2), 2), lamina.ShapeError,
     r"pixel_shuffle: expected the channel dimension \(size\(-3\)=5\) to be divisible by upscale_factor\*\*2 = 4"),
    (lambda: F.pixel_unshuffle(lamina.randn(1, 1, 3, 4), 2), lamina.ShapeError,
     r"pixel_unshuffle: expected height and width divisible by downscale_factor=2, got size\(-2\)=3"),
    (lambda: F.pixel_shuffle(lamina.randn(4, 2), 2), lamina.ShapeError,
     r"pixel_shuffle: expected input \(\*, C, H, W\)"),
    (lambda: nn.PixelShuffle(0)(lamina.randn(1, 4, 2, 2)), ValueError, r"expected upscale_factor to be a positive"),
    (lambda: nn.ChannelShuffle(2)(lamina.randn(1, 5, 2)), lamina.ShapeError,
     r"channel_shuffle: expected the number of channels \(5\) to be divisible by groups \(2\)"),
    (lambda: nn.Unflatten(1, 6), TypeError, r"Unflatten: expected unflattened_size to be a tuple or list of ints"),
]


@pytest.mark.parametrize("call,error,match", RESHAPE_ERRORS, ids=[e[2][:30] for e in RESHAPE_ERRORS])
def test_reshaping_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
