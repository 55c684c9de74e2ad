"""lamina.utils.checkpoint against torch.utils.checkpoint: values and gradients with the same weights and inputs,
dropout reproduced in the recomputation, the memory a checkpoint frees, torch's warnings and errors."""

from __future__ import annotations

import gc
import warnings
import weakref

import lamina
import lamina.utils.checkpoint as lcp
import numpy as np
import pytest
import torch
import torch.utils.checkpoint as tcp

LIBS = ((lamina, lcp), (torch, tcp))


def _mlp(lib, seed=0, dropout=0.0):
    rng = np.random.default_rng(seed)
    layers = [lib.nn.Linear(5, 6), lib.nn.Tanh(), lib.nn.Dropout(dropout), lib.nn.Linear(6, 3), lib.nn.GELU()]
    model = lib.nn.Sequential(*layers)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype))
    return model


def _x(lib, seed=1, shape=(4, 5), dtype=None):
    return lib.tensor(np.random.default_rng(seed).standard_normal(shape), dtype=dtype or lib.float32,
                      requires_grad=True)


def _grads(model, x):
    return [x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_gradients_equal_unchecked_and_torch(use_reentrant):
    results = {}
    for lib, cp in LIBS:
        for ck in (True, False):
            model, x = _mlp(lib), _x(lib)
            y = cp.checkpoint(model, x, use_reentrant=use_reentrant) if ck else model(x)
            (y * y).sum().backward()
            results[lib.__name__, ck] = [y.detach().numpy()] + _grads(model, x)
    for key in (("lamina", False), ("torch", True), ("torch", False)):
        for a, b in zip(results["lamina", True], results[key]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_checkpointed_node_is_torchs_reentrant_node():
    y = lcp.checkpoint(_mlp(lamina), _x(lamina), use_reentrant=True)
    t = tcp.checkpoint(_mlp(torch), _x(torch), use_reentrant=True)
    assert y.grad_fn.name() == t.grad_fn.name() == "CheckpointFunctionBackward"


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_dropout_reproduced_with_preserve_rng_state(use_reentrant):
    model, x = _mlp(lamina, dropout=0.5), _x(lamina, shape=(16, 5))
    lamina.manual_seed(123)
    y = lcp.checkpoint(model, x, use_reentrant=use_reentrant)
    (y * y).sum().backward()
    got = _grads(model, x)
    model.zero_grad()
    x.grad = None
    lamina.manual_seed(123)
    y2 = model(x)
    np.testing.assert_array_equal(y.detach().numpy(), y2.detach().numpy())
    (y2 * y2).sum().backward()
    for a, b in zip(got, _grads(model, x)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_dropout_differs_without_preserve_rng_state():
    # the recomputation draws a new mask: the gradients are not those of the first run's mask
    model, x = _mlp(lamina, dropout=0.5), _x(lamina, shape=(16, 5))
    lamina.manual_seed(7)
    y = lcp.checkpoint(model, x, use_reentrant=False, preserve_rng_state=False)
    y.sum().backward()
    got = x.grad.numpy().copy()
    x.grad = None
    lamina.manual_seed(7)
    model(x).sum().backward()
    assert not np.allclose(got, x.grad.numpy())


def test_rng_state_after_checkpoint_backward_is_the_callers():
    # the recomputation draws under the first run's state, then puts the caller's state back
    model, x = _mlp(lamina, dropout=0.5), _x(lamina)
    lamina.manual_seed(3)
    y = lcp.checkpoint(model, x, use_reentrant=False)
    state = lamina.get_rng_state()
    y.sum().backward()
    after = lamina.rand(8).numpy()
    lamina.set_rng_state(state)
    np.testing.assert_array_equal(after, lamina.rand(8).numpy())


def _region(lib, kept):
    def region(v):
        h = v.sin()
        kept.append(weakref.ref(h))
        h2 = h.exp()
        kept.append(weakref.ref(h2))
        return (h2 * h).cos()

    return region


def test_memory_torch_oracle_frees_intermediates():
    # the oracle's behaviour the lamina test below mirrors: only a checkpoint frees the region's intermediates
    kept = []
    x = _x(torch)
    y_plain = _region(torch, kept)(x)
    gc.collect()
    alive_plain = sum(r() is not None for r in kept)
    kept.clear()
    y_ck = tcp.checkpoint(_region(torch, kept), x, use_reentrant=False)
    gc.collect()
    assert alive_plain == 2 and sum(r() is not None for r in kept) == 0
    assert y_plain.shape == y_ck.shape


def _graph_saved_bytes(y):
    """The bytes of every array the graph behind ``y`` saved for backward."""
    seen, stack, total = set(), [y.grad_fn], 0
    while stack:
        n = stack.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        total += sum(getattr(a, "nbytes", 0) for a in getattr(n, "saved_tensors", ()))
        stack.extend(f for f, _ in getattr(n, "next_functions", ()))
    return total, len(seen)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_memory_saved_by_checkpoint(use_reentrant):
    import tracemalloc

    x = lamina.tensor(np.random.default_rng(0).standard_normal((256, 256)), requires_grad=True)  # 512 KiB
    region = _region(lamina, [])
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        y_plain = region(x)
        gc.collect()
        plain = tracemalloc.get_traced_memory()[0] - base
        saved_plain, nodes_plain = _graph_saved_bytes(y_plain)
        del y_plain
        gc.collect()
        base = tracemalloc.get_traced_memory()[0]
        y_ck = lcp.checkpoint(region, x, use_reentrant=use_reentrant)
        gc.collect()
        ck = tracemalloc.get_traced_memory()[0] - base
        saved_ck, nodes_ck = _graph_saved_bytes(y_ck)
    finally:
        tracemalloc.stop()
    size = x.numel() * 8
    assert saved_plain >= 3 * size and nodes_plain >= 4  # sin, exp, mul and cos keep their inputs/outputs
    assert saved_ck == size and nodes_ck == 2  # the checkpoint node (keeping x only) and x's leaf
    assert plain >= 4 * size  # the result plus at least three intermediates stay alive
    assert ck < 1.5 * size  # the result only
    y_ck.sum().backward()
    assert x.grad is not None


def test_closure_tensor_and_kwargs_get_gradients():
    res = {}
    for lib, cp in LIBS:
        w = _x(lib, seed=5, shape=(5,))
        x = _x(lib)
        s = _x(lib, seed=6, shape=(4, 1))
        y = cp.checkpoint(lambda v, scale=None, w=w: (v * w).tanh() * scale, x, scale=s, use_reentrant=False)
        y.pow(2).sum().backward()
        res[lib.__name__] = [x.grad.numpy(), w.grad.numpy(), s.grad.numpy()]
    for a, b in zip(res["lamina"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_tuple_output_and_non_tensor_args():
    res = {}
    for lib, cp in LIBS:
        x, z = _x(lib), _x(lib, seed=2)
        a, b, tag = cp.checkpoint(lambda u, k, v: (u * k, (u + v).sin(), "tag"), x, 3.0, z, use_reentrant=True)
        assert tag == "tag"
        (a.sum() + (b * b).sum()).backward()
        res[lib.__name__] = [x.grad.numpy(), z.grad.numpy()]
    for a, b in zip(res["lamina"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_autograd_grad_through_non_reentrant():
    res = {}
    for lib, cp in LIBS:
        model, x = _mlp(lib), _x(lib)
        y = cp.checkpoint(model, x, use_reentrant=False)
        gs = lib.autograd.grad(y.sum(), [x, *model.parameters()])
        res[lib.__name__] = [g.numpy() for g in gs]
    for a, b in zip(res["lamina"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gradcheck_float64():
    w = _x(lamina, seed=9, shape=(5,), dtype=lamina.float64)
    x = _x(lamina, shape=(3, 5), dtype=lamina.float64)

    def f(v, w):
        return lcp.checkpoint(lambda a: (a * w).sin() * a, v, use_reentrant=False)

    from lamina.testing import gradcheck, gradgradcheck

    assert gradcheck(f, (x, w))
    assert gradgradcheck(f, (x, w))


def test_double_backward_through_checkpoint():
    res = {}
    for lib, cp in LIBS:
        x = _x(lib, dtype=lib.float64)
        y = cp.checkpoint(lambda v: v.sin() * v, x, use_reentrant=False)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        g.pow(2).sum().backward()
        res[lib.__name__] = [g.detach().numpy(), x.grad.numpy()]
    for a, b in zip(res["lamina"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.parametrize("use_reentrant", [True, False])
@pytest.mark.parametrize("segments", [1, 2, 3])
def test_checkpoint_sequential(use_reentrant, segments):
    res = {}
    for lib, cp in LIBS:
        model, x = _mlp(lib), _x(lib)
        y = cp.checkpoint_sequential(model, segments, x, use_reentrant=use_reentrant)
        y.sum().backward()
        res[lib.__name__] = [y.detach().numpy()] + _grads(model, x)
    for a, b in zip(res["lamina"], res["torch"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _caught(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fn()
    return [(type(m.message), "use_reentrant" in str(m.message) or str(m.message)) for m in w]


@pytest.mark.parametrize("name", ["checkpoint", "checkpoint_sequential"])
def test_use_reentrant_none_warns_and_means_true(name):
    got = {}
    for lib, cp in LIBS:
        model, x = _mlp(lib), _x(lib)
        if name == "checkpoint":
            got[lib.__name__] = _caught(lambda cp=cp, model=model, x=x: cp.checkpoint(model, x))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                y = cp.checkpoint(model, x.detach())  # reentrant: no input requires grad -> no graph
            assert not y.requires_grad
        else:
            got[lib.__name__] = _caught(lambda cp=cp, model=model, x=x: cp.checkpoint_sequential(model, 2, x))
    assert got["lamina"] == got["torch"] == [(UserWarning, True)]


def test_no_input_requires_grad_warning():
    got = {}
    for lib, cp in LIBS:
        model, x = _mlp(lib), _x(lib).detach()
        got[lib.__name__] = _caught(lambda cp=cp, model=model, x=x: cp.checkpoint(model, x, use_reentrant=True))
        y = cp.checkpoint(model, x, use_reentrant=False)  # the parameters still get gradients
        y.sum().backward()
        assert model[0].weight.grad is not None
    assert got["lamina"] == got["torch"]
    assert got["lamina"] == [(UserWarning, "None of the inputs have requires_grad=True. Gradients will be None")]


@pytest.mark.parametrize("call, match", [
    (lambda cp, x: cp.checkpoint(lambda v, k: v, x, k=1, use_reentrant=True), "Unexpected keyword arguments: k"),
    (lambda cp, x: cp.checkpoint(lambda v: v, x, debug=True, use_reentrant=True), "only supported when"),
    (lambda cp, x: cp.checkpoint(lambda v: v, x, context_fn=lambda: (None, None), use_reentrant=True),
     "only supported when"),
    (lambda cp, x: cp.checkpoint(lambda v: v, x, determinism_check="x", use_reentrant=False),
     r"determinism_check should be one of \['default', 'none'\], but got x"),
    (lambda cp, x: cp.checkpoint_sequential([lambda v: v], 1, x, use_reentrant=False, foo=1),
     "Unexpected keyword arguments: foo"),
])
def test_errors_match_torch(call, match):
    for lib, cp in LIBS:
        with pytest.raises(ValueError, match=match):
            call(cp, _x(lib))


def test_determinism_check_raises_on_shape_change():
    calls = []

    def region(v):
        calls.append(1)
        return v[: len(calls)] * 2

    y = lcp.checkpoint(region, _x(lamina), use_reentrant=False)
    with pytest.raises(lcp.CheckpointError):
        y.sum().backward()
    calls.clear()
    y = lcp.checkpoint(region, _x(lamina), use_reentrant=False, determinism_check="none")
    with pytest.raises(RuntimeError):  # the recomputed shape no longer matches the incoming gradient
        y.sum().backward()
    assert issubclass(tcp.CheckpointError, RuntimeError) and issubclass(lcp.CheckpointError, RuntimeError)


def test_context_fn_wraps_forward_and_recompute():
    import contextlib

    seen = []

    def ctx(tag):
        @contextlib.contextmanager
        def cm():
            seen.append(tag)
            yield
        return cm()

    y = lcp.checkpoint(lambda v: v.sin(), _x(lamina), use_reentrant=False,
                       context_fn=lambda: (ctx("forward"), ctx("recompute")))
    assert seen == ["forward"]
    y.sum().backward()
    assert seen == ["forward", "recompute"]


def test_helpers_match_torch():
    for lib, cp in LIBS:
        x = _x(lib)
        d, k = cp.detach_variable((x, 3))
        assert k == 3 and d.requires_grad and d.grad_fn is None and d is not x
        assert not cp.detach_variable((x.detach(),))[0].requires_grad
        with pytest.raises(RuntimeError, match="Only tuple of tensors is supported. Got Unsupported input type: list"):
            cp.detach_variable([x])
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
            cp.check_backward_validity([x.detach(), 1])
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cp.check_backward_validity([x])
        with cp.set_checkpoint_early_stop(False), cp.set_checkpoint_debug_enabled(None):
            y = cp.checkpoint(lambda v: v * 2, x, use_reentrant=False)
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full((4, 5), 2, dtype=np.float32))
        assert cp.DefaultDeviceType.get_device_type() == "cpu"
        cp.DefaultDeviceType.set_device_type("cuda")
        assert cp.DefaultDeviceType.get_device_type() == "cuda"
        cp.DefaultDeviceType.set_device_type("cpu")
        assert cp.noop_context_fn()[0].__enter__() is None


def _run_modified(lib, cp, w, use_reentrant, change=None, retain=False):
    x = _x(lib) * 1
    y = cp.checkpoint(lambda v: (v * w).sin(), x, use_reentrant=use_reentrant)
    with lib.no_grad():
        if change == "input":
            x.add_(1)
        elif change == "param":
            w.add_(1)  # torch recomputes with the new value
    y.sum().backward(retain_graph=retain)
    return y


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_in_place_and_second_backward_errors_match_torch(use_reentrant):
    for lib, cp in LIBS:
        w = _x(lib, seed=3, shape=(5,))
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            _run_modified(lib, cp, w, use_reentrant, "input")
        _run_modified(lib, cp, w, use_reentrant, "param")
        y = _run_modified(lib, cp, w, use_reentrant)
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            y.sum().backward()
        _run_modified(lib, cp, w, use_reentrant, retain=True).sum().backward()


def test_closure_over_a_non_leaf_of_the_callers_graph():
    # torch's non-reentrant variant is the oracle (its reentrant one frees the caller's graph and fails); here
    # both variants leave the caller's graph intact
    res = {}
    for lib, cp, use_reentrant in ((lamina, lcp, True), (lamina, lcp, False), (torch, tcp, False)):
        a, x = _x(lib, seed=4, shape=(5,)), _x(lib)
        z = (a * 2).sin()
        y = cp.checkpoint(lambda v, z=z: (v * z).exp(), x, use_reentrant=use_reentrant)
        (y.sum() + z.sum()).backward()
        res[lib.__name__, use_reentrant] = [a.grad.numpy(), x.grad.numpy()]
    for key in (("lamina", True), ("lamina", False)):
        for a, b in zip(res[key], res["torch", False]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_debug_mode_is_refused_not_ignored():
    import lamina.utils.checkpoint as cp

    x = lamina.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="no debug mode"):
        cp.checkpoint(lambda v: v * 2, x, use_reentrant=False, debug=True)
    with pytest.raises(NotImplementedError, match="no debug mode"):
        with cp.set_checkpoint_debug_enabled(True):
            pass
