"""Conformance records of the numba kernel pack (consumed by lamina.testing).

One ``KernelInfo`` per kernel whose op exists (lamina-norms installed), with samples in every
layout the kernel serves and a NumPy float64 reference of the forward output: the kit checks the
kernel's forward and backward against the op's own reference implementation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__lamina_plugin_api__ = "1.0"


def _op(name: str, public: str) -> type | None:
    """The op ``name`` of another plugin, reached through its public layer ``public`` (None if absent)."""
    import lamina
    from lamina.errors import PluginNotFoundError

    if lamina.kernels.find_op(name) is None:
        try:
            getattr(lamina.nn, public)
        except PluginNotFoundError:
            return None
    return lamina.kernels.find_op(name)


def norm_specs(op: type) -> tuple:
    """(name, Spec) of the layouts the Normalize kernel serves, odd sizes and a row count over one block."""
    Spec = op.Spec
    return (("batch", Spec((4, 3, 10), (0, 2), (1, 3, 1), 1e-5)),
            ("batch-1", Spec((1, 5, 1), (0, 2), (1, 5, 1), 1e-3)),
            ("layer", Spec((6, 1500), (1,), (1, 1500), 1e-5)),
            ("layer-blocks", Spec((131, 7), (1,), (1, 7), 1e-5)),
            ("rms", Spec((5, 33), (1,), (1, 33), 1e-6, center=False)))


def _norm_samples(op: type):
    def samples(xp, dtype, rng):
        from lamina.testing import Sample

        out = []
        for name, spec in norm_specs(op):
            x = rng.standard_normal(spec.view) * 3 + 1
            P = int(np.prod(spec.pshape))
            w, b = rng.standard_normal(P) + 1, rng.standard_normal(P)
            x, w, b = (xp.asarray(a.astype(dtype)) for a in (x, w, b))
            out.append(Sample((x, w, b, None, None, spec), name=name))
            out.append(Sample((x, None, None, None, None, spec), name=f"{name}-no-affine"))
        return out

    return samples


def norm_reference(x, weight, bias, mean, var, spec):
    xv = x.reshape(spec.view)
    m = xv.mean(axis=spec.axes, keepdims=True) if spec.center else 0.0
    v = ((xv - m) ** 2).mean(axis=spec.axes, keepdims=True)
    y = (xv - m) / np.sqrt(v + spec.eps)
    if weight is not None:
        y = y * weight.reshape(spec.pshape)
    if bias is not None:
        y = y + bias.reshape(spec.pshape)
    return y.reshape(x.shape)


def records() -> list[Any]:
    from lamina.testing import KernelInfo

    from . import norm

    out = []
    op = _op("Normalize", "BatchNorm1d")
    if op is not None:
        impl = norm.norm_kernel(op)
        out.append(KernelInfo(op=op, impl=impl, device_type="cpu", sample_inputs=_norm_samples(op),
                              reference=norm_reference, name=impl.__name__))
    return out
