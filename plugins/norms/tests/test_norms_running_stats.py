"""What the kit cannot express about lamina-norms (the kit runs every record in test_norms_kit.py):
in eval mode a norm with running statistics normalises with them (records describe train mode), and
gradcheck rejects the norm kernel's backward when it is 1% off."""

from __future__ import annotations

import inspect
import re

import lamina
import numpy as np
import pytest
from lamina.testing import FunctionInfo, gradcheck
from lamina_norms.testing import records

STATEFUL = [r for r in records() if not isinstance(r, FunctionInfo) and "train_eval_differ" in r.tags
            and getattr(r.cls(**r.init_kwargs), "running_mean", None) is not None]


def _id(r):
    return r.name or r.cls.__name__


def _build(rec, dtype, x):
    lamina.manual_seed(0)
    factory = {"dtype": getattr(lamina, dtype)} if "dtype" in inspect.signature(rec.cls).parameters else {}
    m = rec.cls(**rec.init_kwargs, **factory)
    if getattr(m, "has_uninitialized_params", lambda: False)():
        m.initialize_parameters(x)  # a lazy norm: give its parameters their shapes first
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


@pytest.mark.parametrize("rec", STATEFUL, ids=_id)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_eval_mode_normalises_with_the_running_statistics(rec, dtype):
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-7, atol=1e-7)
    for s in rec.sample_inputs(np, getattr(np, dtype), np.random.default_rng(0)):
        x = lamina.tensor(s.args[0])
        m = _build(rec, dtype, x)
        m(x)  # a train-mode step updates the running statistics
        m.eval()
        ev = m(x)
        state = _state(m)
        s_shape = (1, -1) + (1,) * (x.ndim - 2) if x.ndim >= 3 or "Batch" in type(m).__name__ else (-1, 1)
        mean, var = state["running_mean"].reshape(s_shape), state["running_var"].reshape(s_shape)
        w = state["weight"].reshape(s_shape) if "weight" in state else 1.0
        b = state["bias"].reshape(s_shape) if "bias" in state else 0.0
        np.testing.assert_allclose(ev.array, (s.args[0] - mean) / np.sqrt(var + m.eps) * w + b, **tol)


def test_there_are_norms_with_running_statistics():
    assert {"BatchNorm1d", "BatchNorm2d"} <= {r.cls.__name__ for r in STATEFUL}


def test_gradcheck_can_fail(monkeypatch):
    """A wrong backward is caught: perturb the kernel's gradient and gradcheck must reject it (the op's
    reference and any registered kernel pack's, whichever the call selects)."""
    from lamina_norms import _kernel

    def wrong(orig):
        def backward(ctx, dy, *rest):
            dx, dw, db, *tail = orig(ctx, dy, *rest)
            return (None if dx is None else dx * 1.01), dw, db, *tail
        return staticmethod(backward)

    x = lamina.randn(4, 5, dtype=lamina.float64, requires_grad=True)
    lamina.nn.functional.layer_norm(x, (5,))  # builds the kernels that serve this call, if any
    op = _kernel.Normalize
    for cls in [op] + [k.impl for k in lamina.kernels.candidates(op, "cpu") if k.impl is not None]:
        monkeypatch.setattr(cls, "backward", wrong(cls.__dict__["backward"].__func__))
    with pytest.raises(Exception, match=re.compile("jacobian|mismatch|disagree|gradient", re.I)):
        gradcheck(lambda x: lamina.nn.functional.layer_norm(x, (5,)), (x,))
