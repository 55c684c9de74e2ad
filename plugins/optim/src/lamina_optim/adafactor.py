"""Adafactor, as PyTorch 2.13 implements it (``torch.optim.Adafactor``; not the paper's variants).

Per step ``t`` (``beta2_t = 1 - t^beta2_decay``, ``rho_t = min(lr, 1 / sqrt(t))``):

- ``alpha = max(eps2, RMS(p)) * rho_t`` (RMS of the parameter before weight decay);
- ``p *= 1 - lr * weight_decay``;
- a parameter with 2 or more dims keeps factored second moments over its last two dims:
  ``row_var (*, R, 1)`` and ``col_var (*, 1, C)`` move towards ``mean(g^2, -1)`` / ``mean(g^2, -2)``
  by ``t^beta2_decay`` (``lerp``), and the estimate is ``row_var @ col_var / max(mean(row_var, -2), eps1)``;
  a vector (or 0-d) parameter keeps the full ``variance``;
- ``u = g / sqrt(max(estimate, eps1^2))``, ``p -= alpha / max(1, RMS(u) / d) * u``.

``eps1=None`` means the machine epsilon of the first parameter's dtype in the group (PyTorch sets it
once per group, on the first parameter with a gradient). State: ``step`` and ``row_var``/``col_var``
or ``variance``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import lamina
from lamina import Tensor
from lamina.optim import Optimizer

from ._common import bump, lerp_, params_with_grad, run_closure, scalar_state, to_float

__lamina_plugin_api__ = "1.0"

__all__ = ["Adafactor"]


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


class Adafactor(Optimizer):
    """Adafactor with PyTorch's defaults ``lr=1e-2, beta2_decay=-0.8, eps=(None, 1e-3), d=1.0``."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        _check(0.0 <= to_float(lr), f"Learning rate should be >= 0 but is: {lr}")
        _check(0.0 >= beta2_decay, f"beta2_decay should be <= 0 but is: {beta2_decay}")
        _check(eps[0] is None or 0.0 <= eps[0], f"epsilon1 should be >= 0 but is: {eps[0]}")
        _check(0.0 <= eps[1], f"epsilon2 should be >= 0 but is: {eps[1]}")
        _check(1.0 <= d, f"Clipping threshold d should be >= 1 but is: {d}")
        _check(0.0 <= weight_decay, f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = {"lr": lr, "beta2_decay": beta2_decay, "eps": eps, "d": d, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize}
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor) -> dict:
        state = self.state[p]
        if not state:
            state["step"] = scalar_state(0.0)
            if p.grad.dim() > 1:
                state["row_var"] = p.grad.new_zeros((*p.grad.shape[:-1], 1))
                state["col_var"] = p.grad.new_zeros((*p.grad.shape[:-2], 1, p.grad.shape[-1]))
            else:
                state["variance"] = lamina.zeros_like(p.grad)
        return state

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Adafactor update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr, d, wd = to_float(group["lr"]), group["d"], group["weight_decay"]
            eps1, eps2 = group["eps"]
            for p in params_with_grad(group):
                if p.is_complex():
                    raise RuntimeError("Adafactor does not support complex parameters")
                if getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("Adafactor does not support sparse gradients")
                state = self._init_state(p)
                if eps1 is None:
                    eps1 = lamina.finfo(p.dtype).eps
                self._update(p, state, lr, d, wd, eps1, eps2, group["beta2_decay"], group["maximize"])
        return loss

    @staticmethod
    def _update(p: Tensor, state: dict, lr: float, d: float, wd: float, eps1: float, eps2: float,
                beta2_decay: float, maximize: bool) -> None:
        xp = p.device.backend.xp
        x, g = p.array, p.grad.array
        if maximize:
            g = xp.negative(g)
        t = bump(state["step"])
        w = t ** beta2_decay
        rho = min(lr, 1 / t ** 0.5)
        alpha = max(eps2, float(xp.sqrt(xp.sum(x * x))) / x.size ** 0.5) * rho
        if wd != 0:
            x *= 1 - lr * wd
        if g.ndim > 1:
            row_var, col_var = state["row_var"].array, state["col_var"].array
            g2 = g * g
            # PyTorch forms these as norm(g, dim)^2 / size(dim): the same rounding as sqrt-then-square
            row_mean = xp.square(xp.sqrt(xp.sum(g2, axis=-1, keepdims=True))) / g.shape[-1]
            col_mean = xp.square(xp.sqrt(xp.sum(g2, axis=-2, keepdims=True))) / g.shape[-2]
            lerp_(xp, row_var, row_mean, w)
            lerp_(xp, col_var, col_mean, w)
            estimate = xp.matmul(row_var, col_var)
            estimate /= xp.maximum(xp.mean(row_var, axis=-2, keepdims=True), xp.asarray(eps1, dtype=x.dtype))
        else:
            variance = state["variance"].array
            lerp_(xp, variance, g * g, w)
            estimate = variance.copy()
        update = xp.maximum(estimate, xp.asarray(eps1 * eps1, dtype=x.dtype))
        update = 1 / xp.sqrt(update)
        update *= g
        denom = max(1.0, float(xp.sqrt(xp.sum(update * update))) / (math.sqrt(update.size) * d))
        update *= -alpha / denom
        x += update
