"""Bessel functions: the modified i0/i0e/i1/i1e (with torch's derivatives), and the Bessel, modified
Bessel, spherical Bessel and Airy functions that torch defines without a derivative (their results never
require grad, as in torch), plus ``lamina.i0`` / ``x.i0_()``.

Shape: every op is elementwise, x: (*) -> y: (*).
"""

from __future__ import annotations

import math

import lamina
import numpy as np
import scipy.special as sc
from lamina import Tensor

from ._common import apply_unary, dtype_aware, exp_overflows, inplace, machine_eps, unary_op


def _d_i0(dy, x, y):
    return dy * i1(x)


def _d_i0e(dy, x, y):
    return dy * (i1e(x) - lamina.sign(x) * y)


def _not_tiny(x):
    # torch: |x| <= machine eps (NaN included) takes the limit 1/2 at 0, the rest the formula on a safe x
    big = x.abs() > machine_eps(x)
    return big, lamina.where(big, x, machine_eps(x) * lamina.ones_like(x))


def _d_i1(dy, x, y):
    # i1'(x) = i0(x) - i1(x)/x
    big, safe = _not_tiny(x)
    return dy * lamina.where(big, i0(safe) - y / safe, 0.5 * lamina.ones_like(x))


def _d_i1e(dy, x, y):
    big, safe = _not_tiny(x)
    return dy * lamina.where(big, i0e(safe) - y * (lamina.sign(safe) + 1.0 / safe), 0.5 * lamina.ones_like(x))


@dtype_aware
def _i0_host(x, dtype):
    return np.where(exp_overflows(x, dtype), np.inf, sc.i0(x))


@dtype_aware
def _i1_host(x, dtype):
    return np.where(exp_overflows(x, dtype), np.copysign(np.inf, x), sc.i1(x))


I0 = unary_op("I0", _i0_host, _d_i0)
I0e = unary_op("SpecialI0e", sc.i0e, _d_i0e)
I1 = unary_op("SpecialI1", _i1_host, _d_i1)
I1e = unary_op("SpecialI1e", sc.i1e, _d_i1e)


def i0(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind, order 0. Shape: (*) -> (*)"""
    return apply_unary("i0", I0, _i0_host, input, out)


def i0e(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(-|x|) * i0(x). Shape: (*) -> (*)"""
    return apply_unary("special_i0e", I0e, sc.i0e, input, out)


def i1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The modified Bessel function of the first kind, order 1. Shape: (*) -> (*)"""
    return apply_unary("special_i1", I1, _i1_host, input, out)


def i1e(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(-|x|) * i1(x). Shape: (*) -> (*)"""
    return apply_unary("special_i1e", I1e, sc.i1e, input, out)


def i0_(input: Tensor) -> Tensor:
    """In-place :func:`i0`."""
    return inplace("i0_", input, i0)


# --- no derivative in torch ----------------------------------------------------------------------
def _airy_ai(x):
    """Ai(x): for x > 0 from the scaled form (exact underflow to 0 far right); far left, where scipy
    loses the phase and returns NaN, the leading asymptotic term x^(-1/4) sin(2/3 |x|^(3/2) + pi/4) / sqrt(pi)."""
    ai = sc.airy(x)[0]
    right = sc.airye(np.maximum(x, 0.0))[0] * np.exp(-2.0 / 3.0 * np.maximum(x, 0.0) ** 1.5)
    ax = np.abs(x)
    far_left = np.sin(2.0 / 3.0 * ax**1.5 + math.pi / 4.0) / (math.sqrt(math.pi) * ax**0.25)
    y = np.where(x > 0, right, ai)
    return np.where(np.isnan(y) & (x < 0) & ~np.isnan(x), far_left, y)


def _spherical_j0(x):
    return np.where(np.isinf(x), 0.0, sc.spherical_jn(0, x))


def _no_grad_op(name: str, host, doc: str):
    def op(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        return apply_unary(name, None, host, input, out)

    op.__name__ = op.__qualname__ = name.removeprefix("special_")
    op.__doc__ = doc + " No derivative (as in torch). Shape: (*) -> (*)"
    return op


airy_ai = _no_grad_op("special_airy_ai", _airy_ai, "The Airy function Ai(x).")
bessel_j0 = _no_grad_op("special_bessel_j0", sc.j0, "The Bessel function of the first kind, order 0.")
bessel_j1 = _no_grad_op("special_bessel_j1", sc.j1, "The Bessel function of the first kind, order 1.")
bessel_y0 = _no_grad_op("special_bessel_y0", sc.y0, "The Bessel function of the second kind, order 0.")
bessel_y1 = _no_grad_op("special_bessel_y1", sc.y1, "The Bessel function of the second kind, order 1.")
modified_bessel_i0 = _no_grad_op("special_modified_bessel_i0", _i0_host,
                                 "The modified Bessel function of the first kind, order 0.")
modified_bessel_i1 = _no_grad_op("special_modified_bessel_i1", _i1_host,
                                 "The modified Bessel function of the first kind, order 1.")
modified_bessel_k0 = _no_grad_op("special_modified_bessel_k0", sc.k0,
                                 "The modified Bessel function of the second kind, order 0.")
modified_bessel_k1 = _no_grad_op("special_modified_bessel_k1", sc.k1,
                                 "The modified Bessel function of the second kind, order 1.")
scaled_modified_bessel_k0 = _no_grad_op("special_scaled_modified_bessel_k0", sc.k0e, "exp(x) * k0(x).")
scaled_modified_bessel_k1 = _no_grad_op("special_scaled_modified_bessel_k1", sc.k1e, "exp(x) * k1(x).")
spherical_bessel_j0 = _no_grad_op("special_spherical_bessel_j0", _spherical_j0,
                                  "The spherical Bessel function of the first kind, order 0: sin(x)/x.")
