"""The gamma family: gammaln (lgamma), digamma (psi), polygamma, multigammaln (mvlgamma), the regularized
incomplete gamma functions gammainc/gammaincc (igamma/igammac) and the Hurwitz zeta function, with torch's
derivatives (none for zeta's x and the incomplete gammas' a, as in torch), plus the top-level and in-place
forms.

Shape: elementwise, x: (*) -> (*); binary ops broadcast.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import lamina
import numpy as np
import scipy.special as sc
from lamina import Tensor
from lamina.autograd import Function

from ._common import (
    apply_binary,
    apply_unary,
    binary_op,
    check_out_grad,
    dtype_aware,
    dtype_label,
    finish_out,
    host_call,
    inplace,
    run_grad,
    unary_input,
    unary_op,
)

_INF = float("inf")


def _gammaln_host(x):
    # torch: lgamma(-inf) = +inf (scipy gives -inf)
    return np.where(x == -np.inf, np.inf, sc.gammaln(x))


def _d_gammaln(dy, x, y):
    return dy * digamma(x)


def _d_digamma(dy, x, y):
    return dy * polygamma(1, x)


Gammaln = unary_op("Lgamma", _gammaln_host, _d_gammaln)
Digamma = unary_op("Digamma", sc.psi, _d_digamma)


def _trigamma(x: np.ndarray, dtype: Any) -> np.ndarray:
    """psi'(x); left of 1/2 by the reflection pi^2 / sin^2(pi x) - psi'(1 - x) with the sine taken in the
    input's precision, as torch does: at the poles (0, -1, -2, ...) it is large and finite, not inf."""
    w = np.dtype(dtype).type
    xs = x.astype(dtype)
    s = np.sin(w(math.pi) * xs).astype(np.float64)
    left = x < 0.5
    with np.errstate(all="ignore"):
        refl = math.pi**2 / (s * s) - sc.polygamma(1, 1.0 - x)
        return np.where(left, refl, sc.polygamma(1, x))


@dtype_aware
def _polygamma_host(x: np.ndarray, n: Any, dtype: Any) -> np.ndarray:
    n = int(n)
    if n == 0:
        return sc.psi(x)
    if n == 1:
        return _trigamma(x, dtype)
    # (-1)^(n+1) n! zeta(n + 1, x): torch gives NaN at +inf
    return np.where(x == np.inf, np.nan, sc.polygamma(n, x))


class Polygamma(Function):
    """y = psi^(n)(x), the n-th derivative of digamma. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, n):
        y = host_call(_polygamma_host, x.dtype, x, n)
        ctx.save_for_backward(x)
        ctx.n = n
        return y

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        n = ctx.n
        return run_grad(lambda g, t: g * polygamma(n + 1, t), dy, x), None


def _int_arg(name: str, v: Any, arg: str, position: int) -> int:
    if isinstance(v, bool) or not (isinstance(v, int) or (isinstance(v, Tensor) and v.numel() == 1
                                                          and not v.is_floating_point())):
        raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be int, not {type(v).__name__}")
    return operator.index(v) if isinstance(v, int) else int(v.item())


def gammaln(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log|Gamma(x)|. Shape: (*) -> (*)"""
    return apply_unary("lgamma", Gammaln, _gammaln_host, input, out)


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """psi(x) = d/dx log Gamma(x); -inf at 0, NaN at the negative integers. Shape: (*) -> (*)"""
    return apply_unary("digamma", Digamma, sc.psi, input, out)


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """psi^(n)(x) for n >= 0 (n = 0: digamma). Shape: (*) -> (*)"""
    n = _int_arg("polygamma", n, "n", 1)
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    x = unary_input("polygamma", input)
    check_out_grad("polygamma", out, x)
    return finish_out("polygamma", Polygamma.apply(x, n), out)


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """The multivariate log-gamma of dimension p: p(p-1)/4 log(pi) + sum_j lgamma(x - j/2), j < p.

    Shape: (*) -> (*)
    """
    p = _int_arg("special_multigammaln", p, "p", 2)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    x = unary_input("mvlgamma", input)
    check_out_grad("mvlgamma", out, x)
    y = gammaln(x)
    for j in range(1, p):
        y = y + gammaln(x - 0.5 * j)
    y = y + p * (p - 1) / 4.0 * math.log(math.pi)
    return finish_out("mvlgamma", y, out)


# --- the incomplete gamma functions and zeta -----------------------------------------------------
def _gammainc_host(a, x):
    """P(a, x), with torch's answers where a or x is 0, inf or NaN."""
    y = sc.gammainc(a, x)
    y = np.where(np.isinf(x) & ~np.isinf(a), 1.0, y)
    y = np.where(np.isinf(a), np.where(np.isinf(x), np.nan, 0.0), y)
    y = np.where(x == 0, 0.0, y)
    y = np.where(a == 0, np.where(x > 0, 1.0, np.nan), y)
    return np.where((x < 0) | (a < 0), np.nan, y)


def _gammaincc_host(a, x):
    """Q(a, x) = 1 - P(a, x), with torch's answers at the edges."""
    y = sc.gammaincc(a, x)
    y = np.where(np.isinf(x) & ~np.isinf(a), 0.0, y)
    y = np.where(np.isinf(a), np.where(np.isinf(x), np.nan, 1.0), y)
    y = np.where(x == 0, 1.0, y)
    y = np.where(a == 0, np.where(x > 0, 0.0, np.nan), y)
    return np.where((x < 0) | (a < 0), np.nan, y)


def _d_gammainc_x(dy, a, x, y):
    return dy * lamina.exp((a - 1) * lamina.log(x) - x - gammaln(a))


def _d_gammaincc_x(dy, a, x, y):
    return -(dy * lamina.exp((a - 1) * lamina.log(x) - x - gammaln(a)))


def _zeta_host(x, q):
    # torch gives NaN for q = +inf (scipy: 0)
    return np.where(np.isposinf(q) & (x > 1), np.nan, sc.zeta(x, q))


def _d_zeta_q(dy, x, q, y):
    return dy * (-x) * zeta(x + 1.0, q)


Gammainc = binary_op("Igamma", _gammainc_host, "the derivative for 'igamma: input' is not implemented.",
                     _d_gammainc_x)
Gammaincc = binary_op("Igammac", _gammaincc_host, "the derivative for 'igammac: input' is not implemented.",
                      _d_gammaincc_x)
Zeta = binary_op("Zeta", _zeta_host, "the derivative for 'zeta' is not implemented.", _d_zeta_q)


def _incomplete(name: str, kernel: str, op: type, input: Any, other: Any, out: Tensor | None) -> Tensor:
    pair = (input, other)
    if all(isinstance(v, Tensor) and not v.is_floating_point() and not v.is_complex() for v in pair):
        wide = max((v.dtype for v in pair), key=lambda d: d.itemsize)
        raise NotImplementedError(f'"{kernel}" not implemented for \'{dtype_label(wide)}\'')
    return apply_binary(name, op, input, other, out, scalars=False)


def gammainc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized lower incomplete gamma function P(a, x), a = input, x = other. Shape: broadcast"""
    return _incomplete("igamma", "igamma_cpu", Gammainc, input, other, out)


def gammaincc(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x). Shape: broadcast"""
    return _incomplete("igammac", "igammac_cpu", Gammaincc, input, other, out)


def zeta(input: Tensor | float, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """The Hurwitz zeta function sum_k (k + q)^-x, x = input, q = other (either may be a number).

    Shape: broadcast
    """
    return apply_binary("special_zeta", Zeta, input, other, out)


# --- top-level and in-place forms -----------------------------------------------------------------
lgamma = gammaln
igamma = gammainc
igammac = gammaincc


def mvlgamma(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """:func:`multigammaln` under torch's top-level name."""
    return multigammaln(input, p, out=out)


def lgamma_(input: Tensor) -> Tensor:
    """In-place :func:`lgamma`."""
    return inplace("lgamma_", input, gammaln)


def digamma_(input: Tensor) -> Tensor:
    """In-place :func:`digamma`."""
    return inplace("digamma_", input, digamma)


def polygamma_method(input: Tensor, n: int) -> Tensor:
    """``x.polygamma(n)``: the Tensor method takes n after the tensor."""
    return polygamma(n, input)


def polygamma_(input: Tensor, n: int) -> Tensor:
    """In-place ``x.polygamma_(n)``."""
    return inplace("polygamma_", input, lambda x: polygamma(n, x))


def mvlgamma_(input: Tensor, p: int) -> Tensor:
    """In-place ``x.mvlgamma_(p)``."""
    return inplace("mvlgamma_", input, lambda x: multigammaln(x, p))


def igamma_(input: Tensor, other: Tensor) -> Tensor:
    """In-place ``x.igamma_(other)``."""
    return inplace("igamma_", input, lambda x: gammainc(x, other), other)


def igammac_(input: Tensor, other: Tensor) -> Tensor:
    """In-place ``x.igammac_(other)``."""
    return inplace("igammac_", input, lambda x: gammaincc(x, other), other)


