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

celu_ = AI.celu_
selu_ = AI.selu_
threshold_ = AI.threshold_


def celu(input: Tensor, alpha: float = 1.0) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    return A.celu(input, alpha)


def selu(input: Tensor) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants."""
    return A.selu(input)


def threshold(input: Tensor, threshold: float, value: float) -> Tensor:
    """x if x > threshold else value."""
    return A.threshold(input, threshold, value)


def _rrelu(input: Tensor, lower: float, upper: float, training: bool, generator: Any, inplace: bool) -> Tensor:
    if generator is None or not training:
        return A.rrelu(input, lower, upper, training, inplace)
    if lower > upper:
        raise ValueError(f"rrelu: expected lower <= upper, got lower={lower}, upper={upper}")
    u = lamina.rand(*input.shape, generator=generator, dtype=input.dtype, device=input.device).array
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
    return A.prelu(input, weight)
