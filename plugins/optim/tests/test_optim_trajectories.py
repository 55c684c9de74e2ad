"""20-step trajectories against PyTorch: same initial parameters, same gradient fed at every step."""

from __future__ import annotations

import lamina
import lamina.optim as optim
import numpy as np
import pytest
from _optim_grid import GRID, grid_id

torch = pytest.importorskip("torch")

SHAPES = ((4, 3), (5,), ())
STEPS = 20
TOL = {"float32": (1e-5, 1e-6), "float64": (1e-10, 1e-12)}


def _data(seed: int, dtype: str):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(dtype) for s in SHAPES] for _ in range(STEPS)]
    # a parameter that gets no gradient on some steps (grad None) must be skipped, as in torch
    for k in (3, 7):
        grads[k][1] = None
    return init, grads


def run_lamina(name, kw, init, grads):
    params = [lamina.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(optim, name)(params, **kw)
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = None if g is None else lamina.tensor(g)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt


def run_torch(name, kw, init, grads):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt = getattr(torch.optim, name)(params, **kw)
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = None if g is None else torch.tensor(g)
        opt.step()
        out.append([p.detach().numpy().copy() for p in params])
    return out, opt


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("entry", GRID, ids=[grid_id(e) for e in GRID])
def test_trajectory_matches_torch(entry, dtype):
    name, kw = entry
    init, grads = _data(7, dtype)
    got, opt = run_lamina(name, kw, init, grads)
    want, topt = run_torch(name, kw, init, grads)
    rtol, atol = TOL[dtype]
    for k, (a, b) in enumerate(zip(got, want)):
        for i, (x, y) in enumerate(zip(a, b)):
            assert x.dtype == np.dtype(dtype), f"{name}: parameter {i} changed dtype to {x.dtype}"
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol, err_msg=f"{name}{kw}: param {i} step {k + 1}")
    # the state has PyTorch's keys, dtypes and values
    for p_l, p_t in zip(opt.param_groups[0]["params"], topt.param_groups[0]["params"]):
        s_l, s_t = opt.state[p_l], topt.state[p_t]
        assert sorted(s_l) == sorted(s_t)
        for key, v in s_t.items():
            if isinstance(v, torch.Tensor):
                w = s_l[key]
                assert str(w.dtype).split(".")[-1] == str(v.dtype).split(".")[-1], key
                assert tuple(w.shape) == tuple(v.shape), key
                np.testing.assert_allclose(w.numpy(), v.numpy(), rtol=rtol * 10, atol=atol * 10, err_msg=key)
