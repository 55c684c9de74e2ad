"""The top-level ``lamina.<op>`` activation forms with torch's ATen signatures (``torch.celu(input, alpha)``,
``torch.threshold_(input, threshold, value)``, ``torch.rrelu(input, lower, upper, training, generator)``), and
the ``Tensor.hardshrink`` / ``Tensor.prelu`` methods. Each maps onto this plugin's ``F`` function; the ``_``
forms write into ``input`` and return it. Shape: (*) -> (*) (prelu: (N, C, *) -> same).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

from . import __lamina_plugin_api__  # noqa: F401
from . import activation as A
from . import activation_inplace as AI
from . import activation_smooth as S
from ._activation_ops import RReluFn

selu_ = AI.selu_
threshold_ = AI.threshold_


def _check_alpha(alpha: float) -> None:
    if alpha == 0:  # torch's error here (F.celu raises a ValueError)
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    _check_alpha(alpha)
    return A.celu(input, alpha)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    _check_alpha(alpha)
    return AI.celu_(input, alpha)


def selu(input: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return A.selu(input)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """x if x > threshold else value."""
    return A.threshold(input, threshold, value)


def _rrelu(input: Tensor, lower: float, upper: float, training: bool, generator: Any, inplace: bool) -> Tensor:
    if lower > upper:  # torch's error here (F.rrelu raises a ValueError)
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if generator is None or not training:
        return A.rrelu(input, lower, upper, training, inplace)
    u = lamina.rand(tuple(input.shape), generator=generator, dtype=input.dtype, device=input.device).array
    return A._run(RReluFn, input, inplace, u * (upper - lower) + lower)


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          generator: Any = None) -> Tensor:
    """Randomized leaky ReLU: slopes ~ U(lower, upper) (drawn from ``generator`` if given) in training, their
    mean otherwise."""
    return _rrelu(input, lower, upper, training, generator, False)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
           generator: Any = None) -> Tensor:
    """In-place ``rrelu``."""
    return _rrelu(input, lower, upper, training, generator, True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x if |x| > lambd else 0 (also ``Tensor.hardshrink``)."""
    return S.hardshrink(input, lambd)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight[c] * x, c the channel (dim 1) (also ``Tensor.prelu``)."""
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() not in (1, channels):  # torch's message (a ShapeError, which is a RuntimeError)
        raise lamina.ShapeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                                f"{weight.numel()} and channel size = {channels}.")
    return A.prelu(input, weight)
