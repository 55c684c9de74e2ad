"""state_dict round trips (deepcopy and lamina.save/load), resuming from PyTorch's state, step hooks."""

from __future__ import annotations

import copy
import io

import lamina
import lamina.optim as optim
import numpy as np
import pytest
from _optim_grid import GRID, grid_id

SHAPES = ((4, 3), (5,))
# one configuration per optimizer with every state key in use
RICH = [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
        ("AdamW", dict(lr=0.01)), ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01)), ("RAdam", dict(lr=0.01)),
        ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adagrad", dict(lr=0.1)),
        ("Adadelta", dict()), ("ASGD", dict(lr=0.05, t0=2.0)), ("Rprop", dict(lr=0.01))]


def _grads(step, dtype="float32"):
    rng = np.random.default_rng(100 + step)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def _params(dtype="float32"):
    rng = np.random.default_rng(0)
    return [lamina.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]


def _steps(opt, params, start, stop):
    for k in range(start, stop):
        for p, g in zip(params, _grads(k, str(params[0].dtype).split(".")[-1])):
            p.grad = lamina.tensor(g)
        opt.step()


def _save_load(sd):
    buf = io.BytesIO()
    lamina.save(sd, buf)
    buf.seek(0)
    return lamina.load(buf)


@pytest.mark.parametrize("how", ["deepcopy", "lamina.save"])
@pytest.mark.parametrize("entry", GRID, ids=[grid_id(e) for e in GRID])
def test_state_dict_round_trip_continues_bitwise(entry, how):
    name, kw = entry
    a = _params()
    opt_a = getattr(optim, name)(a, **kw)
    _steps(opt_a, a, 0, 4)
    sd = copy.deepcopy(opt_a.state_dict()) if how == "deepcopy" else _save_load(opt_a.state_dict())
    b = [p.detach().clone().requires_grad_() for p in a]
    opt_b = getattr(optim, name)(b, **kw)
    opt_b.load_state_dict(sd)
    _steps(opt_a, a, 4, 9)
    _steps(opt_b, b, 4, 9)
    for p, q in zip(a, b):
        assert np.array_equal(p.detach().numpy(), q.detach().numpy())


def test_lbfgs_state_round_trip():
    def run(opt, x, n):
        for _ in range(n):
            def closure():
                opt.zero_grad()
                loss = ((x - 1) ** 4).sum() + (x ** 2).sum()
                loss.backward()
                return loss
            opt.step(closure)

    x = lamina.tensor([1.5, -2.0, 0.3], dtype=lamina.float64, requires_grad=True)
    opt = optim.LBFGS([x], max_iter=3, history_size=2, line_search_fn="strong_wolfe")
    run(opt, x, 2)
    sd = _save_load(opt.state_dict())
    y = x.detach().clone().requires_grad_()
    opt_y = optim.LBFGS([y], max_iter=3, history_size=2, line_search_fn="strong_wolfe")
    opt_y.load_state_dict(sd)
    run(opt, x, 2)
    run(opt_y, y, 2)
    assert np.array_equal(x.detach().numpy(), y.detach().numpy())



def _to_lamina(v):
    import torch

    if isinstance(v, torch.Tensor):
        return lamina.tensor(v.detach().numpy().copy())
    if isinstance(v, dict):
        return {k: _to_lamina(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_to_lamina(x) for x in v)
    return v


@pytest.mark.parametrize("entry", RICH, ids=[grid_id(e) for e in RICH])
def test_loading_torch_state_continues_torch_trajectory(entry):
    torch = pytest.importorskip("torch")
    name, kw = entry
    rng = np.random.default_rng(3)
    init = [rng.standard_normal(s).astype("float32") for s in SHAPES]
    tp = [torch.tensor(x, requires_grad=True) for x in init]
    topt = getattr(torch.optim, name)(tp, **kw)
    for k in range(5):
        for p, g in zip(tp, _grads(k)):
            p.grad = torch.tensor(g)
        topt.step()
    lp = [lamina.tensor(p.detach().numpy().copy(), requires_grad=True) for p in tp]
    lopt = getattr(optim, name)(lp, **kw)
    lopt.load_state_dict(_to_lamina(topt.state_dict()))
    for k in range(5, 12):
        for p, g in zip(tp, _grads(k)):
            p.grad = torch.tensor(g)
        topt.step()
    _steps(lopt, lp, 5, 12)
    for p, q in zip(lp, tp):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert sorted(lopt.state_dict()["param_groups"][0]) == sorted(topt.state_dict()["param_groups"][0])


def test_state_dict_layout_matches_torch_keys_and_step_dtype():
    a = _params()
    opt = optim.Adam(a, lr=0.01, amsgrad=True)
    _steps(opt, a, 0, 2)
    sd = opt.state_dict()
    assert sorted(sd["state"]) == [0, 1]
    st = sd["state"][0]
    assert sorted(st) == ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"]
    assert st["step"].dtype == lamina.float32 and st["step"].shape == () and float(st["step"]) == 2.0
    assert sd["param_groups"][0]["params"] == [0, 1]


def test_float64_params_keep_float64_state_and_float32_step():
    a = _params("float64")
    opt = optim.Adam(a, lr=0.01)
    _steps(opt, a, 0, 1)
    st = opt.state[a[0]]
    assert st["exp_avg"].dtype == lamina.float64 and st["step"].dtype == lamina.float32


def test_step_hooks_fire_in_order_and_can_be_removed():
    a = _params()
    opt = optim.SGD(a, lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    _steps(opt, a, 0, 1)
    assert calls == [("pre", True), ("post", True)]
    h1.remove()
    h2.remove()
    _steps(opt, a, 1, 2)
    assert len(calls) == 2


def test_global_step_hooks_fire_for_plugin_optimizers():
    from lamina.optim.optimizer import register_optimizer_step_post_hook, register_optimizer_step_pre_hook

    a = _params()
    opt = optim.Adam(a, lr=0.1)
    seen = []
    with register_optimizer_step_pre_hook(lambda o, *_: seen.append("pre")), \
            register_optimizer_step_post_hook(lambda o, *_: seen.append("post")):
        opt.register_step_pre_hook(lambda o, *_: seen.append("inst-pre"))
        _steps(opt, a, 0, 1)
    assert seen == ["pre", "inst-pre", "post"]


def test_pre_hook_sees_parameters_before_and_post_hook_after_update():
    a = _params()
    opt = optim.SGD(a, lr=0.5)
    before, after = [], []
    opt.register_step_pre_hook(lambda o, *_: before.append(a[1].detach().numpy().copy()))
    opt.register_step_post_hook(lambda o, *_: after.append(a[1].detach().numpy().copy()))
    _steps(opt, a, 0, 1)
    np.testing.assert_allclose(after[0], before[0] - 0.5 * _grads(0)[1], rtol=1e-6)
