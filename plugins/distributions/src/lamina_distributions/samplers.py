"""Samplers the core lacks, drawn from lamina's generator: standard normal/uniform helpers, the
standard gamma (Marsaglia-Tsang) with its implicit reparameterisation gradient, and the Dirichlet (normalised
gammas) with torch's implicit gradient, which depends on the sample x only (not on the gammas drawn).

The gamma gradient dx/dalpha = -(dP(alpha, x)/dalpha) / p(x; alpha) comes from the regularised incomplete
gamma P (scipy.special, CPU only) differentiated in alpha by central differences in float64.
"""

from __future__ import annotations

from typing import Any

import lamina
import numpy as np
import scipy.special as sc
from lamina import Tensor
from lamina.autograd import Function

from .utils import finfo


def standard_normal(shape: Any, like: Tensor) -> Tensor:
    """N(0, 1) draws of ``shape`` with ``like``'s dtype and device."""
    return lamina.randn(tuple(shape), dtype=like.dtype, device=like.device)


def standard_uniform(shape: Any, like: Tensor) -> Tensor:
    """U[0, 1) draws of ``shape`` with ``like``'s dtype and device."""
    return lamina.rand(tuple(shape), dtype=like.dtype, device=like.device)


def open_uniform(shape: Any, like: Tensor) -> Tensor:
    """U(0, 1) draws, clamped into [tiny, 1 - eps] as torch's ``uniform_(eps, 1 - eps)`` does."""
    fi = finfo(like.dtype)
    return standard_uniform(shape, like).clamp(min=float(fi.tiny), max=1.0 - float(fi.eps))


def draw_flat(draw: Any, *params: Tensor) -> Tensor:
    """``draw(*params)`` of the core's element-wise samplers (normal, poisson, binomial) on the flattened
    parameters, reshaped back: the core's samplers fail on 0-d tensors. params: (*) each -> (*)"""
    shape = tuple(params[0].shape)
    return draw(*(p.reshape(-1) for p in params)).reshape(shape)


def _draw_standard_gamma(alpha: Tensor) -> Tensor:
    """Marsaglia-Tsang in float64 (with the U^(1/alpha) boost below 1). alpha: (*) -> x: (*)"""
    a = alpha.detach().double()
    boost = a < 1
    a1 = lamina.where(boost, a + 1.0, a)
    d = a1 - 1.0 / 3.0
    c = 1.0 / (9.0 * d).sqrt()
    out = lamina.zeros_like(a)
    done = lamina.zeros(tuple(a.shape), dtype=lamina.bool, device=a.device) | a.isnan()
    while not bool(done.all()):
        z = lamina.randn(tuple(a.shape), dtype=lamina.float64, device=a.device)
        u = lamina.rand(tuple(a.shape), dtype=lamina.float64, device=a.device)
        v = (1.0 + c * z) ** 3
        vpos = v > 0
        logv = lamina.where(vpos, v, 1.0).log()
        ok = vpos & (u.log() < 0.5 * z * z + d - d * v + d * logv) & ~done
        out = lamina.where(ok, d * v, out)
        done = done | ok
    if bool(boost.any()):
        u = lamina.rand(tuple(a.shape), dtype=lamina.float64, device=a.device)
        out = lamina.where(boost, out * u ** (1.0 / a), out)
    out = lamina.where(a.isnan(), a, out)
    return out.to(alpha.dtype)


def _gamma_sample_grad(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """dx/da along the curve P(a, x) = const (float64 NumPy)."""
    h = 1e-5 * np.maximum(a, 1e-3)
    upper = sc.gammainc(a, x) > 0.5
    # differentiate the smaller tail: P near 1 cancels, Q = 1 - P does not
    dp = (sc.gammainc(a + h, x) - sc.gammainc(a - h, x)) / (2 * h)
    dq = (sc.gammaincc(a + h, x) - sc.gammaincc(a - h, x)) / (2 * h)
    d_cdf = np.where(upper, -dq, dp)
    log_pdf = (a - 1) * np.log(x) - x - sc.gammaln(a)
    return -d_cdf * np.exp(-log_pdf)


class StandardGammaFn(Function):
    """Gamma(alpha, 1) sample x with the implicit reparameterisation gradient. alpha, x: (*) -> x: (*)"""

    @staticmethod
    def forward(ctx, alpha, x):
        ctx.save_for_backward(alpha, x)
        return x.copy()

    @staticmethod
    def backward(ctx, dy):
        alpha, x = ctx.saved_tensors
        if ctx.xp is not np:
            raise NotImplementedError("Gamma.rsample: the gradient uses scipy.special and runs on CPU tensors only")
        a64, x64 = np.asarray(alpha, dtype=np.float64), np.asarray(x, dtype=np.float64)
        with np.errstate(all="ignore"):
            g = _gamma_sample_grad(a64, x64)
        return (dy * g).astype(dy.dtype), None


def standard_gamma(alpha: Tensor) -> Tensor:
    """Gamma(alpha, 1) draws, differentiable in alpha. alpha: (*) -> (*)"""
    with lamina.no_grad():
        x = _draw_standard_gamma(alpha).clamp(min=float(finfo(alpha.dtype).tiny))
    if alpha.requires_grad and lamina.is_grad_enabled():
        return StandardGammaFn.apply(alpha, x)
    return x



def _dirichlet_grad_factor(x: np.ndarray, a: np.ndarray, total: np.ndarray) -> np.ndarray:
    """d x / d a of the marginal x ~ Beta(a, b = total - a) at fixed b, divided by (1 - x): the factor G in
    d x_j / d a_i = G_i (delta_ij - x_j) (float64 NumPy, central differences of the regularised beta)."""
    b = total - a
    h = 1e-5 * np.maximum(a, 1e-3)
    h = np.minimum(h, 0.5 * a)
    upper = sc.betainc(a, b, x) > 0.5
    # differentiate the smaller tail: I_x(a, b) = 1 - I_(1-x)(b, a)
    dp = (sc.betainc(a + h, b, x) - sc.betainc(a - h, b, x)) / (2 * h)
    dq = (sc.betainc(b, a + h, 1 - x) - sc.betainc(b, a - h, 1 - x)) / (2 * h)
    d_cdf = np.where(upper, -dq, dp)
    log_pdf = (a - 1) * np.log(x) + (b - 1) * np.log1p(-x) - sc.betaln(a, b)
    return -d_cdf * np.exp(-log_pdf) / (1 - x)


class DirichletFn(Function):
    """Dirichlet(alpha) sample x with torch's implicit gradient. alpha, x: (*, k) -> x: (*, k)"""

    @staticmethod
    def forward(ctx, alpha, x):
        ctx.save_for_backward(alpha, x)
        return x.copy()

    @staticmethod
    def backward(ctx, dy):
        alpha, x = ctx.saved_tensors
        if ctx.xp is not np:
            raise NotImplementedError("Dirichlet.rsample: the gradient uses scipy.special and runs on CPU tensors "
                                      "only")
        a64, x64, dy64 = (np.asarray(t, dtype=np.float64) for t in (alpha, x, dy))
        with np.errstate(all="ignore"):
            g = _dirichlet_grad_factor(x64, a64, a64.sum(-1, keepdims=True))
        return (g * (dy64 - (x64 * dy64).sum(-1, keepdims=True))).astype(dy.dtype), None


def standard_dirichlet(concentration: Tensor) -> Tensor:
    """Dirichlet(concentration) draws in [tiny, 1 - eps], differentiable in concentration as torch's.
    concentration: (*, k) -> (*, k)"""
    fi = finfo(concentration.dtype)
    with lamina.no_grad():
        g = standard_gamma(concentration.detach())
        x = (g / g.sum(-1, keepdim=True)).clamp(min=float(fi.tiny), max=1.0 - float(fi.eps))
    if concentration.requires_grad and lamina.is_grad_enabled():
        return DirichletFn.apply(concentration, x)
    return x
