"""Module hooks: forward pre-hooks, forward hooks, full backward (pre-)hooks; order and values vs PyTorch."""

from __future__ import annotations

import _nn_models
import lamina
import numpy as np
import pytest
from lamina import nn
from lamina.nn import module as module_mod


def _arr(t):
    if t is None:
        return None
    return np.round(np.asarray(t.detach().cpu().numpy(), dtype=np.float64), 6).tolist()


def _grads(gs):
    return tuple(_arr(g) for g in gs)


def _record(lib, events: list):
    """A model with nested modules; every hook kind records (kind, module path, values)."""
    T = _nn_models.make(lib)
    nn_ = lib.nn

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.first = T.Affine(3, dtype=lib.float64)
            self.inner = nn_.Sequential(T.Affine(3, dtype=lib.float64), T.Affine(3, bias=False, dtype=lib.float64))
            self.multi = T.Multi().double()

        def forward(self, x, scale=1.0):
            a, b = self.multi(self.inner(self.first(x)) * scale)
            return a.sum() + b.sum()

    net = Net()
    names = {m: n or "root" for n, m in net.named_modules()}
    for m, name in names.items():
        m.register_forward_pre_hook(lambda mod, args, n=name: events.append(("pre", n, len(args))))
        m.register_forward_hook(lambda mod, args, out, n=name: events.append(("fwd", n)))
        m.register_full_backward_pre_hook(lambda mod, go, n=name: events.append(("bw_pre", n, _grads(go))))
        m.register_full_backward_hook(lambda mod, gi, go, n=name: events.append(("bw", n, _grads(gi), _grads(go))))
    net.first.register_forward_pre_hook(lambda mod, args: events.append(("pre-first", "first", 0)), prepend=True)
    net.first.register_forward_hook(lambda mod, args, kwargs, out: events.append(("fwd-kw", "first")),
                                    with_kwargs=True)
    return net


@pytest.mark.parametrize("input_requires_grad", [True, False])
def test_hook_order_and_gradients_match_torch(input_requires_grad):
    torch = pytest.importorskip("torch")
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    got, want = [], []
    for lib, events in ((lamina, got), (torch, want)):
        net = _record(lib, events)
        xt = lib.tensor(x, dtype=lib.float64, requires_grad=input_requires_grad)
        out = net(xt, scale=2.0)
        events.append(("loss", _arr(out)))
        if input_requires_grad:
            out.backward()
        else:  # both warn that the first module's hooks fire with grad_input all None
            with pytest.warns(UserWarning, match="Full backward hook is firing"):
                out.backward()
        events.append(("grad", _arr(net.first.weight.grad), _arr(xt.grad)))
    assert got == want


def test_forward_pre_hook_can_replace_args_and_kwargs():
    m = M = _nn_models.make(lamina).Affine(2)
    seen = []
    h1 = m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # a non-tuple result becomes (result,)
    h2 = m.register_forward_pre_hook(lambda mod, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True)
    h3 = m.register_forward_hook(lambda mod, args, out: seen.append(args[0].tolist()) or out * 10)
    assert m(lamina.ones(2)).tolist() == [(3 * 1.5 + 0.25) * 10] * 2
    assert seen == [[3.0, 3.0]]
    for h in (h1, h2, h3):
        h.remove()
    assert not m._forward_pre_hooks and not m._forward_hooks and not m._forward_pre_hooks_with_kwargs
    assert m(lamina.ones(2)).tolist() == [1.75, 1.75]
    del M


def test_bad_kwargs_pre_hook_result():
    m = nn.Identity()
    m.register_forward_pre_hook(lambda mod, args, kwargs: "nope", with_kwargs=True)
    with pytest.raises(RuntimeError, match="must return None or a tuple of"):
        m(lamina.ones(1))


def test_prepend_and_handle_context_manager():
    m = nn.Identity()
    order = []
    m.register_forward_hook(lambda *a: order.append("a"))
    m.register_forward_hook(lambda *a: order.append("b"), prepend=True)
    with m.register_forward_hook(lambda *a: order.append("c")):
        m(lamina.ones(1))
    m(lamina.ones(1))
    assert order == ["b", "a", "c", "b", "a"]


def test_always_call_hook_runs_when_forward_raises():
    class Boom(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    m = Boom()
    seen = []
    m.register_forward_hook(lambda mod, args, out: seen.append(("always", out)), always_call=True)
    m.register_forward_hook(lambda mod, args, out: seen.append(("normal", out)))
    with pytest.raises(ValueError, match="boom"):
        m(lamina.ones(1))
    assert seen == [("always", None)]


def test_backward_hooks_can_replace_gradients():
    m = _nn_models.make(lamina).Affine(2)
    x = lamina.ones(2, requires_grad=True)
    m.register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,))
    m.register_full_backward_hook(lambda mod, gi, go: (gi[0] + 100,))
    m(x).sum().backward()
    assert x.grad.tolist() == [1.5 * 3 + 100] * 2
    assert m.weight.grad.tolist() == [3.0, 3.0]  # the parameter sees the pre-hook's gradient


def test_backward_hook_without_grad_inputs_gets_none():
    torch = pytest.importorskip("torch")
    for lib in (lamina, torch):
        m = _nn_models.make(lib).Affine(2)
        seen = []
        m.register_full_backward_hook(lambda mod, gi, go, seen=seen: seen.append((gi, len(go))))
        with pytest.warns(UserWarning, match="Full backward hook is firing"):
            m(lib.ones(2)).sum().backward()
        assert seen == [((None,), 1)], lib.__name__


def test_no_hooks_under_no_grad_backward_never_runs():
    m = _nn_models.make(lamina).Affine(2)
    seen = []
    m.register_full_backward_hook(lambda *a: seen.append(1))
    with lamina.no_grad():
        m(lamina.ones(2, requires_grad=True))
    assert seen == []


def test_global_hooks_match_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.modules import module as tmod

    got, want = [], []
    for lib, reg, events in ((lamina, module_mod, got), (torch, tmod, want)):
        handles = [
            reg.register_module_forward_pre_hook(lambda m, a, ev=events: ev.append(("gpre", type(m).__name__))),
            reg.register_module_forward_hook(lambda m, a, o, ev=events: ev.append(("gfwd", type(m).__name__))),
            reg.register_module_full_backward_hook(
                lambda m, gi, go, ev=events: ev.append(("gbw", type(m).__name__))),
        ]
        try:
            net = lib.nn.Sequential(_nn_models.make(lib).Affine(2), lib.nn.Identity())
            net[0].register_forward_hook(lambda m, a, o, ev=events: ev.append(("local", "Affine")))
            net(lib.ones(2, requires_grad=True)).sum().backward()
        finally:
            for h in handles:
                h.remove()
    assert got == want
    assert not module_mod._global_any[0]


def test_call_fast_path_has_no_hook_overhead():
    m = nn.Identity()
    x = lamina.ones(1)
    assert m(x) is x  # no identity Function inserted when there are no hooks
