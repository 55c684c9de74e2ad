"""Fan-scaled schemes: ``xavier_uniform_``, ``xavier_normal_``, ``kaiming_uniform_``, ``kaiming_normal_``."""

from __future__ import annotations

import math
import warnings

import lamina
from lamina import Tensor

from .basic import _check_tensor
from .fan import _calculate_correct_fan, _calculate_fan_in_and_fan_out, calculate_gain

__lamina_plugin_api__ = "1.0"


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: lamina.Generator | None = None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio, 2010)."""
    _check_tensor("xavier_uniform_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out)) if fan_in + fan_out else 0.0
    with lamina.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: lamina.Generator | None = None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    _check_tensor("xavier_normal_", tensor)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out)) if fan_in + fan_out else 0.0
    with lamina.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


def _kaiming_std(fn: str, tensor: Tensor, a: float, mode: str, nonlinearity: str) -> float | None:
    _check_tensor(fn, tensor)
    fan = _calculate_correct_fan(tensor, mode, fn)
    if 0 in tuple(tensor.shape):
        warnings.warn(f"{fn}: initializing zero-element tensors is a no-op", UserWarning, stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                     generator: lamina.Generator | None = None) -> Tensor:
    """U(-bound, bound), bound = gain * sqrt(3 / fan) (He et al., 2015); ``a``: leaky_relu's slope."""
    std = _kaiming_std("kaiming_uniform_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    bound = math.sqrt(3.0) * std
    with lamina.no_grad():
        return tensor.uniform_(-bound, bound, generator=generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in", nonlinearity: str = "leaky_relu",
                    generator: lamina.Generator | None = None) -> Tensor:
    """N(0, std^2), std = gain / sqrt(fan) (He et al., 2015)."""
    std = _kaiming_std("kaiming_normal_", tensor, a, mode, nonlinearity)
    if std is None:
        return tensor
    with lamina.no_grad():
        return tensor.normal_(0.0, std, generator=generator)


__all__ = ["xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_"]
