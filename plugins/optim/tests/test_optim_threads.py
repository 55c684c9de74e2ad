"""Adam/AdamW and SGD updates cut into pieces for the backend's ``parallel_for``: after several steps the
parameters and state are bitwise equal at 1 and 2 threads, and equal to the unsplit update (one call on the
whole arrays), for parameters below and above the split threshold and a non-contiguous gradient."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina_optim import _common
from lamina_optim.fused import adam_update_, sgd_update_

SHAPES = [(300,), (_common.SPLIT_MIN + 7,), (3, 150000)]
CASES = [
    ("Adam", {"lr": 1e-2}),
    ("Adam", {"lr": 1e-2, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
    ("AdamW", {"lr": 1e-2, "weight_decay": 0.1}),
    ("SGD", {"lr": 1e-2, "momentum": 0.9, "nesterov": True, "weight_decay": 0.1}),
    ("SGD", {"lr": 1e-2, "momentum": 0.9, "dampening": 0.3, "maximize": True}),
]


def _run(name: str, kwargs: dict, threads: int, steps: int = 4) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    params = [lamina.tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in SHAPES]
    opt = getattr(lamina.optim, name)(params, **kwargs)
    before = lamina.get_num_threads()
    try:
        lamina.set_num_threads(threads)
        for _ in range(steps):
            for p in params:
                p.grad = lamina.tensor(rng.standard_normal(p.shape).astype(np.float32))
            opt.step()
    finally:
        lamina.set_num_threads(before)
    out = [p.detach().numpy().copy() for p in params]
    for p in params:
        out += [v.numpy().copy() for v in opt.state[p].values() if isinstance(v, lamina.Tensor) and v.ndim]
    return out


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda c: str(c))
def test_update_bits_do_not_depend_on_threads(name, kwargs):
    a, b = _run(name, kwargs, 1), _run(name, kwargs, 2)
    assert len(a) == len(b) > len(SHAPES)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


class _Spy:
    """A backend stand-in whose ``parallel_for`` runs the pieces of ``chunks`` in reverse order."""

    def __init__(self) -> None:
        self.calls = 0

    def parallel_for(self, n, fn, grain=1):
        self.calls += 1
        return [fn(s, e) for s, e in reversed(lamina.backends.Backend.chunks(n, grain))][::-1]


@pytest.mark.parametrize("n", [1000, _common.SPLIT_MIN, 5 * _common.PIECE + 3])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_split_adam_and_sgd_equal_the_unsplit_update(n, amsgrad):
    rng = np.random.default_rng(2)
    x, g, m, v = (rng.standard_normal(n).astype(np.float32) for _ in range(4))
    v = v * v
    vmax = v + 0.5 if amsgrad else None
    hyper = (1e-2, 0.9, 0.999, 1e-8, 0.1, 3.0, amsgrad, False, True)
    ref = [a.copy() if a is not None else None for a in (x, m, v, vmax)]
    adam_update_(np, ref[0], g, ref[1], ref[2], ref[3], *hyper)
    spy = _Spy()
    got = [a.copy() if a is not None else None for a in (x, m, v, vmax)]
    adam_update_(np, got[0], g, got[1], got[2], got[3], *hyper, backend=spy)
    assert spy.calls == (n >= _common.SPLIT_MIN)
    for r, o in zip(ref, got):
        if r is not None:
            np.testing.assert_array_equal(r, o)
    bufs = [m.copy(), m.copy()]
    xs = [x.copy(), x.copy()]
    sgd_update_(np, xs[0], g, bufs[0], 1e-2, 0.9, 0.1, 0.01, True, False, False)
    sgd_update_(np, xs[1], g, bufs[1], 1e-2, 0.9, 0.1, 0.01, True, False, False, backend=spy)
    np.testing.assert_array_equal(xs[0], xs[1])
    np.testing.assert_array_equal(bufs[0], bufs[1])
    assert np.any(xs[0] != x)


def test_non_contiguous_gradient_is_one_call():
    spy = _Spy()
    n = 2 * _common.SPLIT_MIN
    g = np.ones(2 * n, dtype=np.float32)[::2]
    x, buf = np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32)
    sgd_update_(np, x, g, buf, 0.5, 0.9, 0.0, 0.0, False, False, True, backend=spy)
    assert spy.calls == 0
    np.testing.assert_array_equal(x, -0.5 * np.ones(n, dtype=np.float32))
