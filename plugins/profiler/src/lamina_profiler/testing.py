"""Conformance records for lamina-profiler: ops run under an active profiler (inside a ``record_function``
region, with shapes, memory and stacks recorded) must compute exactly what they compute unprofiled: values,
gradients and second derivatives, each with a NumPy float64 reference. Timing itself is tested in the plugin's
own tests (it has no reference value)."""

from __future__ import annotations

import numpy as np

__lamina_plugin_api__ = "1.0"


def _samples(*shapes):
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        arrays = tuple(xp.asarray(rng.uniform(-1.5, 1.5, size=s), dtype=dtype) for s in shapes)
        return [Sample(arrays, name="x".join(map(str, shapes[0])))]

    return samples


def _profiled_region(x, w):
    from . import profile, record_function

    with profile(record_shapes=True, profile_memory=True, with_stack=True):
        with record_function("region"):
            return (x @ w).tanh() * x.sum()


def _decorated(x):
    from . import record_function

    @record_function("decorated")
    def f(a):
        return a.sigmoid() * a

    return f(x)


def _scheduled(x):
    from . import profile, schedule

    with profile(schedule=schedule(wait=0, warmup=1, active=1)) as prof:
        y = x.exp()
        prof.step()
        y = y * x.cos()
        prof.step()
    return y


def records() -> list:
    from lamina.testing import FunctionInfo

    dbl = frozenset({"double_backward"})
    return [
        FunctionInfo(fn=_profiled_region, name="profiler.profile[record_function]",
                     reference=lambda x, w: np.tanh(x @ w) * x.sum(), sample_inputs=_samples((3, 4), (4, 2)),
                     tags=dbl, rtol=1e-4),
        FunctionInfo(fn=_decorated, name="profiler.record_function[decorator]",
                     reference=lambda x: x / (1 + np.exp(-x)), sample_inputs=_samples((2, 5)), tags=dbl),
        FunctionInfo(fn=_scheduled, name="profiler.profile[schedule]", reference=lambda x: np.exp(x) * np.cos(x),
                     sample_inputs=_samples((4,)), tags=dbl),
    ]
