"""Gains and fans: ``calculate_gain``, ``_calculate_fan_in_and_fan_out``, ``_calculate_correct_fan``."""

from __future__ import annotations

import math
import numbers

from lamina import Tensor

__lamina_plugin_api__ = "1.0"

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_GAINS = {"sigmoid": 1.0, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}
VALID_NONLINEARITIES = (*_LINEAR, "sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (``param``: leaky_relu's negative slope, default 0.01)."""
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity in _GAINS:
        return _GAINS[nonlinearity]
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, numbers.Number) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"calculate_gain: param (negative_slope) must be a number, got {param!r}")
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; valid ones: "
                     f"{', '.join(VALID_NONLINEARITIES)}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) = (size(1), size(0)) times the receptive field (the product of dims 2+)."""
    if tensor.ndim < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got "
                         f"{tensor.ndim} dimensions (shape {list(tensor.shape)})")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= int(s)
    return int(tensor.shape[1]) * receptive, int(tensor.shape[0]) * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str, fn: str = "_calculate_correct_fan") -> int:
    mode_l = mode.lower() if isinstance(mode, str) else mode
    if mode_l not in ("fan_in", "fan_out"):
        raise ValueError(f"{fn}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode_l == "fan_in" else fan_out


__all__ = ["calculate_gain", "_calculate_fan_in_and_fan_out", "_calculate_correct_fan"]
