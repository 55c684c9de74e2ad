"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lamina
from lamina.optim import Optimizer

from ._common import check_range, check_unsupported, params_with_grad, run_closure, to_float
from .fused import sgd_step_, sgd_update_

__lamina_plugin_api__ = "1.0"

__all__ = ["SGD"]


class SGD(Optimizer):
    """SGD: ``b = momentum * b + (1 - dampening) * g``; ``p -= lr * (g + momentum * b if nesterov else b)``.

    ``g`` is the gradient (negated with ``maximize``) plus ``weight_decay * p``. The momentum
    buffer starts as a copy of the first ``g``. State: ``momentum_buffer`` (only with momentum).
    """

    def __init__(self, params: Any, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        check_range("learning rate", lr)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        check_unsupported("SGD", differentiable)
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr = to_float(group["lr"])
            momentum, dampening = group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in params_with_grad(group):
                if p.device.type != "cpu":  # one op per parameter, so a backend's fused kernel can take it
                    # no state entry without momentum (as on the CPU path and in PyTorch)
                    _sgd_op(self.state[p] if momentum != 0 else {}, p, lr, momentum, dampening, wd, nesterov,
                            maximize)
                    continue
                buf, first = _momentum_buffer(self.state[p], p) if momentum != 0 else (None, False)
                sgd_update_(p.device.backend.xp, p.array, p.grad.array, None if buf is None else buf.array, lr,
                            momentum, dampening, wd, nesterov, maximize, first)
        return loss


def _sgd_op(state: dict, p: Any, lr: float, momentum: float, dampening: float, wd: float, nesterov: bool,
            maximize: bool) -> None:
    buf, first = _momentum_buffer(state, p) if momentum != 0 else (None, False)
    sgd_step_(p, p.grad, buf, lr=lr, momentum=momentum, dampening=dampening, weight_decay=wd, nesterov=nesterov,
              maximize=maximize, first=first)


def _momentum_buffer(state: dict, p: Any) -> tuple[Any, bool]:
    """The momentum buffer of ``p``, created (zeros) on first use, and whether this is that first use."""
    buf = state.get("momentum_buffer")
    if buf is None:
        state["momentum_buffer"] = buf = lamina.zeros_like(p)
        return buf, True
    return buf, False
