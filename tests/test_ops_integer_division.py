"""Integer floor/trunc division, remainder and fmod are exact (not through floats), as torch's."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
import torch


@pytest.mark.parametrize("dt", ["int8", "int16", "int32", "int64", "uint8"])
@pytest.mark.parametrize("op", ["floor", "trunc", "remainder", "fmod"])
def test_integer_division_is_exact(dt, op):
    rng = np.random.default_rng(0)
    info = np.iinfo(dt)
    x = rng.integers(max(info.min, -2**62), min(info.max, 2**62), 300, dtype=dt)
    y = rng.integers(max(info.min, -100), min(info.max, 100), 300, dtype=dt)
    y[y == 0] = 3
    x[:2] = [info.max, info.max - 1]  # large values floats cannot hold (int32 > 2**24, int64 > 2**53)

    def run(m, a, b):
        if op in ("floor", "trunc"):
            return m.div(a, b, rounding_mode=op)
        return getattr(m, op)(a, b)

    ours, theirs = run(lamina, lamina.tensor(x), lamina.tensor(y)), run(torch, torch.tensor(x), torch.tensor(y))
    assert ours.dtype == getattr(lamina, dt) and np.array_equal(ours.numpy(), theirs.numpy())


def test_floordiv_operator_and_scalars_match_torch():
    for a, b in [([16777217], 1), ([2**31 - 2], 2**23), ([-7, 7], 2), ([-7, 7], -2)]:
        assert (lamina.tensor(a, dtype=lamina.int64) // b).tolist() == (torch.tensor(a) // b).tolist()
    assert (7 // lamina.tensor([-2, 3])).tolist() == (7 // torch.tensor([-2, 3])).tolist()
    assert (lamina.tensor([7]) // 2.0).dtype == lamina.float32


def test_integer_division_by_zero_raises_as_torch():
    for m in (lamina, torch):
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            m.tensor([1, 2]) // m.tensor([1, 0])
        with pytest.raises(RuntimeError, match="ZeroDivisionError"):
            m.remainder(m.tensor([1]), 0)
