"""The activation ``Function``s: one per activation, analytic backward beside the forward.

Backwards use operators and ``ctx.xp`` functions only and recompute from the saved input, so they
also run on Tensors under ``create_graph=True`` (double backward). Branch values are built with
``xp.where`` on arrays of the input's dtype, never on Python-scalar pairs (which would give float64).
bfloat16/float16 inputs run the bodies in float32 and round once (``Float32Function``), as torch
(threshold compares in the input's dtype, as torch's kernel).
"""

from __future__ import annotations

import math

from lamina.autograd import Function

from . import _gelu_kernel
from ._low_precision import Float32Function, round_low
from ._special import erf_any

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _sigmoid(xp, x):
    """Stable logistic function: exp never sees a positive argument."""
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


def _softplus(xp, x):
    """log(1 + exp(x)) without overflow."""
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class LeakyReluFn(Float32Function):
    """y = x if x > 0 else slope * x. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return ctx.xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return ctx.xp.where(x > 0, dy, dy * ctx.slope), None


class PReluFn(Float32Function):
    """y = x if x > 0 else w[c] * x, w broadcast over channel dim 1. x: (N, C, *), w: (C,) -> y: x's shape"""

    @staticmethod
    def forward(ctx, x, w):
        shape = [1] * x.ndim
        if w.size > 1:
            shape[1] = w.size
        wb = w.reshape(shape)
        ctx.save_for_backward(x, w)
        ctx.axes = tuple(i for i in range(x.ndim) if not (w.size > 1 and i == 1))
        ctx.wshape = tuple(shape)
        return ctx.xp.where(x > 0, x, x * wb)

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        xp = ctx.xp
        pos = x > 0
        dx = xp.where(pos, dy, dy * w.reshape(ctx.wshape)) if ctx.needs_input_grad[0] else None
        dw = None
        if ctx.needs_input_grad[1]:
            # torch rounds the per-element terms to a low-precision input's dtype, then sums
            dw = round_low(ctx, xp.where(pos, 0, dy * x)).sum(axis=ctx.axes).reshape(w.shape)  # (C,)
        return dx, dw


class RReluFn(Float32Function):
    """y = x if x > 0 else a * x with a per-element slope array (drawn in training). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x, slope)
        return ctx.xp.where(x > 0, x, x * slope)

    @staticmethod
    def backward(ctx, dy):
        x, slope = ctx.saved_tensors
        return ctx.xp.where(x > 0, dy, dy * slope), None


class EluFn(Float32Function):
    """ELU, SELU and CELU: y = scale * (x if x > 0 else alpha * expm1(x * input_scale)). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.coef = (alpha, scale, input_scale)
        neg = xp.expm1(xp.minimum(x, 0) * input_scale) * (alpha * scale)  # min(): no overflow for large x
        return xp.where(x > 0, x * scale, neg)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        alpha, scale, input_scale = ctx.coef
        neg = dy * xp.exp(xp.minimum(x, 0) * input_scale) * (alpha * scale * input_scale)
        return xp.where(x > 0, dy * scale, neg), None, None, None


class GeluFn(Float32Function):
    """y = x * Phi(x) (exact, erf) or its tanh approximation. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, approximate):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            inner = (x + 0.044715 * (x * x * x)) * _SQRT_2_OVER_PI
            return 0.5 * x * (1 + xp.tanh(inner))
        if ctx._low is None and _gelu_kernel.fits(x):   # low precision: torch's formula, so it rounds alike
            y, ctx.cdf = _gelu_kernel.gelu_forward(xp, ctx.device.backend, x)   # a private array, not an output
            return y
        return 0.5 * x * (1 + erf_any(x * _SQRT_HALF))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        if ctx.approximate == "tanh":
            x2 = x * x
            t = xp.tanh((x + 0.044715 * (x2 * x)) * _SQRT_2_OVER_PI)
            dinner = (1 + 0.134145 * x2) * _SQRT_2_OVER_PI
            return dy * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner), None
        cdf = getattr(ctx, "cdf", None)
        if cdf is not None and _gelu_kernel.fits(x) and _gelu_kernel.fits(dy):   # arrays (no double backward)
            ctx.cdf = None              # freed as saved tensors are; a retained graph's next backward recomputes
            return _gelu_kernel.gelu_backward(xp, ctx.device.backend, x, cdf, dy), None
        cdf = 0.5 * (1 + erf_any(x * _SQRT_HALF))
        pdf = xp.exp(-0.5 * (x * x)) * _INV_SQRT_2PI
        return dy * (cdf + x * pdf), None


class SiluFn(Float32Function):
    """y = x * sigmoid(x). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * _sigmoid(ctx.xp, x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        s = _sigmoid(ctx.xp, x)
        return dy * (s * (1 + x * (1 - s)))


class MishFn(Float32Function):
    """y = x * tanh(softplus(x)). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * ctx.xp.tanh(_softplus(ctx.xp, x))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        t = xp.tanh(_softplus(xp, x))
        return dy * (t + x * _sigmoid(xp, x) * (1 - t * t))


class HardtanhFn(Float32Function):
    """y = clamp(x, lo, hi); gradient only strictly inside (lo, hi), as PyTorch. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return xp.minimum(xp.maximum(x, lo), hi)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        return dy * ((x > lo) & (x < hi)), None, None


class HardswishFn(Float32Function):
    """y = x * relu6(x + 3) / 6. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return x * xp.minimum(xp.maximum(x + 3, 0), 6) * (1 / 6)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        return xp.where(x <= -3, dy * 0, xp.where(x < 3, dy * (x / 3 + 0.5), dy))


class HardsigmoidFn(Float32Function):
    """y = relu6(x + 3) / 6. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return xp.minimum(xp.maximum(x + 3, 0), 6) * (1 / 6)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ((x > -3) & (x < 3)) * (1 / 6)


class ThresholdFn(Function):
    """y = x if x > threshold else value. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return ctx.xp.where(x > threshold, x, value)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * (x > ctx.threshold), None, None
