"""Conformance records: what `lamina check acme-lamina-layers` runs."""

from __future__ import annotations

import numpy as np
from lamina.testing import ErrorInput, FunctionInfo, LossInfo, ModuleInfo, Sample


def _gated_samples(xp, dtype, rng):
    return [Sample((xp.asarray(rng.standard_normal((4, 3)).astype(dtype)),), name="4x3"),
            Sample((xp.asarray(rng.standard_normal((1, 3)).astype(dtype)),), name="1x3")]


def _gated_reference(p, x):
    a = x @ p["weight_a"].T + p["bias_a"]
    g = 1 / (1 + np.exp(-(x @ p["weight_g"].T + p["bias_g"])))
    return a * g


def _loss_samples(xp, dtype, rng):
    return [Sample((xp.asarray(rng.standard_normal((3, 5)).astype(dtype)),
                    xp.asarray(rng.standard_normal((3, 5)).astype(dtype))), name="3x5")]


def _loss_reference(p, x, t, reduction="mean", eps=1e-3):
    v = np.sqrt((x - t) ** 2 + eps * eps)
    return {"none": v, "mean": v.mean(), "sum": v.sum()}[reduction]


def _gated_fn_samples(xp, dtype, rng):
    def r(*shape):
        return xp.asarray(rng.standard_normal(shape).astype(dtype))

    return [Sample((r(4, 3), r(2, 3), r(2), r(2, 3), r(2)), name="4x3->2")]


def _gated_fn_reference(x, wa, ba, wg, bg):
    return _gated_reference({"weight_a": wa, "bias_a": ba, "weight_g": wg, "bias_g": bg}, x)


def records() -> list:
    from .gated import GatedLinear, gated_linear
    from .loss import CharbonnierLoss, charbonnier_loss

    return [
        ModuleInfo(cls=GatedLinear, init_kwargs={"in_features": 3, "out_features": 2},
                   sample_inputs=_gated_samples, reference=_gated_reference, tags={"batch_independent"},
                   output_shape=lambda s, in_features, out_features: (s[0], out_features),
                   error_inputs=[ErrorInput(Sample((np.zeros((2, 5), "float32"),)), ValueError,
                                            r"acme.GatedLinear: expected input \(N, 3\), got \[2, 5\]")]),
        LossInfo(cls=CharbonnierLoss, sample_inputs=_loss_samples, reference=_loss_reference,
                 tags={"batch_independent", "double_backward"}),
        FunctionInfo(fn=gated_linear, sample_inputs=_gated_fn_samples, reference=_gated_fn_reference),
        FunctionInfo(fn=charbonnier_loss, sample_inputs=_loss_samples, tags={"double_backward"},
                     reference=lambda x, t: _loss_reference({}, x, t)),
    ]
