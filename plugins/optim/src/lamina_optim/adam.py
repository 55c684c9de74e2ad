"""The Adam family: Adam, AdamW, Adamax, NAdam, RAdam.

All share the first-moment update ``m += (1 - beta1) * (g - m)`` (PyTorch's ``lerp_``) and the
second-moment update ``v = beta2 * v + (1 - beta2) * g * g``; the bias corrections are Python
floats computed from the ``step`` counter, so the array work stays in the parameter's dtype.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import lamina
from lamina.optim import Optimizer

from ._common import (
    addcdiv_,
    bump,
    check_betas,
    check_range,
    check_unsupported,
    init_state,
    lerp_,
    params_with_grad,
    prepare_grad,
    run_closure,
    scalar_slot,
    square_avg_,
    to_float,
)
from .fused import AdamStep

__lamina_plugin_api__ = "1.0"

__all__ = ["Adam", "AdamW", "Adamax", "NAdam", "RAdam"]


def _check(lr: Any, eps: float, betas: Any, weight_decay: float) -> None:
    check_range("learning rate", lr)
    check_range("epsilon value", eps)
    check_betas(betas)
    check_range("weight_decay value", weight_decay)


def _moments(xp: Any, state: dict, g: Any, beta1: float, beta2: float) -> tuple[Any, Any]:
    """``m += (1 - beta1) * (g - m)``, ``v = beta2 * v + (1 - beta2) * g * g``; returns the arrays."""
    m, v = state["exp_avg"].array, state["exp_avg_sq"].array
    lerp_(xp, m, g, 1 - beta1)
    square_avg_(xp, v, g, beta2)
    return m, v


class Adam(Optimizer):
    """Adam (Kingma & Ba); ``amsgrad`` keeps the running maximum of ``v``.

    ``p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``. With
    ``decoupled_weight_decay`` the decay multiplies ``p`` by ``1 - lr * weight_decay`` (AdamW).
    State: ``step``, ``exp_avg``, ``exp_avg_sq`` (+ ``max_exp_avg_sq`` with amsgrad).
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        _check(lr, eps, betas, weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], lamina.Tensor) and isinstance(betas[1], lamina.Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        check_unsupported(type(self).__name__, differentiable)
        betas = tuple(to_float(b) for b in betas)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adam update of every parameter that has a gradient; returns the closure's loss.

        Each update is one ``AdamStep`` op on every device: the kernel registry runs a backend's fused
        kernel where one is registered (CUDA) and the op's reference (the CPU arithmetic) elsewhere.
        """
        loss = run_closure(closure)
        with lamina.no_grad():
            for group in self.param_groups:
                lr = to_float(group["lr"])
                beta1, beta2 = (to_float(b) for b in group["betas"])
                hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": group["eps"],
                         "weight_decay": group["weight_decay"], "amsgrad": group["amsgrad"],
                         "maximize": group["maximize"], "decoupled": group["decoupled_weight_decay"]}
                for p in params_with_grad(group, "Adam"):
                    state = self.state[p]
                    if not state:
                        init_state(state, p, "exp_avg", "exp_avg_sq",
                                   *(("max_exp_avg_sq",) if hyper["amsgrad"] else ()))
                    AdamStep.apply(p, p.grad, state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"),
                                   step=bump(state["step"]), **hyper)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``p *= 1 - lr * weight_decay`` first."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm, ``u = max(beta2 * u, |g| + eps)``, ``p -= lr / (1 - beta1^t) * m / u``.

    State: ``step``, ``exp_avg``, ``exp_inf``.
    """

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False) -> None:
        _check(lr, eps, betas, weight_decay)
        check_unsupported("Adamax", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adamax update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr = to_float(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
            for p in params_with_grad(group, "Adamax"):
                xp = p.device.backend.xp
                state = self.state[p]
                if not state:
                    init_state(state, p, "exp_avg", "exp_inf")
                t = bump(state["step"])
                g = prepare_grad(xp, p.array, p.grad.array, maximize, wd)
                m, u = state["exp_avg"].array, state["exp_inf"].array
                lerp_(xp, m, g, 1 - beta1)
                u *= beta2
                a = xp.abs(g)
                a += eps
                xp.maximum(u, a, out=u)
                addcdiv_(xp, p.array, m, u, -(lr / (1 - beta1 ** t)))
        return loss


class NAdam(Optimizer):
    """NAdam (Dozat): Adam with Nesterov momentum and the momentum schedule
    ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))``.

    State: ``step``, ``mu_product`` (0-d, the running product of ``mu_t``), ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: Any, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check(lr, eps, betas, weight_decay)
        check_range("momentum_decay value", momentum_decay)
        check_unsupported("NAdam", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One NAdam update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr = to_float(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd, psi = group["eps"], group["weight_decay"], group["momentum_decay"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            for p in params_with_grad(group, "NAdam"):
                xp = p.device.backend.xp
                state = self.state[p]
                if not state:
                    init_state(state, p, "exp_avg", "exp_avg_sq", mu_product=1.0)
                t = bump(state["step"])
                bias_correction2 = 1 - beta2 ** t
                g = prepare_grad(xp, p.array, p.grad.array, maximize, wd, decoupled, lr)
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * psi)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * psi)))
                mu_prod = scalar_slot(state, "mu_product")
                mu_prod *= mu  # in the stored (float32) precision, as PyTorch's 0-d tensor
                mu_product = float(mu_prod)
                m, v = _moments(xp, state, g, beta1, beta2)
                denom = xp.sqrt(xp.divide(v, bias_correction2))
                denom += eps
                x = p.array
                addcdiv_(xp, x, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product))
                addcdiv_(xp, x, m, denom, -lr * mu_next / (1.0 - mu_product * mu_next))
        return loss


class RAdam(Optimizer):
    """RAdam (Liu et al.): Adam whose adaptive step is used only once the variance is tractable.

    With ``rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)``: if ``rho_t > 5`` the step is Adam's
    times the rectification term, otherwise ``p -= lr * m / (1 - beta1^t)``.
    State: ``step``, ``exp_avg``, ``exp_avg_sq``.
    """

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check(lr, eps, betas, weight_decay)
        check_unsupported("RAdam", differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One RAdam update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr = to_float(group["lr"])
            beta1, beta2 = group["betas"]
            eps, wd = group["eps"], group["weight_decay"]
            decoupled, maximize = group["decoupled_weight_decay"], group["maximize"]
            rho_inf = 2 / (1 - beta2) - 1
            for p in params_with_grad(group, "RAdam"):
                xp = p.device.backend.xp
                state = self.state[p]
                if not state:
                    init_state(state, p, "exp_avg", "exp_avg_sq")
                t = bump(state["step"])
                g = prepare_grad(xp, p.array, p.grad.array, maximize, wd, decoupled, lr)
                m, v = _moments(xp, state, g, beta1, beta2)
                bias_correction1 = 1 - beta1 ** t
                bias_correction2 = 1 - beta2 ** t
                update = xp.divide(m, bias_correction1)
                update *= lr
                rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
                if rho_t > 5.0:
                    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    denom = xp.sqrt(v)
                    denom += eps
                    adaptive = xp.divide(bias_correction2 ** 0.5, denom)
                    update *= adaptive
                    update *= rect
                x = p.array
                x -= update
        return loss
