"""The in-place ``F.*_`` activations (``elu_``, ``hardtanh_``, ...): the out-of-place forms with ``inplace=True``.

Each writes into ``input`` and returns it, with autograd as for the ``inplace=True`` call. Shape: (*) -> (*).
"""

from __future__ import annotations

from lamina import Tensor

from . import __lamina_plugin_api__  # noqa: F401
from . import activation as A


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``elu``."""
    return A.elu(input, alpha, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place ``celu``."""
    return A.celu(input, alpha, inplace=True)


def selu_(input: Tensor) -> Tensor:
    """In-place ``selu``."""
    return A.selu(input, inplace=True)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place ``hardtanh``."""
    return A.hardtanh(input, min_val, max_val, inplace=True)


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place ``leaky_relu``."""
    return A.leaky_relu(input, negative_slope, inplace=True)


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place ``rrelu`` (random slopes in training, their mean otherwise)."""
    return A.rrelu(input, lower, upper, training, inplace=True)


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place ``threshold``: elements <= threshold become ``value``."""
    return A.threshold(input, threshold, value, inplace=True)
