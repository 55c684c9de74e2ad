"""Per-parameter Adam and SGD updates as ops (``Function`` subclasses) that a kernel pack can replace.

Each reference ``forward`` runs ``adam_update_`` / ``sgd_update_``, the ``xp`` functions of the update
(in place, in the parameter's dtype); it is the CPU implementation. ``Adam``/``AdamW`` and ``SGD`` make
one op call per parameter on every device, and the kernel registry picks the implementation: a
backend's kernel pack (lamina-backend-cuda) registers fused one-launch kernels for them by op name
with ``lamina.kernels`` (lamina-optim never imports it, nor it lamina-optim); elsewhere the reference
runs. Call through ``adam_step_``/``sgd_step_`` (tensors; they run under ``no_grad``).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina.autograd import Function

from ._common import addcdiv_, in_pieces, lerp_, prepare_grad, square_avg_

__lamina_plugin_api__ = "1.0"

__all__ = ["AdamStep", "SGDStep", "adam_step_", "sgd_step_", "adam_update_", "sgd_update_"]


def adam_update_(xp: Any, x: Any, g: Any, m: Any, v: Any, vmax: Any, lr: float, beta1: float, beta2: float,
                 eps: float, weight_decay: float, step: float, amsgrad: bool, maximize: bool,
                 decoupled: bool, scratch: Any = None, backend: Any = None) -> None:
    """One Adam step on the arrays (parameter ``x``, gradient ``g``, moments ``m``, ``v``, ``vmax``), in place.

    ``x -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)`` with ``t = step``.
    ``scratch(shape, dtype, tag)``: the backend's workspace for the two temporaries (a fresh array per
    temporary costs page faults: 1.9 against 0.4 ms for an MLP's 270k parameters here), or None.
    ``backend``: runs the whole chain on cache-sized pieces with its ``parallel_for`` (``in_pieces``), or None.
    """
    t1 = t2 = None  # below 64 KiB malloc serves the temporaries without faults, faster than a workspace lookup
    if scratch is not None and x.nbytes >= 1 << 16:
        t1, t2 = scratch(x.shape, x.dtype, "adam.t1"), scratch(x.shape, x.dtype, "adam.t2")

    def chain(x: Any, g: Any, m: Any, v: Any, vmax: Any, t1: Any, t2: Any) -> None:
        g = prepare_grad(xp, x, g, maximize, weight_decay, decoupled, lr)
        lerp_(xp, m, g, 1 - beta1, t1)
        square_avg_(xp, v, g, beta2, t1)
        if amsgrad:
            xp.maximum(vmax, v, out=vmax)
            v = vmax
        denom = xp.sqrt(v, out=t2)
        denom /= (1 - beta2 ** step) ** 0.5
        denom += eps
        addcdiv_(xp, x, m, denom, -(lr / (1 - beta1 ** step)), t1)

    in_pieces(backend, chain, x, g, m, v, vmax, t1, t2)


def sgd_update_(xp: Any, x: Any, g: Any, buf: Any, lr: float, momentum: float, dampening: float,
                weight_decay: float, nesterov: bool, maximize: bool, first: bool, backend: Any = None) -> None:
    """One SGD step on the arrays (parameter ``x``, gradient ``g``, momentum buffer ``buf``), in place.

    ``first`` marks the buffer's first use (it is then set to ``g``); ``buf`` may be None without momentum.
    ``backend``: runs the chain on pieces with its ``parallel_for`` (see ``adam_update_``), or None.
    """

    def chain(x: Any, g: Any, buf: Any) -> None:
        g = prepare_grad(xp, x, g, maximize, weight_decay)
        if momentum != 0:
            if first:
                buf[...] = g
            else:
                buf *= momentum
                buf += (1 - dampening) * g if dampening != 0 else g
            g = xp.add(g, momentum * buf) if nesterov else buf
        x -= lr * g

    in_pieces(backend, chain, x, g, buf)


class AdamStep(Function):
    """In place: p, exp_avg m, exp_avg_sq v (and max_exp_avg_sq with amsgrad) after one Adam step.

    Shape: p, g, m, v, vmax: (*) all alike. ``step`` is the step number after incrementing.
    """

    @staticmethod
    def forward(ctx, p, g, m, v, vmax, *, lr: float, beta1: float, beta2: float, eps: float,
                weight_decay: float, step: int, amsgrad: bool = False, maximize: bool = False,
                decoupled: bool = False):
        adam_update_(ctx.xp, p, g, m, v, vmax, lr, beta1, beta2, eps, weight_decay, step, amsgrad, maximize,
                     decoupled, ctx.device.backend.workspace, ctx.device.backend)
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
        sgd_update_(ctx.xp, p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, first,
                    ctx.device.backend)
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
