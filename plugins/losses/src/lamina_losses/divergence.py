"""Kullback-Leibler divergence: one fused elementwise Function."""

from __future__ import annotations

import warnings

from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function

from ._reduction import _Loss, check_float, check_same_shape, quiet, resolve, same_dtype

__lamina_plugin_api__ = "1.0"

_VALID = ("none", "batchmean", "sum", "mean")


class KLDiv(Function):
    """Pointwise t (log t - x), or exp(t) (t - x) with ``log_target``. x, t: (*) -> (*)"""

    @staticmethod
    def forward(ctx, x, t, log_target):
        xp = ctx.xp
        ctx.log_target = log_target
        ctx.save_for_backward(x, t)
        if log_target:
            return xp.exp(t) * (t - x)
        with quiet(xp):
            return xp.where(t == 0, 0, t * xp.log(t)) - t * x  # xlogy(t, t): 0 where t == 0

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        x, t = ctx.saved_tensors
        e = xp.exp(t) if ctx.log_target else t
        dx = -e * dy
        dt = None
        if ctx.needs_input_grad[1]:
            if ctx.log_target:
                dt = e * (t - x + 1) * dy
            else:
                with quiet(xp):
                    dt = (xp.where(t == 0, 0, xp.log(t) + 1) - x) * dy
        return dx, dt, None


@autocast_op("fp32")
def kl_div(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
           reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise, for log-probabilities ``input``.

    ``reduction='batchmean'`` divides the sum by the batch size (the mathematical KL divergence);
    ``'mean'`` divides by the number of elements and warns, as in PyTorch.

    Shape: input (*), target (*) -> () or (*).
    """
    name = "KLDivLoss"
    legacy = size_average is not None or reduce is not None
    reduction = resolve(name, reduction, size_average, reduce, valid=_VALID)
    if reduction == "mean" and not legacy:
        warnings.warn("KLDivLoss: reduction='mean' divides the total loss by both the batch size and the support "
                      "size; 'batchmean' divides only by the batch size, and aligns with the KL divergence's "
                      "mathematical definition.", UserWarning, stacklevel=2)
    check_float(name, "input", input)
    check_same_shape(name, input, target)
    loss = KLDiv.apply(input, same_dtype(target, input), bool(log_target))
    if reduction == "none":
        return loss
    if reduction == "mean":
        return loss.mean()
    total = loss.sum()
    return total / input.shape[0] if reduction == "batchmean" and input.ndim else total


class KLDivLoss(_Loss):
    """Kullback-Leibler divergence of log-probabilities ``input`` from ``target``.

    Shape: input (*), target (*) -> () or (*) with ``reduction='none'``.
    """

    __constants__ = ["reduction"]

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 log_target: bool = False) -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_target = log_target

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)
