"""Runs the lamina-norms info records: forward vs the float64 reference, dtype kept, gradcheck of
inputs and parameters, double backward where tagged, declared error inputs, batch independence."""

from __future__ import annotations

import functools
import inspect
import re

import lamina
import numpy as np
import pytest
from lamina.testing import FunctionInfo, gradcheck, gradgradcheck
from lamina_norms.testing import records

RECORDS = records()
MODULES = [r for r in RECORDS if not isinstance(r, FunctionInfo)]
FUNCTIONS = [r for r in RECORDS if isinstance(r, FunctionInfo)]


def _id(r):
    return r.name or r.cls.__name__


def _build(rec, dtype):
    lamina.manual_seed(0)
    factory = {"dtype": getattr(lamina, dtype)} if "dtype" in inspect.signature(rec.cls).parameters else {}
    m = rec.cls(**rec.init_kwargs, **factory)
    with lamina.no_grad():  # non-trivial affine parameters and running statistics
        for p in m.parameters():
            p.copy_(lamina.randn(*p.shape, dtype=p.dtype) * 0.5 + 1.0)
        for name, b in m.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(lamina.randn(*b.shape, dtype=b.dtype))
            elif name.endswith("running_var"):
                b.copy_(lamina.rand(*b.shape, dtype=b.dtype) + 0.5)
    return m


def _state(m):
    return {k: np.asarray(v.array, dtype=np.float64) for k, v in m.state_dict().items() if v.is_floating_point()}


def _samples(rec, dtype):
    return rec.sample_inputs(np, getattr(np, dtype), np.random.default_rng(0))


@pytest.mark.parametrize("rec", MODULES, ids=_id)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_module_forward_vs_reference(rec, dtype):
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-7, atol=1e-7)
    for s in _samples(rec, dtype):
        m = _build(rec, dtype)
        x = lamina.tensor(s.args[0])
        y = m(x)
        expected = rec.reference(_state(m), s.args[0].astype(np.float64))
        assert y.dtype is x.dtype and tuple(y.shape) == tuple(x.shape)
        np.testing.assert_allclose(y.array, expected, **tol)
        if "train_eval_differ" in rec.tags and hasattr(m, "running_mean") and m.running_mean is not None:
            m.eval()
            ev = m(x)
            state = _state(m)
            ref = rec.reference.__module__  # eval uses the running statistics (updated by the train step)
            s_shape = (1, -1) + (1,) * (x.ndim - 2) if x.ndim >= 3 or "Batch" in type(m).__name__ else (-1, 1)
            mean, var = state["running_mean"].reshape(s_shape), state["running_var"].reshape(s_shape)
            w = state.get("weight", np.ones(1)).reshape(s_shape) if "weight" in state else 1.0
            b = state.get("bias", np.zeros(1)).reshape(s_shape) if "bias" in state else 0.0
            np.testing.assert_allclose(ev.array, (s.args[0] - mean) / np.sqrt(var + m.eps) * w + b, **tol)
            assert ref


@pytest.mark.parametrize("rec", MODULES, ids=_id)
def test_module_gradcheck(rec):
    s = _samples(rec, "float64")[0]
    m = _build(rec, "float64")
    x = lamina.tensor(s.args[0], requires_grad=True)
    names = [n for n, _ in m.named_parameters()]

    def fn(x, *ps):  # the module with its parameters swapped for the checked tensors
        saved = dict(m._parameters)
        m._parameters.update(zip(names, ps))
        try:
            return m(x)
        finally:
            m._parameters.update(saved)

    ps = [lamina.tensor(p.array.copy(), requires_grad=True) for p in m.parameters()]
    assert gradcheck(fn, (x, *ps))
    if "double_backward" in rec.tags:
        assert gradgradcheck(fn, (x, *ps))


@pytest.mark.parametrize("rec", MODULES, ids=_id)
def test_module_error_inputs(rec):
    errs = rec.error_inputs(np, np.float32, np.random.default_rng(0)) if callable(rec.error_inputs) else []
    for e in errs:
        with pytest.raises(e.error_type, match=e.match):
            m = rec.cls(**(e.init_kwargs if e.init_kwargs is not None else rec.init_kwargs))
            m(lamina.tensor(e.sample.args[0]))


@pytest.mark.parametrize("rec", [r for r in MODULES if "batch_independent" in r.tags], ids=_id)
def test_batch_independence(rec):
    s = _samples(rec, "float64")[0]
    m = _build(rec, "float64")
    x = s.args[0]
    full = m(lamina.tensor(x)).array
    part = m(lamina.tensor(x[1:2])).array
    np.testing.assert_allclose(full[1:2], part, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rec", FUNCTIONS, ids=_id)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_function_vs_reference_and_gradcheck(rec, dtype):
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-7, atol=1e-7)
    for s in _samples(rec, dtype):
        # arrays become tensors (those in grad_args require grad); None and shapes pass as given
        args = [lamina.tensor(a, requires_grad=dtype == "float64" and (s.grad_args is None or i in s.grad_args))
                if isinstance(a, np.ndarray) else a for i, a in enumerate(s.args)]
        y = rec.fn(*args, **s.kwargs)
        assert y.dtype is args[0].dtype
        ref_args = [a.astype(np.float64) if isinstance(a, np.ndarray) else a for a in s.args]
        np.testing.assert_allclose(y.array, rec.reference(*ref_args, **s.kwargs), **tol)
        if dtype == "float64":
            fn = functools.partial(rec.fn, **s.kwargs)
            assert gradcheck(fn, tuple(args))
            if "double_backward" in rec.tags:
                assert gradgradcheck(fn, tuple(args))


def test_gradcheck_can_fail(monkeypatch):
    """A wrong backward is caught: perturb the kernel's gradient and gradcheck must reject it."""
    from lamina_norms import _kernel

    orig = _kernel.Normalize.backward

    def wrong(ctx, dy, *rest):
        dx, dw, db, *tail = orig(ctx, dy, *rest)
        return (None if dx is None else dx * 1.01), dw, db, *tail

    monkeypatch.setattr(_kernel.Normalize, "backward", staticmethod(wrong))
    x = lamina.randn(4, 5, dtype=lamina.float64, requires_grad=True)
    with pytest.raises(Exception, match=re.compile("jacobian|mismatch|disagree|gradient", re.I)):
        gradcheck(lambda x: lamina.nn.functional.layer_norm(x, (5,)), (x,))
