"""One-launch CUDA kernels for lamina-optim's per-parameter update ops ``AdamStep`` and ``SGDStep``.

The ops (reference ``forward`` in ``xp`` code, bitwise the optimizers' own arithmetic) live in
``lamina_optim.fused``; lamina-optim's ``Adam``/``AdamW``/``SGD`` call them for parameters off the
CPU, so registering these kernels is all it takes for a training step on CUDA to use them.
``adam_step_``/``sgd_step_`` are re-exported for direct use.
"""

from __future__ import annotations

from typing import Any

import numpy
from lamina_optim.fused import AdamStep, SGDStep, adam_step_, sgd_step_

from ._source import fits, function, launch_pointwise


def _t(dtype: Any, value: float) -> Any:
    return numpy.dtype(dtype).type(value)


class CudaAdamStep(AdamStep):
    """AdamStep in one launch per parameter."""

    @staticmethod
    def forward(ctx, p, g, m, v, vmax, *, lr, beta1, beta2, eps, weight_decay, step, amsgrad=False,
                maximize=False, decoupled=False):
        t = p.dtype
        w = 1 - beta1
        flags = (1 if maximize else 0) | (2 if amsgrad else 0) | (4 if decoupled else 0)
        args = (p, g, m, v, vmax if amsgrad else v, numpy.int64(p.size), _t(t, weight_decay),
                _t(t, 1 - lr * weight_decay), _t(t, w), _t(t, 1.0 - w), _t(t, beta2), _t(t, 1 - beta2),
                _t(t, (1 - beta2 ** step) ** 0.5), _t(t, eps), _t(t, -(lr / (1 - beta1 ** step))), numpy.int32(flags))
        launch_pointwise(function("optim", "lm_adam_step", t), p.size, args)
        return p


class CudaSGDStep(SGDStep):
    """SGDStep in one launch per parameter."""

    @staticmethod
    def forward(ctx, p, g, buf, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                maximize=False, first=False):
        t = p.dtype
        flags = ((1 if maximize else 0) | (2 if nesterov else 0) | (4 if first else 0)
                 | (8 if momentum != 0 else 0))
        args = (p, g, buf if buf is not None else p, numpy.int64(p.size), _t(t, lr), _t(t, weight_decay),
                _t(t, momentum), _t(t, 1 - dampening), numpy.int32(flags))
        launch_pointwise(function("optim", "lm_sgd_step", t), p.size, args)
        return p


def _same(arrays: list) -> bool:
    first = arrays[0]
    return all(a is None or (fits(a) and a.dtype == first.dtype and a.shape == first.shape) for a in arrays)


def supports_adam(arrays: list, kwargs: dict) -> bool:
    return fits(arrays[0]) and _same(arrays[:4] + ([arrays[4]] if kwargs.get("amsgrad") else []))


def supports_sgd(arrays: list, kwargs: dict) -> bool:
    return fits(arrays[0]) and _same(arrays[:3])


__all__ = ["AdamStep", "SGDStep", "CudaAdamStep", "CudaSGDStep", "adam_step_", "sgd_step_"]

KERNELS = ((AdamStep, CudaAdamStep, supports_adam), (SGDStep, CudaSGDStep, supports_sgd))
