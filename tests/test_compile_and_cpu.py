"""lamina.compile / cond / while_loop (eager pass-throughs, as torch behaves eagerly) and lamina.cpu /
get_device_module (the device-query surface), against torch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _pair():
    lm, tm = lamina.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(lm.weight.detach().numpy()))
        tm.bias.copy_(torch.tensor(lm.bias.detach().numpy()))
    return lm, tm


def test_a_compiled_module_runs_the_original_with_torch_s_wrapper_and_keys():
    # torch 2.13: torch.compile(nn.Linear(3, 2)) is an OptimizedModule whose state_dict keys are
    # ['_orig_mod.weight', '_orig_mod.bias'] (importing torch._dynamo here would cost seconds per worker)
    lm, tm = _pair()
    lc = lamina.compile(lm)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(lc(lamina.tensor(x)).detach().numpy(), tm(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert list(lc.state_dict()) == ["_orig_mod.weight", "_orig_mod.bias"]
    assert lc._orig_mod is lm and lc.in_features == 3 and type(lc).__name__ == "OptimizedModule"
    assert [n for n, _ in lc.named_parameters()] == ["_orig_mod.weight", "_orig_mod.bias"]
    lc(lamina.tensor(x)).sum().backward()
    assert lm.weight.grad is not None


def test_compile_as_a_decorator_and_its_argument_checks():
    @lamina.compile
    def f(x):
        return x * 2

    @lamina.compile(mode="reduce-overhead", fullgraph=True)
    def g(x):
        return x + 1

    assert f(lamina.ones(2)).tolist() == [2.0, 2.0] and g(lamina.ones(2)).tolist() == [2.0, 2.0]
    assert f.__name__ == "f"
    with pytest.raises(RuntimeError, match="Unrecognized mode=fast"):
        lamina.compile(f, mode="fast")
    with pytest.raises(RuntimeError, match="Either mode or options can be specified"):
        lamina.compile(f, mode="default", options={})
    with pytest.raises(NotImplementedError, match="callable backend receives torch.fx graphs"):
        lamina.compile(f, backend=lambda gm, inputs: gm)
    with pytest.raises(lamina.errors.PluginNotFoundError, match="no_such_compiler"):
        lamina.compile(f, backend="no_such_compiler")
    assert lamina.compile(f, backend="no_such_compiler", disable=True)(lamina.ones(1)).tolist() == [2.0]


def test_a_compiler_plugin_serves_a_named_backend():
    calls = []

    def faster(model, **options):
        calls.append(options)
        return lambda *a: model(*a) * 10

    lamina.plugins.register("lamina.compilers", "acme_fast", faster)
    try:
        h = lamina.compile(lambda x: x + 1, backend="acme_fast", options={"level": 3})
        assert h(lamina.zeros(1)).tolist() == [10.0] and calls == [{"level": 3}]
    finally:
        lamina.plugins.unregister("lamina.compilers", "acme_fast")


def test_cond_and_while_loop_match_torch_eagerly():
    for m in (lamina, torch):
        x = m.tensor([1.0, 2.0])
        assert m.cond(x.sum() > 2, lambda a: a * 2, lambda a: a - 1, (x,)).tolist() == [2.0, 4.0]
        assert m.cond(False, lambda a: a * 2, lambda a: a - 1, [x]).tolist() == [0.0, 1.0]
        i, acc = m.while_loop(lambda i, a: i < 5, lambda i, a: (i + 1, a * 2), (m.tensor(0), m.tensor(1.0)))
        assert (int(i), float(acc)) == (5, 32.0)
    with pytest.raises(RuntimeError, match="single item"):
        lamina.cond(lamina.ones(2) > 0, lambda: 1, lambda: 2)
    with pytest.raises(RuntimeError, match="body_fn returned 1 values, expected 2"):
        lamina.while_loop(lambda i, a: i < 1, lambda i, a: i + 1, (lamina.tensor(0), lamina.tensor(1.0)))


def test_cpu_module_and_get_device_module_match_torch():
    assert lamina.get_device_module("cpu") is lamina.cpu and lamina.get_device_module() is lamina.cpu
    assert lamina.get_device_module("cuda:0") is lamina.cuda
    with pytest.raises(RuntimeError, match="Device 'xla' does not have a corresponding module"):
        lamina.get_device_module("xla")
    c, t = lamina.cpu, torch.cpu
    assert (c.is_available(), c.device_count(), c.current_device(), c.is_initialized()) == (
        t.is_available(), t.device_count(), t.current_device(), t.is_initialized())
    s = c.Stream()
    with c.stream(s):
        assert c.current_stream() is s
    assert c.current_stream() is not s
    e = s.record_event()
    assert e.query() and c.Event().query()
    c.synchronize()
    with pytest.raises(ValueError, match="expected 'cpu'"):
        c.set_device("cuda")
