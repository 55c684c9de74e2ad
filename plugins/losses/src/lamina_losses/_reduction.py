"""Shared plumbing: reduction names (incl. the legacy ``size_average``/``reduce`` pair), the
``_Loss``/``_WeightedLoss`` bases, argument checks and a quiet floating-point context."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from lamina.errors import DTypeError, ShapeError

try:
    from lamina.nn import Module
except ImportError:  # pragma: no cover - lamina.nn/__init__.py not written yet in the core
    from lamina.nn.module import Module

__lamina_plugin_api__ = "1.0"

REDUCTIONS = ("none", "mean", "sum")


def legacy_get_string(size_average: bool | None, reduce: bool | None, emit_warning: bool = True) -> str:
    """Map the deprecated ``size_average``/``reduce`` pair to a reduction name, as PyTorch does."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    if emit_warning:
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                      UserWarning, stacklevel=3)
    return ret


def resolve(name: str, reduction: str, size_average: bool | None = None, reduce: bool | None = None,
            valid: tuple[str, ...] = REDUCTIONS) -> str:
    """The effective reduction of a functional call; validates it."""
    if size_average is not None or reduce is not None:
        reduction = legacy_get_string(size_average, reduce, emit_warning=False)
    if reduction not in valid:
        raise ValueError(f"{name}: reduction must be one of {list(valid)}, got {reduction!r}")
    return reduction


def apply_reduction(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def quiet(xp: Any):
    """Silence floating-point warnings (log(0), 0/0) where -inf/NaN are the intended results.

    Under create_graph ``xp`` is the differentiable namespace (no ``errstate``): then NumPy's own is used.
    """
    try:
        errstate = getattr(xp, "errstate", None)
    except NotImplementedError:  # the differentiable namespace refuses names it has no op for
        errstate = np.errstate
    return errstate(all="ignore") if errstate is not None else contextlib.nullcontext()


def constant(a: Any, like: Tensor) -> Tensor:
    """A backward's saved array (mask, one-hot, class weights) as a constant Tensor on ``like``'s device,
    for the create_graph paths, whose formulas are written with lamina ops."""
    return lamina.as_tensor(a, device=like.device)


def scaled(dy: Tensor, reduction: str, denom: Any, shape: tuple) -> Tensor:
    """The upstream gradient per loss element (create_graph paths): dy viewed as ``shape`` ('none'),
    dy / denom ('mean') or dy ('sum'). A zero denominator (every target ignored: no element has a gradient)
    gives 0, not inf, so that differentiating again multiplies no zero by inf."""
    if reduction == "none":
        return dy.reshape(shape)
    if reduction == "sum":
        return dy
    return dy / float(denom) if float(denom) != 0 else dy * 0.0


def check_tensor(name: str, arg: str, x: Any) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected {arg} to be a lamina Tensor, got {type(x).__name__}")
    return x


def check_float(name: str, arg: str, x: Tensor) -> Tensor:
    check_tensor(name, arg, x)
    if not x.is_floating_point():
        raise DTypeError(f"{name}: expected {arg} of a floating dtype, got {x.dtype}")
    return x


def check_same_shape(name: str, input: Tensor, target: Tensor) -> None:
    """Raise instead of broadcasting (PyTorch only warns for L1/MSE; lamina refuses silent broadcasting)."""
    if tuple(input.shape) != tuple(target.shape):
        raise ShapeError(f"{name}: expected target of the input's shape {tuple(input.shape)}, got target "
                         f"{tuple(target.shape)} (lamina does not broadcast a loss's input and target)")


def same_dtype(x: Tensor, like: Tensor) -> Tensor:
    """Cast a floating companion (target, weight) to the input's dtype so float32 stays float32."""
    if x is None or not isinstance(x, Tensor) or x.array.dtype == like.array.dtype:
        return x
    return x.to(like.dtype)


class _Loss(Module):
    """Base of every loss: keeps ``reduction`` (mapping the legacy ``size_average``/``reduce``)."""

    def __init__(self, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean") -> None:
        super().__init__()
        if size_average is not None or reduce is not None:
            self.reduction: str = legacy_get_string(size_average, reduce)
        else:
            self.reduction = reduction


class _WeightedLoss(_Loss):
    """A loss with an optional per-class ``weight``, registered as a buffer (state_dict key ``weight``)."""

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None,
                 reduce: bool | None = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
