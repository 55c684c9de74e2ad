"""Conformance records for lamina-jit: functions and modules passed through ``lamina.jit.script`` and
``lamina.jit.trace`` must compute (values, gradients, second derivatives) exactly what the undecorated code
computes, each with a NumPy float64 reference. torch.fx has nothing numerical to check."""

from __future__ import annotations

import warnings

import numpy as np

__lamina_plugin_api__ = "1.0"


def _samples(*shapes):
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        arrays = tuple(xp.asarray(rng.uniform(-1.5, 1.5, size=s), dtype=dtype) for s in shapes)
        return [Sample(arrays, name="x".join(map(str, shapes[0])))]

    return samples


def _quiet(fn, *args):
    with warnings.catch_warnings():  # script/trace are deprecated in torch 2.13, and warn as torch's do
        warnings.simplefilter("ignore", DeprecationWarning)
        return fn(*args)


def _scripted_fn(x, w):
    from . import jit

    def f(a, b):
        return (a * b).tanh() + a.exp()

    return _quiet(jit.script, f)(x, w)


def _traced_fn(x):
    from . import jit

    def f(a):
        return a.sin() * a

    return _quiet(jit.trace, f, (x.detach(),))(x)


def _ignored_fn(x):
    from . import jit

    @jit.ignore(drop=False)
    def f(a):
        return a.sigmoid() * 2

    return f(x)


def records() -> list:
    from lamina.testing import FunctionInfo

    dbl = frozenset({"double_backward"})
    return [
        FunctionInfo(fn=_scripted_fn, name="jit.script[function]",
                     reference=lambda x, w: np.tanh(x * w) + np.exp(x), sample_inputs=_samples((3, 4), (4,)),
                     tags=dbl),
        FunctionInfo(fn=_traced_fn, name="jit.trace[function]", reference=lambda x: np.sin(x) * x,
                     sample_inputs=_samples((2, 5)), tags=dbl),
        FunctionInfo(fn=_ignored_fn, name="jit.ignore", reference=lambda x: 2 / (1 + np.exp(-x)),
                     sample_inputs=_samples((4,)), tags=dbl),
    ]
