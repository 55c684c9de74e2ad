"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lamina
from lamina.optim import Optimizer

from ._common import check_range, check_unsupported, params_with_grad, run_closure, to_float
from .fused import SGDStep
from .sparse import sgd_sparse_step

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
        """One update of every parameter that has a gradient; returns the closure's loss.

        Each update is one ``SGDStep`` op on every device: the kernel registry runs a backend's fused
        kernel where one is registered (CUDA) and the op's reference (the CPU arithmetic) elsewhere.
        """
        loss = run_closure(closure)
        with lamina.no_grad():
            for group in self.param_groups:
                momentum = group["momentum"]
                hyper = {"lr": to_float(group["lr"]), "momentum": momentum, "dampening": group["dampening"],
                         "weight_decay": group["weight_decay"], "nesterov": group["nesterov"],
                         "maximize": group["maximize"]}
                for p in params_with_grad(group):
                    if p.grad.is_sparse:  # nn.Embedding(sparse=True): only the rows present change
                        sgd_sparse_step(p, self.state[p], **hyper)
                        continue
                    # no state entry without momentum (as in PyTorch)
                    buf, first = _momentum_buffer(self.state[p], p) if momentum != 0 else (None, False)
                    SGDStep.apply(p, p.grad, buf, first=first, **hyper)
        return loss


def _momentum_buffer(state: dict, p: Any) -> tuple[Any, bool]:
    """The momentum buffer of ``p``, created (zeros) on first use, and whether this is that first use."""
    buf = state.get("momentum_buffer")
    if buf is None:
        state["momentum_buffer"] = buf = lamina.zeros_like(p)
        return buf, True
    return buf, False
