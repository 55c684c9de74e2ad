"""Regression losses: L1, MSE, SmoothL1, Huber, Poisson NLL, Gaussian NLL (composed from tensor ops).

Unlike PyTorch, which warns and broadcasts when ``input`` and ``target`` differ in shape, these
losses raise a ``ShapeError``: a silently broadcast loss is almost always a bug.
"""

from __future__ import annotations

import math

import lamina
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import ShapeError

from ._reduction import _Loss, apply_reduction, check_float, check_same_shape, resolve, same_dtype

__lamina_plugin_api__ = "1.0"


def _pair(name: str, input: Tensor, target: Tensor) -> Tensor:
    check_float(name, "input", input)
    check_same_shape(name, input, target)
    return same_dtype(target, input)


@autocast_op("fp32")
def l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """|input - target|. Shape: input (*), target (*) -> () or (*)."""
    reduction = resolve("L1Loss", reduction, size_average, reduce)
    target = _pair("L1Loss", input, target)
    loss = (input - target).abs()
    return apply_reduction(loss if weight is None else loss * weight, reduction)


@autocast_op("fp32")
def mse_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """(input - target)^2. Shape: input (*), target (*) -> () or (*)."""
    reduction = resolve("MSELoss", reduction, size_average, reduce)
    target = _pair("MSELoss", input, target)
    loss = (input - target).square()
    return apply_reduction(loss if weight is None else loss * weight, reduction)


@autocast_op("fp32")
def smooth_l1_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta; beta = 0 is the L1 loss.

    Shape: input (*), target (*) -> () or (*).
    """
    reduction = resolve("SmoothL1Loss", reduction, size_average, reduce)
    if beta < 0:
        raise ValueError(f"SmoothL1Loss: expected beta >= 0, got {beta}")
    target = _pair("SmoothL1Loss", input, target)
    d = (input - target).abs()
    if beta == 0.0:
        return apply_reduction(d, reduction)
    return apply_reduction(lamina.where(d < beta, (0.5 / beta) * d.square(), d - 0.5 * beta), reduction)


@autocast_op("fp32")
def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta). Shape: input (*), target (*) -> () or (*)."""
    reduction = resolve("HuberLoss", reduction)
    if delta <= 0:
        raise ValueError(f"HuberLoss: expected delta > 0, got {delta}")
    target = _pair("HuberLoss", input, target)
    d = (input - target).abs()
    loss = lamina.where(d < delta, 0.5 * d.square(), delta * (d - 0.5 * delta))
    return apply_reduction(loss if weight is None else loss * weight, reduction)


@autocast_op("fp32")
def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: bool | None = None, eps: float = 1e-8, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    """Poisson negative log-likelihood; ``full`` adds Stirling's term where target > 1.

    Shape: input (*), target (*) -> () or (*).
    """
    reduction = resolve("PoissonNLLLoss", reduction, size_average, reduce)
    target = _pair("PoissonNLLLoss", input, target)
    loss = input.exp() - target * input if log_input else input - target * (input + eps).log()
    if full:
        big = target > 1
        y = lamina.where(big, target, 1.0)  # keeps log() away from 0 where the term is masked out anyway
        stirling = y * y.log() - y + 0.5 * (2 * math.pi * y).log()
        loss = loss + lamina.where(big, stirling, 0.0)
    return apply_reduction(loss, reduction)


class _ClampKeepGrad(Function):
    """y = max(x, lo) with the identity gradient (PyTorch clamps the variance under no_grad)."""

    @staticmethod
    def forward(ctx, x, lo):
        return ctx.xp.maximum(x, lo)

    @staticmethod
    def backward(ctx, dy):
        return dy, None


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """0.5 (log(max(var, eps)) + (input - target)^2 / max(var, eps)) (+ 0.5 log(2 pi) if ``full``).

    Shape: input (N, *) or (*), target like input, var like input, or input's shape with the
    last dimension dropped or with one dimension of size 1 (homoscedastic) -> () or input's shape.
    """
    name = "GaussianNLLLoss"
    check_float(name, "input", input)
    if isinstance(var, (int, float)):
        if var < 0:
            raise ValueError(f"{name}: var has negative entry/entries (got var={var})")
        var = lamina.full_like(input, float(var))
    else:
        check_float(name, "var", var)
        if bool((var.detach() < 0).any()):
            raise ValueError(f"{name}: var has negative entry/entries")
    check_same_shape(name, input, target)
    shape, vshape = tuple(input.shape), tuple(var.shape)
    if vshape != shape:
        if shape[:-1] == vshape:
            var = var.unsqueeze(-1)
        elif not (len(shape) == len(vshape) and sum(v for s, v in zip(shape, vshape) if s != v) == 1):
            raise ShapeError(f"{name}: var is of incorrect size: expected {shape}, {shape[:-1]} or {shape} with one "
                             f"dimension of size 1, got {vshape}")
    reduction = resolve(name, reduction)
    var = _ClampKeepGrad.apply(same_dtype(var, input), eps)
    loss = 0.5 * (var.log() + (input - same_dtype(target, input)).square() / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return apply_reduction(loss, reduction)


class L1Loss(_Loss):
    """Mean absolute error. Shape: input (*), target (*) -> () or (*) with ``reduction='none'``."""

    __constants__ = ["reduction"]

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error. Shape: input (*), target (*) -> () or (*) with ``reduction='none'``."""

    __constants__ = ["reduction"]

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below ``beta``, linear above. Shape: input (*), target (*) -> () or (*)."""

    __constants__ = ["reduction"]

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None, reduction: str = "mean",
                 beta: float = 1.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self.beta = beta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below ``delta``, linear (slope ``delta``) above. Shape: input (*), target (*) -> () or (*)."""

    __constants__ = ["reduction", "delta"]

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction=reduction)
        self.delta = delta

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood. Shape: input (*), target (*) -> () or (*)."""

    __constants__ = ["log_input", "full", "eps", "reduction"]

    def __init__(self, log_input: bool = True, full: bool = False, size_average: bool | None = None,
                 eps: float = 1e-8, reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.log_input = log_input
        self.full = full
        self.eps = eps

    def forward(self, log_input: Tensor, target: Tensor) -> Tensor:
        return poisson_nll_loss(log_input, target, log_input=self.log_input, full=self.full, eps=self.eps,
                                reduction=self.reduction)


class GaussianNLLLoss(_Loss):
    """Gaussian negative log-likelihood with a predicted variance.

    Shape: input (N, *) or (*), target like input, var like input or with one dimension of
    size 1 (or the last dimension dropped) -> () or input's shape with ``reduction='none'``.
    """

    __constants__ = ["full", "eps", "reduction"]

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> None:
        super().__init__(None, None, reduction)
        self.full = full
        self.eps = eps

    def forward(self, input: Tensor, target: Tensor, var: Tensor | float) -> Tensor:
        return gaussian_nll_loss(input, target, var, full=self.full, eps=self.eps, reduction=self.reduction)
