"""``acme.CharbonnierLoss``: sqrt((x - y)^2 + eps^2), a smooth L1 (composed from lamina ops)."""

from __future__ import annotations

import lamina
from lamina import nn

__lamina_plugin_api__ = "1.0"

_REDUCTIONS = ("none", "mean", "sum")


def charbonnier_loss(input: lamina.Tensor, target: lamina.Tensor, eps: float = 1e-3,
                     reduction: str = "mean") -> lamina.Tensor:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"acme.CharbonnierLoss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    if tuple(input.shape) != tuple(target.shape):
        raise lamina.ShapeError(f"acme.CharbonnierLoss: expected target of shape {list(input.shape)}, "
                                f"got {list(target.shape)}")
    loss = ((input - target) ** 2 + eps * eps).sqrt()
    return loss if reduction == "none" else (loss.sum() if reduction == "sum" else loss.mean())


class CharbonnierLoss(nn.Module):
    """Shape: input (*), target (*) -> () or (*) with reduction='none'."""

    def __init__(self, eps: float = 1e-3, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"acme.CharbonnierLoss: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.eps, self.reduction = eps, reduction

    def forward(self, input: lamina.Tensor, target: lamina.Tensor) -> lamina.Tensor:
        return charbonnier_loss(input, target, self.eps, self.reduction)
