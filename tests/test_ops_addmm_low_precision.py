"""addmm / addmv / baddbmm in float16 and bfloat16 round once, as torch 2.13's CPU kernels: the product and the
scaled input are summed in float32 and the result cast back (a low-precision product, then a low-precision add,
would round twice and differ from torch in about a quarter of the elements). Found through
tests/programs/gradscaler_loop.py --amp (autocast bfloat16)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch

SHAPES = {  # name -> (input, operand shapes)
    "addmm": ((16, 12), ((16, 7), (7, 12))),
    "addmv": ((16,), ((16, 9), (9,))),
    "baddbmm": ((3, 5, 6), ((3, 5, 8), (3, 8, 6))),
}


def _arrays(name, seed=0):
    rng = np.random.default_rng(seed)
    shape_in, shapes = SHAPES[name]
    # multiples of 1/8: every float32 sum of products is exact, so no accumulation order can change a rounding
    # and the comparison can be bitwise; the values still need more bits than float16/bfloat16 hold
    return [(rng.integers(-256, 257, s) / 8).astype(np.float32) for s in (shape_in, *shapes)]


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("beta,alpha", [(1, 1), (0.5, 2.0), (0, 1)])
def test_low_precision_matches_torch_bitwise(name, dtype, beta, alpha):
    arrays = _arrays(name)
    got = []
    for lib in (torch, lamina):
        ts = [lib.tensor(a).to(getattr(lib, dtype)).requires_grad_() for a in arrays]
        y = getattr(lib, name)(*ts, beta=beta, alpha=alpha)
        assert str(y.dtype).split(".")[-1] == dtype
        (y.float() * lib.tensor(np.arange(y.numel(), dtype=np.float32) % 7 - 3).reshape(y.shape)).sum().backward()
        got.append([y.detach().float().numpy()] + [t.grad.float().numpy() for t in ts])
    for a, b in zip(got[0], got[1]):
        np.testing.assert_array_equal(b, a)


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_out_and_float32_unchanged(name):
    arrays = _arrays(name, seed=1)
    t = getattr(torch, name)(*(torch.tensor(a) for a in arrays))
    lo = lamina.empty(tuple(t.shape), dtype=lamina.bfloat16)
    res = getattr(lamina, name)(*(lamina.tensor(a).to(lamina.bfloat16) for a in arrays), out=lo)
    assert res is lo
    tb = getattr(torch, name)(*(torch.tensor(a).to(torch.bfloat16) for a in arrays))
    np.testing.assert_array_equal(lo.float().numpy(), tb.float().numpy())
    l32 = getattr(lamina, name)(*(lamina.tensor(a) for a in arrays))
    assert l32.dtype == lamina.float32
    np.testing.assert_allclose(l32.numpy(), t.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dt", ["float16", "bfloat16"])
@pytest.mark.parametrize("fn", ["softmax", "sigmoid"])
def test_softmax_and_sigmoid_round_once_as_torch(dt, fn):
    """float16 too (not only bfloat16): computed in float32 and rounded once, bit for bit torch's."""
    a = (np.random.default_rng(0).standard_normal((64, 33)) * 3).astype(np.float32)

    def run(m):
        x = m.tensor(a).to(getattr(m, dt))
        return (m.softmax(x, -1) if fn == "softmax" else m.sigmoid(x)).float().numpy()

    np.testing.assert_array_equal(run(lamina), run(torch))
