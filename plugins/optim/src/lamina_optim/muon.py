"""Muon, as PyTorch 2.13 implements it (``torch.optim.Muon``): momentum, then the update orthogonalised
by a quintic Newton-Schulz iteration run in bfloat16, decoupled weight decay, a shape-adjusted lr.

Per step: ``B = lerp(B, g, 1 - momentum)``; ``U = lerp(g, B, momentum)`` (nesterov) or ``B``;
``O = NS(U)``; ``p *= 1 - lr * weight_decay``; ``p -= adjust(lr, p.shape) * O``. Only 2-D parameters.

The Newton-Schulz iteration works on bfloat16 values as PyTorch's does on the CPU: every matrix
product accumulates in float32 and is rounded once to bfloat16 (round to nearest even), as are the
normalisation and each ``addmm``; the result, bfloat16 values held in float32 arrays, is added to the
parameter in the parameter's dtype. State: ``momentum_buffer``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from lamina import Tensor
from lamina.optim import Optimizer

from ._common import lerp_, params_with_grad, run_closure, to_float

__lamina_plugin_api__ = "1.0"

__all__ = ["Muon"]

EPS = 1e-7
DEFAULT_A, DEFAULT_B, DEFAULT_C = 3.4445, -4.7750, 2.0315
DEFAULT_NS_STEPS = 5


def to_bfloat16(xp: Any, a: Any) -> Any:
    """The bfloat16 rounding (nearest, ties to even) of a float32/float64 array, as float32 values.

    float64 is rounded directly from its own bits (no double rounding through float32).
    """
    if a.dtype == xp.float64:
        u = a.view(xp.uint64)
        u = (u + xp.uint64((1 << 44) - 1) + ((u >> xp.uint64(45)) & xp.uint64(1))) & xp.uint64(~((1 << 45) - 1)
                                                                                             & (2**64 - 1))
        errstate = getattr(xp, "errstate", None)   # beyond bfloat16's range the cast gives inf, as PyTorch's
        if errstate is None:
            out = u.view(xp.float64).astype(xp.float32)
        else:
            with errstate(over="ignore"):
                out = u.view(xp.float64).astype(xp.float32)
    else:
        a = a.astype(xp.float32, copy=False)
        u = a.view(xp.uint32).astype(xp.uint64)
        u = (u + xp.uint64(0x7FFF) + ((u >> xp.uint64(16)) & xp.uint64(1))) & xp.uint64(0xFFFF0000)
        out = u.astype(xp.uint32).view(xp.float32)
    return xp.where(xp.isnan(a), a.astype(xp.float32), out)


def zeropower_via_newtonschulz(xp: Any, grad: Any, ns_coefficients: tuple[float, float, float], ns_steps: int,
                               eps: float) -> Any:
    """Approximate orthogonalisation of a 2-D array ``grad (R, C)`` by ``ns_steps`` quintic iterations.

    Returns bfloat16 values (R, C) in a float32 array.
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = to_bfloat16(xp, grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = to_bfloat16(xp, xp.sqrt(xp.sum(x * x, dtype=xp.float32)))
    norm = xp.maximum(norm, to_bfloat16(xp, xp.asarray(eps, dtype=xp.float32)))
    x = to_bfloat16(xp, x / norm)
    for _ in range(ns_steps):
        gram = to_bfloat16(xp, x @ x.T)
        gram_update = to_bfloat16(xp, b * gram + c * (gram @ gram))
        x = to_bfloat16(xp, a * x + gram_update @ x)
    return x.T if tall else x


def adjust_lr(lr: float, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> float:
    """'original' (the default): ``lr * sqrt(max(1, A / B))``; 'match_rms_adamw': ``0.2 * lr * sqrt(max(A, B))``."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon for 2-D parameters with PyTorch's defaults (``lr=1e-3, weight_decay=0.1, momentum=0.95``)."""

    def __init__(self, params: Any, lr: float | Tensor = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
                 eps: float = EPS, ns_steps: int = DEFAULT_NS_STEPS, adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= to_float(lr):
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum, "nesterov": nesterov,
                    "ns_coefficients": ns_coefficients, "eps": eps, "ns_steps": ns_steps,
                    "adjust_lr_fn": adjust_lr_fn}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One Muon update of every parameter that has a gradient; returns the closure's loss."""
        loss = run_closure(closure)
        for group in self.param_groups:
            lr, wd, momentum = to_float(group["lr"]), group["weight_decay"], group["momentum"]
            for p in params_with_grad(group):
                if p.is_complex():
                    raise RuntimeError("Muon does not support complex parameters")
                if getattr(p.grad, "is_sparse", False):
                    raise RuntimeError("Muon does not support sparse gradients")
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = p.grad.new_zeros(p.grad.shape)
                xp = p.device.backend.xp
                g, x = p.grad.array, p.array
                if g.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                buf = state["momentum_buffer"].array
                lerp_(xp, buf, g, 1 - momentum)
                if group["nesterov"]:
                    update = g.copy()
                    lerp_(xp, update, buf, momentum)
                else:
                    update = buf
                ortho = zeropower_via_newtonschulz(xp, update, group["ns_coefficients"], group["ns_steps"],
                                                   group["eps"])
                step_lr = adjust_lr(lr, group["adjust_lr_fn"], tuple(p.shape))
                x *= 1 - lr * wd
                x += ortho.astype(x.dtype) * -step_lr
        return loss
