"""Adaptive per-coordinate step sizes from squared-gradient accumulators: RMSprop, Adagrad, Adadelta."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lamina
from lamina.optim import Optimizer

from ._common import (
    addcdiv_,
    bump,
    check_range,
    check_unsupported,
    init_state,
    lerp_,
    params_with_grad,
    prepare_grad,
    run_closure,
    scalar_state,
    square_avg_,
    to_float,
)
from .sparse import adagrad_sparse_step

__lamina_plugin_api__ = "1.0"

__all__ = ["RMSprop", "Adagrad", "Adadelta"]


class RMSprop(Optimizer):
    """RMSprop: ``v = alpha * v + (1 - alpha) * g^2``; ``p -= lr * g / (sqrt(v - centered_mean^2) + eps)``.

    With ``momentum`` the step goes through a buffer ``b = momentum * b + g / (sqrt(.) + eps)``.
    State: ``step``, ``square_avg`` (+ ``momentum_buffer`` with momentum, ``grad_avg`` when centered).
    """

    def __init__(self, params: Any, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        check_range("learning rate", lr)
        check_range("epsilon value", eps)
        check_range("momentum value", momentum)
        check_range("weight_decay value", weight_decay)
        check_range("alpha value", alpha)
        check_unsupported("RMSprop", differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RMSprop update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr, alpha, eps = to_float(group["lr"]), group["alpha"], group["eps"]
            momentum, centered = group["momentum"], group["centered"]
            for p in params_with_grad(group, "RMSprop"):
                xp = p.device.backend.xp
                state = self.state[p]
                if not state:
                    init_state(state, p, "square_avg", *(("momentum_buffer",) if momentum > 0 else ()),
                               *(("grad_avg",) if centered else ()))
                bump(state["step"])
                g = prepare_grad(xp, p.array, p.grad.array, group["maximize"], group["weight_decay"])
                square_avg = state["square_avg"].array
                square_avg_(xp, square_avg, g, alpha)
                if centered:
                    grad_avg = state["grad_avg"].array
                    lerp_(xp, grad_avg, g, 1 - alpha)
                    avg = xp.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    avg = xp.sqrt(square_avg)
                avg += eps
                x = p.array
                if momentum > 0:
                    buf = state["momentum_buffer"].array
                    buf *= momentum
                    buf += xp.divide(g, avg)
                    x -= lr * buf
                else:
                    addcdiv_(xp, x, g, avg, -lr)
        return loss


class Adagrad(Optimizer):
    """Adagrad: ``s += g^2``; ``p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)``.

    As in PyTorch the state (``step``, ``sum`` filled with ``initial_accumulator_value``) is created
    for every parameter in the constructor.
    """

    def __init__(self, params: Any, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        check_range("learning rate", lr)
        check_range("lr_decay value", lr_decay)
        check_range("weight_decay value", weight_decay)
        check_range("initial_accumulator_value value", initial_accumulator_value)
        check_range("epsilon value", eps)
        check_unsupported("Adagrad", differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = scalar_state(0.0)
                state["sum"] = lamina.full_like(p, initial_accumulator_value)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adagrad update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = to_float(group["lr"]), group["lr_decay"], group["eps"]
            for p in params_with_grad(group):
                xp = p.device.backend.xp
                state = self.state[p]
                if p.grad.is_sparse:  # nn.Embedding(sparse=True): only the rows present change
                    adagrad_sparse_step(p, state, lr, lr_decay, group["weight_decay"], eps, group["maximize"])
                    continue
                t = bump(state["step"])
                g = prepare_grad(xp, p.array, p.grad.array, group["maximize"], group["weight_decay"])
                clr = lr / (1 + (t - 1) * lr_decay)
                s = state["sum"].array
                s += xp.multiply(g, g)
                std = xp.sqrt(s)
                std += eps
                addcdiv_(xp, p.array, g, std, -clr)
        return loss


class Adadelta(Optimizer):
    """Adadelta (Zeiler): ``v = rho v + (1-rho) g^2``; ``dx = sqrt(u + eps) / sqrt(v + eps) * g``;
    ``u = rho u + (1-rho) dx^2``; ``p -= lr * dx``.

    State: ``step``, ``square_avg``, ``acc_delta``.
    """

    def __init__(self, params: Any, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0,
                 foreach: bool | None = None, *, capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        check_range("learning rate", lr)
        check_range("rho value", rho, 0.0, 1.0, high_inclusive=True)
        check_range("epsilon value", eps)
        check_range("weight_decay value", weight_decay)
        check_unsupported("Adadelta", differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adadelta update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = to_float(group["lr"]), group["rho"], group["eps"]
            for p in params_with_grad(group, "Adadelta"):
                xp = p.device.backend.xp
                state = self.state[p]
                if not state:
                    init_state(state, p, "square_avg", "acc_delta")
                bump(state["step"])
                g = prepare_grad(xp, p.array, p.grad.array, group["maximize"], group["weight_decay"])
                square_avg, acc_delta = state["square_avg"].array, state["acc_delta"].array
                square_avg_(xp, square_avg, g, rho)
                std = xp.sqrt(square_avg + eps)
                delta = xp.sqrt(acc_delta + eps)
                delta /= std
                delta *= g
                square_avg_(xp, acc_delta, delta, rho)
                x = p.array
                x -= lr * delta
        return loss
