"""The error-function family: erf, erfc, erfcx, erfinv and the normal distribution's ndtr, ndtri,
log_ndtr (scipy.special on the CPU), with torch's derivatives, plus the top-level and in-place forms
(``lamina.erf``, ``x.erf_()``, ...).

Shape: every op is elementwise, x: (*) -> y: (*).
"""

from __future__ import annotations

import math

import lamina
import scipy.special as sc
from lamina import Tensor

from ._common import apply_unary, in_float64, inplace, unary_op

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _d_erf(dy, x, y):
    return dy * (_TWO_OVER_SQRT_PI * lamina.exp(-(x * x)))


def _d_erfc(dy, x, y):
    return dy * (-_TWO_OVER_SQRT_PI * lamina.exp(-(x * x)))


def _d_erfcx(dy, x, y):
    return dy * (2.0 * x * y - _TWO_OVER_SQRT_PI)


def _d_erfinv(dy, x, y):
    return dy * (_SQRT_PI_OVER_TWO * lamina.exp(y * y))


def _d_ndtr(dy, x, y):
    return dy * (lamina.exp(-0.5 * x * x) / _SQRT_2PI)


def _d_ndtri(dy, x, y):
    return dy * (_SQRT_2PI * lamina.exp(0.5 * y * y))


@in_float64
def _d_log_ndtr(dy, x, y):
    # log_ndtr recomputed in float64: y + x^2/2 cancels far left
    return dy * (lamina.exp(-(log_ndtr(x) + 0.5 * x * x)) / _SQRT_2PI)


Erf = unary_op("Erf", sc.erf, _d_erf)
Erfc = unary_op("Erfc", sc.erfc, _d_erfc)
Erfcx = unary_op("Erfcx", sc.erfcx, _d_erfcx)
Erfinv = unary_op("Erfinv", sc.erfinv, _d_erfinv)
Ndtr = unary_op("Ndtr", sc.ndtr, _d_ndtr)
Ndtri = unary_op("Ndtri", sc.ndtri, _d_ndtri)
LogNdtr = unary_op("LogNdtr", sc.log_ndtr, _d_log_ndtr)


def erf(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt. Shape: (*) -> (*)"""
    return apply_unary("erf", Erf, sc.erf, input, out)


def erfc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The complementary error function 1 - erf(x). Shape: (*) -> (*)"""
    return apply_unary("erfc", Erfc, sc.erfc, input, out)


def erfcx(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The scaled complementary error function exp(x^2) * erfc(x). Shape: (*) -> (*)"""
    return apply_unary("special_erfcx", Erfcx, sc.erfcx, input, out)


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of erf on (-1, 1); erfinv(+-1) = +-inf, NaN outside. Shape: (*) -> (*)"""
    return apply_unary("erfinv", Erfinv, sc.erfinv, input, out)


def ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The standard normal CDF. Shape: (*) -> (*)"""
    return apply_unary("special_ndtr", Ndtr, sc.ndtr, input, out)


def ndtri(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The inverse of the standard normal CDF (quantile function) on [0, 1]. Shape: (*) -> (*)"""
    return apply_unary("special_ndtri", Ndtri, sc.ndtri, input, out)


def log_ndtr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log of the standard normal CDF, accurate in the left tail. Shape: (*) -> (*)"""
    return apply_unary("special_log_ndtr", LogNdtr, sc.log_ndtr, input, out)


def erf_(input: Tensor) -> Tensor:
    """In-place :func:`erf`."""
    return inplace("erf_", input, erf)


def erfc_(input: Tensor) -> Tensor:
    """In-place :func:`erfc`."""
    return inplace("erfc_", input, erfc)


def erfinv_(input: Tensor) -> Tensor:
    """In-place :func:`erfinv`."""
    return inplace("erfinv_", input, erfinv)
