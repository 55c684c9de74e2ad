"""Fused optimizer updates: ``AdamStep`` and ``SGDStep`` ops with one-launch CUDA kernels.

lamina-optim has no per-op kernel hook yet, so the ops live here: each reference ``forward``
is ``xp`` code following lamina-optim's update rule step by step (in place, in the parameter's
dtype), and the CUDA kernel does the same arithmetic in one pass. An optimizer uses them as
``adam_step_(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, lr=..., ...)`` (tensors; runs under
``no_grad``); on the CPU the reference runs, on CUDA the kernel.
"""

from __future__ import annotations

from typing import Any

import lamina
import numpy
from lamina.autograd import Function

from ._source import fits, function, launch_pointwise


class AdamStep(Function):
    """In place: p, exp_avg m, exp_avg_sq v (and max_exp_avg_sq with amsgrad) after one Adam step.

    Shape: p, g, m, v, vmax: (*) all alike. ``step`` is the step number after incrementing.
    """

    @staticmethod
    def forward(ctx, p, g, m, v, vmax, *, lr: float, beta1: float, beta2: float, eps: float,
                weight_decay: float, step: int, amsgrad: bool = False, maximize: bool = False,
                decoupled: bool = False):
        xp = ctx.xp
        if maximize:
            g = xp.negative(g)
        if weight_decay != 0:
            if decoupled:
                p *= 1 - lr * weight_decay
            else:
                g = xp.add(g, weight_decay * p)
        w = 1 - beta1
        d = xp.subtract(g, m)
        if w < 0.5:
            d *= w
            m += d
        else:
            d *= 1.0 - w
            xp.subtract(g, d, out=m)
        v *= beta2
        g2 = xp.multiply(g, g)
        g2 *= 1 - beta2
        v += g2
        if amsgrad:
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = xp.sqrt(v)
        denom /= (1 - beta2 ** step) ** 0.5
        denom += eps
        q = xp.divide(m, denom)
        q *= -(lr / (1 - beta1 ** step))
        p += q
        return p

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("AdamStep: an optimizer update is not differentiable (call it under no_grad)")


class SGDStep(Function):
    """In place: p (and the momentum buffer) after one SGD step; ``first`` marks the buffer's first use.

    Shape: p, g, buf: (*) all alike (buf may be None when momentum == 0).
    """

    @staticmethod
    def forward(ctx, p, g, buf, *, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False, first: bool = False):
        xp = ctx.xp
        if maximize:
            g = xp.negative(g)
        if weight_decay != 0:
            g = xp.add(g, weight_decay * p)
        if momentum != 0:
            if first:
                buf[...] = g
            else:
                buf *= momentum
                buf += (1 - dampening) * g if dampening != 0 else g
            g = xp.add(g, momentum * buf) if nesterov else buf
        p -= lr * g
        return p

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError("SGDStep: an optimizer update is not differentiable (call it under no_grad)")


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


def adam_step_(p: lamina.Tensor, grad: lamina.Tensor, exp_avg: lamina.Tensor, exp_avg_sq: lamina.Tensor,
               max_exp_avg_sq: lamina.Tensor | None = None, **hyper: Any) -> None:
    """One fused Adam/AdamW update of ``p`` and its state (see ``AdamStep``)."""
    with lamina.no_grad():
        AdamStep.apply(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, **hyper)


def sgd_step_(p: lamina.Tensor, grad: lamina.Tensor, momentum_buffer: lamina.Tensor | None = None,
              **hyper: Any) -> None:
    """One fused SGD update of ``p`` (and its momentum buffer; see ``SGDStep``)."""
    with lamina.no_grad():
        SGDStep.apply(p, grad, momentum_buffer, **hyper)


KERNELS = ((AdamStep, CudaAdamStep), (SGDStep, CudaSGDStep))
