"""Averaged SGD and resilient backpropagation (Rprop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lamina
from lamina.optim import Optimizer

from ._common import (
    bump,
    check_range,
    check_unsupported,
    init_state,
    params_with_grad,
    prepare_grad,
    run_closure,
    scalar_slot,
    to_float,
)

__lamina_plugin_api__ = "1.0"

__all__ = ["ASGD", "Rprop"]


class ASGD(Optimizer):
    """Averaged SGD (Polyak & Juditsky): ``p = p * (1 - lambd * eta) - eta * g``, with the running
    average ``ax`` of the iterates (a copy of ``p`` while ``mu == 1``, i.e. for ``t <= t0 + 1``).

    ``eta = lr / (1 + lambd * lr * t)^alpha`` and ``mu = 1 / max(1, t - t0)`` are 0-d state tensors
    of the scalar dtype, so ``eta`` is rounded to float32 as in PyTorch.
    State: ``step``, ``eta``, ``mu``, ``ax``.
    """

    def __init__(self, params: Any, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75, t0: float = 1e6,
                 weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        check_range("learning rate", lr)
        check_range("weight_decay value", weight_decay)
        check_unsupported("ASGD", differentiable)
        defaults = {"lr": lr, "lambd": lambd, "alpha": alpha, "t0": t0, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One ASGD update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr, lambd, alpha, t0 = to_float(group["lr"]), group["lambd"], group["alpha"], group["t0"]
            wd, maximize = group["weight_decay"], group["maximize"]
            for p in params_with_grad(group, "ASGD"):
                xp = p.device.backend.xp
                state = self.state[p]
                if not state:
                    init_state(state, p, "ax", eta=lr, mu=1.0)
                t = bump(state["step"])
                x = p.array
                g = prepare_grad(xp, x, p.grad.array, maximize, wd)
                eta_a, mu_a = scalar_slot(state, "eta"), scalar_slot(state, "mu")
                eta, mu = float(eta_a), float(mu_a)
                x *= 1 - lambd * eta
                x -= eta * g
                ax = state["ax"].array
                if mu != 1:
                    d = xp.subtract(x, ax)
                    d *= mu
                    ax += d
                else:
                    ax[...] = x
                eta_a[...] = lr / ((1 + lambd * lr * t) ** alpha)
                mu_a[...] = 1 / max(1, t - t0)
        return loss


class Rprop(Optimizer):
    """Rprop: per-coordinate step sizes grow by ``etas[1]`` while the gradient keeps its sign and
    shrink by ``etas[0]`` when it flips (then that coordinate skips the step), clamped to ``step_sizes``;
    ``p -= sign(g) * step_size``.

    State: ``step``, ``prev`` (the last gradient used), ``step_size`` (starts at ``lr``).
    """

    def __init__(self, params: Any, lr: float = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        check_range("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        check_unsupported("Rprop", differentiable)
        defaults = {"lr": lr, "etas": etas, "step_sizes": step_sizes, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Rprop update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            for p in params_with_grad(group, "Rprop"):
                xp = p.device.backend.xp
                state = self.state[p]
                if not state:
                    init_state(state, p, "prev")
                    state["step_size"] = lamina.full_like(p, to_float(group["lr"]))
                bump(state["step"])
                g = prepare_grad(xp, p.array, p.grad.array, group["maximize"], 0)
                prev, step_size = state["prev"].array, state["step_size"].array
                prod = xp.multiply(g, prev)
                # the factor per coordinate: etaplus (same sign), etaminus (flipped), 1 (a zero); NaN stays NaN
                factor = xp.where(prod > 0, etaplus, xp.where(prod < 0, etaminus, xp.where(prod == 0, 1.0, prod)))
                step_size *= factor.astype(step_size.dtype, copy=False)
                xp.clip(step_size, step_size_min, step_size_max, out=step_size)
                g = xp.where(prod < 0, 0.0, g)  # a flipped sign skips this step and resets the memory
                x = p.array
                x -= xp.sign(g) * step_size
                prev[...] = g
        return loss
