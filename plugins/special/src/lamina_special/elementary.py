"""Elementary members of torch.special: entr, xlogy, xlog1py, logit, sinc and exp2 (own Functions), and
the names that are core lamina ops under another name or with ``out=`` (expit = sigmoid, expm1, log1p,
round, softmax, log_softmax, logsumexp), plus the top-level and in-place xlogy, sinc and logit.

Shape: elementwise, x: (*) -> (*); xlogy/xlog1py broadcast; softmax-like ops as in the core.
"""

from __future__ import annotations

import math
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
    check_tensor,
    finish_out,
    host_call,
    in_float64,
    inplace,
    run_grad,
    unary_input,
    unary_op,
)

_LN2 = math.log(2.0)


def _d_entr(dy, x, y):
    return dy * -(1.0 + lamina.log(x))


@in_float64
def _d_sinc(dy, x, y):
    # (pi x cos(pi x) - sin(pi x)) / (pi x^2), 0 where pi x^2 is 0; as in torch, the unselected branch
    # keeps its 0/0 (second derivatives at 0 are NaN there too)
    px = math.pi * x
    den = px * x
    return lamina.where(den == 0, lamina.zeros_like(x), dy * (px * lamina.cos(px) - lamina.sin(px)) / den)


def _d_exp2(dy, x, y):
    return dy * (_LN2 * y)


Entr = unary_op("SpecialEntr", sc.entr, _d_entr)
Sinc = unary_op("Sinc", np.sinc, _d_sinc)
Exp2 = unary_op("Exp2", np.exp2, _d_exp2)


def entr(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """-x log x for x > 0, 0 at 0, -inf for x < 0. Shape: (*) -> (*)"""
    return apply_unary("special_entr", Entr, sc.entr, input, out)


def sinc(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The normalized sinc sin(pi x) / (pi x), 1 at 0. Shape: (*) -> (*)"""
    return apply_unary("sinc", Sinc, np.sinc, input, out)


def exp2(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """2^x. Shape: (*) -> (*)"""
    return apply_unary("exp2", Exp2, np.exp2, input, out)


# --- xlogy, xlog1py -------------------------------------------------------------------------------
def _nonzero(x: Tensor) -> Tensor:
    return (x != 0).to(x.dtype)


def _d_xlogy_x(dy, x, y, out):
    return dy * xlogy(_nonzero(x), y)


def _d_xlogy_y(dy, x, y, out):
    return dy * x / y


def _d_xlog1py_x(dy, x, y, out):
    return dy * xlog1py(_nonzero(x), y)


def _d_xlog1py_y(dy, x, y, out):
    return dy * x / (y + 1.0)


Xlogy = binary_op("Xlogy", sc.xlogy, _d_xlogy_x, _d_xlogy_y)
Xlog1py = binary_op("SpecialXlog1py", sc.xlog1py, _d_xlog1py_x, _d_xlog1py_y)


def xlogy(input: Tensor | float, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """x * log(y), 0 where x = 0 (unless y is NaN). Either argument may be a number. Shape: broadcast"""
    return apply_binary("xlogy", Xlogy, input, other, out)


def xlog1py(input: Tensor | float, other: Tensor | float, *, out: Tensor | None = None) -> Tensor:
    """x * log1p(y), 0 where x = 0 (unless y is NaN). Either argument may be a number. Shape: broadcast"""
    return apply_binary("special_xlog1py", Xlog1py, input, other, out)


# --- logit ----------------------------------------------------------------------------------------
def _clamp_host(x: np.ndarray, eps: float | None) -> np.ndarray:
    if eps is None:
        return x
    lo, hi = eps, 1.0 - eps
    return np.where(x < lo, lo, np.where(x > hi, hi, x))


def _logit_host(x: np.ndarray, eps: float | None) -> np.ndarray:
    z = _clamp_host(x, eps)
    return np.log(z / (1.0 - z))


def _d_logit(dy: Tensor, x: Tensor, eps: float | None) -> Tensor:
    g = dy / (x * (1.0 - x) + 0.0)  # +0 at x = -0, as torch (+inf there)
    if eps is None:
        return lamina.where((x < 0) | (x > 1), lamina.full_like(x, math.nan), g)
    return lamina.where((x < eps) | (x > 1.0 - eps), lamina.zeros_like(x), g)


class Logit(Function):
    """y = log(z / (1 - z)), z = x clamped to [eps, 1 - eps] when eps is given. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, eps):
        ctx.save_for_backward(x)
        ctx.eps = eps
        return host_call(lambda a: _logit_host(a, eps), x.dtype, x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        return run_grad(lambda g, t: _d_logit(g, t, eps), dy, x), None


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps] (a negative eps: no clamp).

    Shape: (*) -> (*)
    """
    x = unary_input("logit", input)
    if eps is not None and not isinstance(eps, (int, float)):
        raise TypeError(f"logit(): argument 'eps' (position 2) must be float, not {type(eps).__name__}")
    e = None if eps is None or eps < 0 else float(eps)
    check_out_grad("logit", out, x)
    return finish_out("logit", Logit.apply(x, e), out)


# --- core ops under torch.special's names ---------------------------------------------------------
def expit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """The logistic sigmoid 1 / (1 + exp(-x)) (``lamina.sigmoid``). Shape: (*) -> (*)"""
    x = unary_input("special_expit", input)
    check_out_grad("special_expit", out, x)
    return finish_out("special_expit", lamina.sigmoid(x), out)


def expm1(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """exp(x) - 1 (``lamina.expm1``). Shape: (*) -> (*)"""
    x = unary_input("special_expm1", input)
    check_out_grad("special_expm1", out, x)
    return finish_out("special_expm1", lamina.expm1(x), out)


def log1p(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """log(1 + x) (``lamina.log1p``). Shape: (*) -> (*)"""
    x = unary_input("special_log1p", input)
    check_out_grad("special_log1p", out, x)
    return finish_out("special_log1p", lamina.log1p(x), out)


def round(input: Tensor, *, decimals: int = 0, out: Tensor | None = None) -> Tensor:  # noqa: A001
    """``lamina.round`` with ``out=``. Shape: (*) -> (*)"""
    check_tensor("special_round", input)
    check_out_grad("special_round", out, input)
    return finish_out("special_round", lamina.round(input, decimals=decimals), out)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``lamina.softmax`` (dim required, as in torch.special). Shape: (*) -> (*)"""
    return lamina.softmax(check_tensor("special_softmax", input), dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """``lamina.log_softmax`` (dim required, as in torch.special). Shape: (*) -> (*)"""
    return lamina.log_softmax(check_tensor("special_log_softmax", input), dim, dtype=dtype)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False, *, out: Tensor | None = None) -> Tensor:
    """``lamina.logsumexp`` with ``out=``. Shape: (*) reduced over ``dim``"""
    check_tensor("special_logsumexp", input)
    check_out_grad("special_logsumexp", out, input)
    return finish_out("special_logsumexp", lamina.logsumexp(input, dim, keepdim), out)


# --- in-place and method forms --------------------------------------------------------------------
def xlogy_(input: Tensor, other: Tensor | float) -> Tensor:
    """In-place ``x.xlogy_(other)``."""
    return inplace("xlogy_", input, lambda x: xlogy(x, other), other)


def sinc_(input: Tensor) -> Tensor:
    """In-place :func:`sinc`."""
    return inplace("sinc_", input, sinc)


def logit_(input: Tensor, eps: float | None = None) -> Tensor:
    """In-place :func:`logit`."""
    return inplace("logit_", input, lambda x: logit(x, eps))


def exp2_(input: Tensor) -> Tensor:
    """In-place :func:`exp2`."""
    return inplace("exp2_", input, exp2)
