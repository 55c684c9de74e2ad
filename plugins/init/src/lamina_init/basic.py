"""Elementwise schemes: ``uniform_``, ``normal_``, ``trunc_normal_``, ``constant_``, ``ones_``, ``zeros_``.

All work in place under ``no_grad`` (a leaf that requires grad stays a leaf, its version bumps),
keep dtype and device, and draw through the core's generators (``generator=`` or the global one).
"""

from __future__ import annotations

import math
from typing import Any

import lamina
from lamina import Tensor

__lamina_plugin_api__ = "1.0"


def _check_tensor(fn: str, tensor: Any) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{fn}: expected tensor to be a lamina.Tensor, got {type(tensor).__name__}")


def _check_number(fn: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{fn}: {name} must be a finite number, got {value!r}")
    return float(value)


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: lamina.Generator | None = None) -> Tensor:
    """Fill with samples of U(a, b)."""
    _check_tensor("uniform_", tensor)
    a, b = _check_number("uniform_", "a", a), _check_number("uniform_", "b", b)
    if a > b:
        raise ValueError(f"uniform_: expected a <= b, got a={a}, b={b}")
    with lamina.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: lamina.Generator | None = None) -> Tensor:
    """Fill with samples of N(mean, std^2)."""
    _check_tensor("normal_", tensor)
    mean, std = _check_number("normal_", "mean", mean), _check_number("normal_", "std", std)
    if std < 0:
        raise ValueError(f"normal_: std must be >= 0, got {std}")
    with lamina.no_grad():
        return tensor.normal_(mean, std, generator=generator)


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: lamina.Generator | None = None) -> Tensor:
    """Fill with samples of N(mean, std^2) conditioned on [a, b] (exact: inverse CDF in float64).

    Intervals in the right tail are sampled as their mirror image in the left tail, where the normal
    CDF keeps its relative precision, then mirrored back.
    """
    _check_tensor("trunc_normal_", tensor)
    mean, std = _check_number("trunc_normal_", "mean", mean), _check_number("trunc_normal_", "std", std)
    a, b = _check_number("trunc_normal_", "a", a), _check_number("trunc_normal_", "b", b)
    if std <= 0:
        raise ValueError(f"trunc_normal_: std must be > 0, got {std}")
    if not a < b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    from scipy.special import ndtri

    lo, hi = (a - mean) / std, (b - mean) / std
    flip = lo > 0
    if flip:
        lo, hi = -hi, -lo
    p_lo, p_hi = _phi(lo), _phi(hi)
    with lamina.no_grad():
        u = lamina.rand(tuple(tensor.shape), generator=generator, dtype=lamina.float64, device=tensor.device)
        p = u.cpu().numpy() * (p_hi - p_lo) + p_lo
        z = ndtri(p).clip(lo, hi)
        if flip:
            z = -z
        x = lamina.from_numpy(z * std + mean)
        return tensor.copy_(x.to(tensor.device))


def constant_(tensor: Tensor, val: float) -> Tensor:
    """Fill with ``val``."""
    _check_tensor("constant_", tensor)
    with lamina.no_grad():
        return tensor.fill_(val)


def ones_(tensor: Tensor) -> Tensor:
    """Fill with 1."""
    _check_tensor("ones_", tensor)
    with lamina.no_grad():
        return tensor.fill_(1)


def zeros_(tensor: Tensor) -> Tensor:
    """Fill with 0."""
    _check_tensor("zeros_", tensor)
    with lamina.no_grad():
        return tensor.zero_()


__all__ = ["uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_"]
