"""Conformance records of the top-level ATen-style normalisation forms (``aten_forms``), whose references
are the ``F`` references of ``testing`` with the arguments put back in ``F``'s order."""

from __future__ import annotations

import numpy as np
from lamina.testing import FunctionInfo, Sample

from . import aten_forms as aten
from .testing import ref_f_batch_norm, ref_f_instance_norm, ref_f_layer_norm, ref_group_norm

_DBL = frozenset({"double_backward"})


def _calls(build, grad=(0,)):
    """sample_inputs from ``build(rng) -> [(args, kwargs)]``: float64 arrays are cast to the dtype."""
    def sample(xp, dtype, rng):
        def conv(v):
            return xp.asarray(v, dtype=dtype) if isinstance(v, np.ndarray) else v
        return [Sample(tuple(conv(v) for v in args), kwargs, name=f"call{k}", grad_args=grad)
                for k, (args, kwargs) in enumerate(build(rng))]
    return sample


def _norm_except_dim(v, pow=2, dim=0):
    if dim == -1:
        return np.sum(np.abs(v) ** pow) ** (1.0 / pow)
    dims = tuple(d for d in range(v.ndim) if d != dim)
    return np.sum(np.abs(v) ** pow, axis=dims, keepdims=True) ** (1.0 / pow)


def records() -> list:
    x = lambda r, *s: r.standard_normal(s)  # noqa: E731
    p = lambda r, *s: r.uniform(0.5, 2.0, s)  # noqa: E731
    return [
        FunctionInfo(fn=aten.batch_norm, name="batch_norm", tags=_DBL,
                     sample_inputs=_calls(lambda r: [
                         ((x(r, 4, 3, 2), p(r, 3), x(r, 3), None, None, True, 0.1, 1e-5, False), {}),
                         ((x(r, 5, 3), p(r, 3), x(r, 3), x(r, 3), p(r, 3), False, 0.1, 1e-3, True), {})],
                         grad=(0, 1, 2)),
                     reference=lambda x, w, b, rm, rv, training, momentum, eps, cudnn: ref_f_batch_norm(
                         x, rm, rv, w, b, training, momentum, eps)),
        FunctionInfo(fn=aten.instance_norm, name="instance_norm", tags=_DBL,
                     sample_inputs=_calls(lambda r: [
                         ((x(r, 2, 3, 5), p(r, 3), x(r, 3), None, None, True, 0.1, 1e-5, False), {})], grad=(0, 1, 2)),
                     reference=lambda x, w, b, rm, rv, use, momentum, eps, cudnn: ref_f_instance_norm(
                         x, rm, rv, w, b, use, momentum, eps)),
        FunctionInfo(fn=aten.layer_norm, name="layer_norm", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 2, 3, 4), [3, 4], p(r, 3, 4), x(r, 3, 4)), {"eps": 1e-6})],
                                          grad=(0, 2, 3)),
                     reference=lambda x, ns, w, b, eps=1e-5, cudnn_enable=True: ref_f_layer_norm(x, ns, w, b, eps)),
        FunctionInfo(fn=aten.group_norm, name="group_norm", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 2, 4, 3), 2), {})]),
                     reference=lambda x, g, w=None, b=None, eps=1e-5, cudnn_enabled=True: ref_group_norm(
                         {}, x, g, eps)),
        FunctionInfo(fn=aten.norm_except_dim, name="norm_except_dim", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 4, 3, 2),), {}), ((x(r, 4, 3, 2), 3, 1), {}),
                                                     ((x(r, 3, 4),), {"dim": -1})]),
                     reference=_norm_except_dim),
    ]
