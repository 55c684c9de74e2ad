"""One-launch CUDA kernels for lamina-optim's per-parameter update ops ``AdamStep`` and ``SGDStep``.

The ops (reference ``forward`` in ``xp`` code, bitwise the optimizers' own arithmetic) live in
lamina-optim, whose ``Adam``/``AdamW``/``SGD`` call them for every parameter on every device; the
kernel registry picks these kernels for CUDA arrays (and the reference elsewhere), so registering
them by name is all it takes for a training step on CUDA to use them.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy

from ._source import fits, function, launch_pointwise


def _t(dtype: Any, value: float) -> Any:
    return numpy.dtype(dtype).type(value)


@cache
def adam_kernel(AdamStep: type) -> type:
    """The kernel class for the op ``AdamStep`` (registered by name: this pack never imports its plugin)."""

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
                    _t(t, (1 - beta2 ** step) ** 0.5), _t(t, eps), _t(t, -(lr / (1 - beta1 ** step))),
                    numpy.int32(flags))
            launch_pointwise(function("optim", "lm_adam_step", t), p.size, args)
            return p

    return CudaAdamStep


@cache
def sgd_kernel(SGDStep: type) -> type:
    """The kernel class for the op ``SGDStep`` (registered by name: this pack never imports its plugin)."""

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

    return CudaSGDStep


def _same(arrays: list) -> bool:
    first = arrays[0]
    return all(a is None or (fits(a) and a.dtype == first.dtype and a.shape == first.shape) for a in arrays)


def supports_adam(arrays: list, kwargs: dict) -> bool:
    return fits(arrays[0]) and _same(arrays[:4] + ([arrays[4]] if kwargs.get("amsgrad") else []))


def supports_sgd(arrays: list, kwargs: dict) -> bool:
    return fits(arrays[0]) and _same(arrays[:3])


KERNELS = (("AdamStep", adam_kernel, supports_adam), ("SGDStep", sgd_kernel, supports_sgd))
