"""F.linear and F.gelu in bfloat16/float16 against torch 2.13 bit for bit: torch computes in float32 and rounds
once. lamina-layers-basic (owned by another helper at the time of writing) still rounds twice, hence strict
xfails; found through tests/programs/gradscaler_loop.py --amp (autocast bfloat16). Inputs are multiples of 1/8
so that float32 sums are exact and no accumulation order can change a rounding."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch


def _arrays(*shapes):
    rng = np.random.default_rng(0)
    return [(rng.integers(-256, 257, s) / 8).astype(np.float32) for s in shapes]


@pytest.mark.xfail(strict=True, reason="lamina-layers-basic Linear_ rounds x @ w.T to the low-precision dtype, "
                                       "then adds the bias and rounds again; torch rounds once")
@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_linear_rounds_once(dtype):
    x, w, b = _arrays((16, 7), (12, 7), (12,))
    outs = [lib.nn.functional.linear(*(lib.tensor(a).to(getattr(lib, dtype)) for a in (x, w, b))).float().numpy()
            for lib in (torch, lamina)]
    np.testing.assert_array_equal(outs[1], outs[0])


def test_linear_without_bias_already_matches():
    x, w = _arrays((16, 7), (12, 7))
    outs = [lib.nn.functional.linear(*(lib.tensor(a).to(lib.bfloat16) for a in (x, w))).float().numpy()
            for lib in (torch, lamina)]
    np.testing.assert_array_equal(outs[1], outs[0])


@pytest.mark.xfail(strict=True, reason="lamina-layers-basic gelu computes its intermediates in bfloat16; torch "
                                       "computes in float32 and rounds once (differs in ~5% of elements)")
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_bfloat16_rounds_once(approximate):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(4096) * 3).astype(np.float32)
    outs = [lib.nn.functional.gelu(lib.tensor(x).to(lib.bfloat16), approximate=approximate).float().numpy()
            for lib in (torch, lamina)]
    np.testing.assert_array_equal(outs[1], outs[0])
