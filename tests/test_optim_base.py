"""lamina.optim.Optimizer: parameter groups, state dicts, hooks around step, against PyTorch's base."""

from __future__ import annotations

import copy
import pickle

import lamina
import numpy as np
import pytest
from lamina import hooks, optim
from lamina.optim.optimizer import (
    Optimizer,
    check_range,
    register_optimizer_step_post_hook,
    register_optimizer_step_pre_hook,
    required,
)


def _sgd_class(lib, base, validate):
    """A plain SGD with momentum, only to exercise the base (the real one is a plugin), written once
    and built on either framework's ``Optimizer``."""

    class SGD(base):
        def __init__(self, params, lr=validate.required, momentum=0.0):
            validate(lr, momentum)
            super().__init__(params, {"lr": lr, "momentum": momentum})

        @lib.no_grad()
        def step(self, closure=None):
            loss = None
            if closure is not None:
                with lib.enable_grad():
                    loss = closure()
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    d = p.grad
                    if group["momentum"]:
                        state = self.state[p]
                        if "momentum_buffer" not in state:
                            state["momentum_buffer"] = d.clone()
                        else:
                            state["momentum_buffer"].mul_(group["momentum"]).add_(d)
                        d = state["momentum_buffer"]
                        state["step"] = state.get("step", 0) + 1
                    p.add_(d, alpha=-group["lr"])
            return loss

    SGD.__qualname__ = "SGD"  # the lamina one is this module's SGD, so pickle finds it
    return SGD


def _lamina_validate(lr, momentum):
    if lr is not required:
        check_range("learning rate", lr)
    check_range("momentum value", momentum)


_lamina_validate.required = required
SGD = _sgd_class(lamina, Optimizer, _lamina_validate)


def torch_sgd_class(torch):
    import torch.optim.optimizer as toptim

    def validate(lr, momentum):
        if lr is not toptim.required and not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")

    validate.required = toptim.required
    return _sgd_class(torch, torch.optim.Optimizer, validate)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def make_params(seed=0, shapes=((3,), (2, 2), (4,))):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def lamina_params(arrays):
    return [lamina.tensor(a.copy(), requires_grad=True) for a in arrays]


def torch_params(torch, arrays):
    return [torch.tensor(a.copy(), requires_grad=True) for a in arrays]


def train(params, opt, steps):
    for i in range(steps):
        opt.zero_grad()
        loss = sum(((p * p).sum() * (i + 1) + p.sum()) for p in params)
        loss.backward()
        opt.step()


def strip_params(groups):
    return [{k: v for k, v in g.items() if k != "params"} for g in groups]


# --- construction and parameter groups --------------------------------------------------------
def test_param_groups_match_pytorch(torch):
    arrays = make_params()
    lp, tp = lamina_params(arrays), torch_params(torch, arrays)
    TorchSGD = torch_sgd_class(torch)
    for build in (lambda P, cls: cls(P, lr=0.1),
                  lambda P, cls: cls([{"params": P[:2]}, {"params": P[2:], "lr": 0.5, "momentum": 0.9}], lr=0.1)):
        lo, to = build(lp, SGD), build(tp, TorchSGD)
        assert strip_params(lo.param_groups) == strip_params(to.param_groups)
        assert [len(g["params"]) for g in lo.param_groups] == [len(g["params"]) for g in to.param_groups]
        assert lo.defaults == to.defaults
        assert repr(lo) == repr(to)


def test_named_parameters_match_pytorch(torch):
    arrays = make_params()
    lo = SGD(list(zip("abc", lamina_params(arrays))), lr=0.1)
    to = torch_sgd_class(torch)(list(zip("abc", torch_params(torch, arrays))), lr=0.1)
    assert lo.param_groups[0]["param_names"] == to.param_groups[0]["param_names"] == ["a", "b", "c"]
    assert all(isinstance(p, lamina.Tensor) for p in lo.param_groups[0]["params"])
    assert strip_params(lo.state_dict()["param_groups"]) == strip_params(to.state_dict()["param_groups"])


CONSTRUCTION_ERRORS = [
    ("tensor", lambda P: P[0], {"lr": 0.1}),
    ("empty", lambda P: [], {"lr": 0.1}),
    ("set", lambda P: [{"params": set(P)}], {"lr": 0.1}),
    ("two groups", lambda P: [{"params": P[:2]}, {"params": P[1:]}], {"lr": 0.1}),
    ("required lr", lambda P: P, {}),
    ("not a tensor", lambda P: [P[0], 3.0], {"lr": 0.1}),
    ("negative lr", lambda P: P, {"lr": -1}),
    ("missing names", lambda P: [("a", P[0]), P[1]], {"lr": 0.1}),
]


@pytest.mark.parametrize("case", CONSTRUCTION_ERRORS, ids=[c[0] for c in CONSTRUCTION_ERRORS])
def test_construction_errors_match_pytorch(torch, case):
    _, make, kwargs = case
    arrays = make_params()
    with pytest.raises(Exception) as expected:
        torch_sgd_class(torch)(make(torch_params(torch, arrays)), **kwargs)
    with pytest.raises(type(expected.value)) as got:
        SGD(make(lamina_params(arrays)), **kwargs)
    assert str(got.value).split(",")[0] == str(expected.value).split(",")[0]


def test_invalid_learning_rate_message():
    with pytest.raises(ValueError, match=r"^Invalid learning rate: -1$"):
        SGD(lamina_params(make_params()), lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 0: 1.0"):
        check_range("beta parameter at index 0", 1.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="Invalid epsilon value: nan"):
        check_range("epsilon value", float("nan"))
    check_range("beta parameter at index 0", 0.9, 0.0, 1.0)


def test_a_set_of_parameters_is_rejected():
    # PyTorch rejects a set only inside a group dict; lamina rejects it at the top level too (its order
    # changes between runs, so would the state_dict's parameter numbering)
    with pytest.raises(TypeError, match="ordered collections"):
        SGD(set(lamina_params(make_params())), lr=0.1)


def test_non_leaf_rejected():
    x = lamina.randn(3, requires_grad=True)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        SGD([x * 2], lr=0.1)


def test_add_param_group_fills_defaults_and_rejects_overlap():
    a, b, c = lamina_params(make_params())
    opt = SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1] == {"params": [b], "lr": 0.01, "momentum": 0.5}
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [c, a]})
    assert len(opt.param_groups) == 2
    with pytest.warns(UserWarning, match="duplicate parameters"):
        opt.add_param_group({"params": [c, c]})


def test_state_is_keyed_by_identity():
    a = lamina.zeros(3, requires_grad=True)
    b = lamina.zeros(3, requires_grad=True)  # equal values, different tensors
    opt = SGD([a, b], lr=0.1)
    opt.state[a]["x"] = 1
    assert b not in opt.state and a in opt.state
    assert opt.state[b] == {} and opt.state[a] == {"x": 1}
    assert len(opt.state) == 2


def test_zero_grad():
    a, b, _ = lamina_params(make_params())
    opt = SGD([a, b], lr=0.1)
    (a.sum() + b.sum()).backward()
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and np.all(a.grad.numpy() == 0) and np.all(b.grad.numpy() == 0)
    opt.zero_grad()
    assert a.grad is None and b.grad is None


# --- state dicts ------------------------------------------------------------------------------
def test_state_dict_layout_matches_pytorch(torch):
    arrays = make_params()
    lp, tp = lamina_params(arrays), torch_params(torch, arrays)
    groups = lambda P: [{"params": [P[2], P[0]], "momentum": 0.9}, {"params": [P[1]], "lr": 0.5}]  # noqa: E731
    lo, to = SGD(groups(lp), lr=0.1), torch_sgd_class(torch)(groups(tp), lr=0.1)
    train(lp, lo, 3)
    train(tp, to, 3)
    ls, ts = lo.state_dict(), to.state_dict()
    assert ls["param_groups"] == ts["param_groups"]
    assert sorted(ls["state"]) == sorted(ts["state"]) == [0, 1]
    for k in ts["state"]:
        assert set(ls["state"][k]) == set(ts["state"][k])
        assert ls["state"][k]["step"] == ts["state"][k]["step"] == 3
        np.testing.assert_allclose(ls["state"][k]["momentum_buffer"].numpy(),
                                   ts["state"][k]["momentum_buffer"].numpy(), rtol=1e-6)
    for a, b in zip(lp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5)


def test_state_dict_crosses_to_pytorch_and_back(torch):
    arrays = make_params()
    lp, tp = lamina_params(arrays), torch_params(torch, arrays)
    lo, to = SGD(lp, lr=0.1, momentum=0.9), torch_sgd_class(torch)(tp, lr=0.1, momentum=0.9)
    train(lp, lo, 2)
    sd = lo.state_dict()
    to.load_state_dict({"param_groups": sd["param_groups"],
                        "state": {k: {n: torch.tensor(v.numpy()) if isinstance(v, lamina.Tensor) else v
                                      for n, v in s.items()} for k, s in sd["state"].items()}})
    for a, b in zip(lp, tp):
        b.data.copy_(torch.tensor(a.detach().numpy()))
    train(lp, lo, 2)
    train(tp, to, 2)
    for a, b in zip(lp, tp):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5)
    # and back: torch's state dict loads into a fresh lamina optimizer
    ts = to.state_dict()
    fresh = SGD(lp, lr=0.3, momentum=0.0)
    fresh.load_state_dict({"param_groups": ts["param_groups"],
                           "state": {k: {n: lamina.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v
                                         for n, v in s.items()} for k, s in ts["state"].items()}})
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.param_groups[0]["momentum"] == 0.9
    assert all(a is b for a, b in zip(fresh.param_groups[0]["params"], lp))
    np.testing.assert_allclose(fresh.state[lp[0]]["momentum_buffer"].numpy(),
                               ts["state"][0]["momentum_buffer"].numpy())


@pytest.mark.parametrize("bad", ["groups", "sizes"])
def test_load_state_dict_errors_match_pytorch(torch, bad):
    arrays = make_params()
    lo = SGD([{"params": lamina_params(arrays)[:2]}], lr=0.1)
    to = torch_sgd_class(torch)([{"params": torch_params(torch, arrays)[:2]}], lr=0.1)
    sd = {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.0, "params": [0, 1]}]}
    if bad == "groups":
        sd["param_groups"].append({"lr": 0.1, "momentum": 0.0, "params": [2]})
    else:
        sd["param_groups"][0]["params"] = [0]
    with pytest.raises(ValueError) as expected:
        to.load_state_dict(copy.deepcopy(sd))
    with pytest.raises(ValueError) as got:
        lo.load_state_dict(copy.deepcopy(sd))
    assert str(got.value) == str(expected.value)
    if bad == "sizes":
        assert "doesn't match the size of optimizer's group" in str(got.value)


class Uncopyable:
    def __deepcopy__(self, memo):
        raise RuntimeError("no copies")


def test_load_state_dict_is_all_or_nothing():
    params = lamina_params(make_params())
    opt = SGD(params, lr=0.1, momentum=0.9)
    train(params, opt, 2)
    before_groups = opt.param_groups
    before_state = {id(p): {k: (v.numpy().copy() if isinstance(v, lamina.Tensor) else v)
                            for k, v in s.items()} for p, s in opt.state.items()}
    before_state_obj = opt.state
    sd = copy.deepcopy(opt.state_dict())
    sd["param_groups"][0]["lr"] = 123.0
    for s in sd["state"].values():
        s["momentum_buffer"].array[...] = 7.0
    sd["state"][2]["extra"] = Uncopyable()   # fails after the first params' state is built
    with pytest.raises(RuntimeError, match="no copies"):
        opt.load_state_dict(sd)
    assert opt.param_groups is before_groups and opt.param_groups[0]["lr"] == 0.1
    assert opt.state is before_state_obj
    for p, s in opt.state.items():
        assert s["step"] == before_state[id(p)]["step"]
        np.testing.assert_array_equal(s["momentum_buffer"].numpy(), before_state[id(p)]["momentum_buffer"])
    bad = copy.deepcopy(opt.state_dict())
    del bad["param_groups"][0]["params"]
    with pytest.raises(KeyError):
        opt.load_state_dict(bad)
    assert opt.param_groups is before_groups


def test_load_state_dict_deep_copies_and_casts():
    p = lamina.randn(3, requires_grad=True)
    opt = SGD([p], lr=0.1, momentum=0.9)
    buf = lamina.ones(3, dtype=lamina.float64)
    step = lamina.tensor(5.0, dtype=lamina.float64)
    sd = {"state": {0: {"momentum_buffer": buf, "step": step, "history": [lamina.ones(2, dtype=lamina.float64)]}},
          "param_groups": [{"lr": 0.2, "momentum": 0.5, "params": [0]}]}
    opt.load_state_dict(sd)
    st = opt.state[p]
    assert st["momentum_buffer"].dtype == lamina.float32 and st["momentum_buffer"] is not buf
    assert st["history"][0].dtype == lamina.float32
    assert st["step"].dtype == lamina.float64 and st["step"] is not step
    buf.array[...] = 9.0
    assert np.all(st["momentum_buffer"].numpy() == 1.0)
    sd["param_groups"][0]["lr"] = 99.0
    assert opt.param_groups[0]["lr"] == 0.2 and opt.param_groups[0]["params"][0] is p


def test_state_dict_hooks():
    p = lamina.randn(2, requires_grad=True)
    opt = SGD([p], lr=0.1)
    calls = []
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: calls.append("post") or {**sd, "extra": 1})
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre0"), prepend=True)
    sd = opt.state_dict()
    assert calls == ["pre0", "pre", "post"] and sd["extra"] == 1
    calls.clear()

    def load_pre(o, sd):
        calls.append("load_pre")
        sd = dict(sd)
        sd.pop("extra")
        sd["param_groups"] = [{**sd["param_groups"][0], "lr": 0.7}]
        return sd

    h = opt.register_load_state_dict_pre_hook(load_pre)
    opt.register_load_state_dict_post_hook(lambda o: calls.append("load_post"))
    opt.load_state_dict(sd)
    assert calls == ["load_pre", "load_post"] and opt.param_groups[0]["lr"] == 0.7
    h.remove()
    calls.clear()
    opt.load_state_dict(opt.state_dict())
    assert calls == ["pre0", "pre", "post", "load_post"]


def test_copy_and_pickle_roundtrip():
    params = lamina_params(make_params())
    opt = SGD(params, lr=0.1, momentum=0.9)
    train(params, opt, 2)
    for clone in (copy.deepcopy(opt), pickle.loads(pickle.dumps(opt))):
        assert clone.param_groups[0]["lr"] == 0.1
        new_params = clone.param_groups[0]["params"]
        assert all(q is not p for p, q in zip(params, new_params))
        for p, q in zip(params, new_params):
            np.testing.assert_array_equal(opt.state[p]["momentum_buffer"].numpy(),
                                          clone.state[q]["momentum_buffer"].numpy())
        clone.register_step_pre_hook(lambda *a: None)  # hooks work on the copy
        clone.step()


# --- hooks around step ------------------------------------------------------------------------
def run_hook_order(opt, add_global_pre, add_global_post, log):
    handles = [
        add_global_pre(lambda o, args, kwargs: log.append(("global_pre", len(args), args[0] is o))),
        opt.register_step_pre_hook(lambda o, args, kwargs: log.append(("pre", len(args), args[0] is o))),
        opt.register_step_post_hook(lambda o, args, kwargs: log.append(("post", len(args), args[0] is o))),
        add_global_post(lambda o, args, kwargs: log.append(("global_post", len(args), args[0] is o))),
    ]
    try:
        opt.step(lambda: log.append(("closure",)) or 1.5)
    finally:
        for h in handles:
            h.remove()


def test_step_hook_order_matches_pytorch(torch):
    arrays = make_params()
    lo = SGD(lamina_params(arrays), lr=0.1)
    to = torch_sgd_class(torch)(torch_params(torch, arrays), lr=0.1)
    got, expected = [], []
    run_hook_order(lo, register_optimizer_step_pre_hook, register_optimizer_step_post_hook, got)
    import torch.optim.optimizer as toptim

    run_hook_order(to, toptim.register_optimizer_step_pre_hook, toptim.register_optimizer_step_post_hook, expected)
    assert got == expected
    assert [e[0] for e in got] == ["global_pre", "pre", "closure", "post", "global_post"]
    got.clear()
    lo.step()
    assert got == []  # handles removed


def test_pre_hook_can_replace_arguments():
    opt = SGD(lamina_params(make_params()), lr=0.1)
    opt.register_step_pre_hook(lambda o, args, kwargs: (args, {"closure": lambda: 42.0}))
    assert opt.step() == 42.0
    h = opt.register_step_pre_hook(lambda o, args, kwargs: "nonsense")
    with pytest.raises(RuntimeError, match="must return None or a tuple"):
        opt.step()
    h.remove()


def test_pluggy_wrapper_around_step_fires_inside_the_hooks():
    params = lamina_params(make_params())
    opt = SGD(params, lr=0.1)
    log = []

    class Wrapper:
        @hooks.hookimpl(wrapper=True)
        def lamina_optimizer_step(self, optimizer, closure, step):
            log.append(("before", optimizer is opt, closure is not None))
            loss = yield
            log.append(("after", loss))
            return loss * 2

    opt.register_step_pre_hook(lambda *a: log.append("pre"))
    opt.register_step_post_hook(lambda *a: log.append("post"))
    wrapper = Wrapper()
    hooks.register_hooks(wrapper)
    try:
        assert opt.step(lambda: 3.0) == 6.0
        log.append("--")
        opt._optimizer_step_pre_hooks.clear()
        opt._optimizer_step_post_hooks.clear()
        assert opt.step(closure=lambda: 1.0) == 2.0   # fast path (no step hooks) still reaches pluggy
    finally:
        hooks.unregister_hooks(wrapper)
    assert log == ["pre", ("before", True, True), ("after", 3.0), "post", "--",
                   ("before", True, True), ("after", 1.0)]
    assert opt.step(lambda: 1.0) == 1.0


def test_fast_path_skips_the_hook_machinery(monkeypatch):
    params = lamina_params(make_params())
    opt = SGD(params, lr=0.1)
    (params[0].sum()).backward()

    def forbidden(*a, **k):
        raise AssertionError("hook machinery used without hooks")

    monkeypatch.setattr(SGD, "_hooked_step", forbidden)
    before = params[0].detach().numpy().copy()
    opt.step()
    np.testing.assert_allclose(params[0].detach().numpy(), before - 0.1)


def test_super_step_runs_hooks_once():
    class Loud(SGD):
        def step(self, closure=None):
            log.append("loud")
            return super().step(closure)

    log = []
    opt = Loud(lamina_params(make_params()), lr=0.1)
    opt.register_step_pre_hook(lambda *a: log.append("pre"))
    opt.register_step_post_hook(lambda *a: log.append("post"))
    opt.step()
    assert log == ["pre", "loud", "post"]
    assert opt._opt_called


def test_step_updates_parameters():
    p = lamina.tensor([1.0, 2.0], requires_grad=True)
    opt = SGD([p], lr=0.5)
    (p * p).sum().backward()
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.0, 0.0])


def test_plugin_optimizer_is_served_lazily():
    lamina.plugins.register("lamina.optim", "ToySGD", SGD)
    try:
        assert optim.ToySGD is SGD
        assert "ToySGD" in dir(optim)
    finally:
        lamina.plugins.unregister("lamina.optim", "ToySGD")
    assert optim.Optimizer is Optimizer and optim.lr_scheduler.LRScheduler is not None


def test_use_grad_for_differentiable_and_reused_steps():
    from lamina.optim.optimizer import _use_grad_for_differentiable

    seen, log = [], []

    class NoGrad(Optimizer):
        def __init__(self, params, differentiable=False):
            super().__init__(params, {"lr": 0.1, "differentiable": differentiable})

        @_use_grad_for_differentiable
        def step(self, closure=None):
            seen.append(lamina.is_grad_enabled())

    class Alias(SGD):
        step = SGD.step  # the already wrapped function: not wrapped twice

    p = lamina.randn(2, requires_grad=True)
    NoGrad([p]).step()
    NoGrad([p], differentiable=True).step()
    assert seen == [False, True]
    opt = Alias([p], lr=0.1)
    opt.register_step_pre_hook(lambda *a: log.append("pre"))
    opt.step()
    assert log == ["pre"]
