"""Per-parameter Adam and SGD updates as ops (``Function`` subclasses) that a kernel pack can replace.

Each reference ``forward`` is ``xp`` code with exactly the arithmetic of ``Adam.step`` / ``SGD.step``
(in place, in the parameter's dtype), so an optimizer may call it instead of its own loop body and
get bitwise the same result. ``Adam`` and ``SGD`` use these ops for parameters on devices other than
the CPU; a backend's kernel pack (lamina-backend-cuda) registers fused one-launch kernels for them
with ``lamina.kernels`` — lamina-optim never imports it. Call through ``adam_step_``/``sgd_step_``
(tensors; they run under ``no_grad``).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina.autograd import Function

__lamina_plugin_api__ = "1.0"

__all__ = ["AdamStep", "SGDStep", "adam_step_", "sgd_step_"]


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
