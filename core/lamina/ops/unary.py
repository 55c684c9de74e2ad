"""Unary elementwise math (exp, log, trig, activations, rounding), forward and backward side by side.

Every backward uses operators and ``ctx.xp`` functions only, so it also runs on Tensors under
``create_graph=True`` (double backward).
"""

from __future__ import annotations

import math

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import int_to_float


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, dy):
        return -dy


class Exp(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * y


class Expm1(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * (y + 1)


class Log(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / x


class Log2(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log2(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (x * math.log(2.0))


class Log10(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log10(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (x * math.log(10.0))


class Log1p(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (x + 1)


class Sqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy / (2 * y)


class Rsqrt(Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * -0.5 * y * y * y


class Reciprocal(Function):
    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return -dy * y * y


class Square(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * 2 * x


class Abs(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ctx.xp.sign(x)


class Sin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ctx.xp.cos(x)


class Cos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return -dy * ctx.xp.sin(x)


class Tan(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tan(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * (1 + y * y)


class Asin(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arcsin(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / ctx.xp.sqrt(1 - x * x)


class Acos(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arccos(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return -dy / ctx.xp.sqrt(1 - x * x)


class Atan(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.arctan(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy / (1 + x * x)


class Sinh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sinh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ctx.xp.cosh(x)


class Cosh(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.cosh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ctx.xp.sinh(x)


class Tanh(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * (1 - y * y)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # split by sign so exp never overflows
        e = xp.exp(-xp.abs(x))
        y = xp.where(x >= 0, 1 / (1 + e), e / (1 + e))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * y * (1 - y)


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.maximum(x, 0)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return dy * (y > 0)


class Clamp(Function):
    """y = min(max(x, lo), hi); gradient passes where lo <= x <= hi."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        xp = ctx.xp
        y = x
        if lo is not None:
            y = xp.maximum(y, lo)
        if hi is not None:
            y = xp.minimum(y, hi)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, lo, hi = ctx.saved_tensors
        mask = None
        if lo is not None:
            mask = x >= lo
        if hi is not None:
            mask = (x <= hi) if mask is None else mask & (x <= hi)
        return dy * mask, (dy * (x < lo) if lo is not None and ctx.needs_input_grad[1] else None), \
            (dy * (x > hi) if hi is not None and ctx.needs_input_grad[2] else None)


class _ZeroGrad(Function):
    """Piecewise-constant ops: gradient zero everywhere."""

    @staticmethod
    def backward(ctx, dy):
        return dy * 0


class Floor(_ZeroGrad):
    @staticmethod
    def forward(ctx, x):
        return ctx.xp.floor(x)


class Ceil(_ZeroGrad):
    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ceil(x)


class Round(_ZeroGrad):
    @staticmethod
    def forward(ctx, x, decimals=0):
        return ctx.xp.round(x, decimals)

    @staticmethod
    def backward(ctx, dy):
        return dy * 0, None


class Trunc(_ZeroGrad):
    @staticmethod
    def forward(ctx, x):
        return ctx.xp.trunc(x)


class Sign(_ZeroGrad):
    @staticmethod
    def forward(ctx, x):
        return ctx.xp.sign(x)


def _unary(cls):
    def fn(input: Tensor) -> Tensor:
        return cls.apply(input)

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = f"Elementwise {cls.__name__.lower()}. Shape: (*) -> (*)"
    return fn


def _unary_float(cls):
    def fn(input: Tensor) -> Tensor:
        return cls.apply(int_to_float(input))

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = f"Elementwise {cls.__name__.lower()} (integers promote to the default float). Shape: (*) -> (*)"
    return fn


neg = _unary(Neg)
negative = neg
abs = _unary(Abs)  # noqa: A001
square = _unary(Square)
relu = _unary(Relu)
sign = _unary(Sign)
exp = _unary_float(Exp)
expm1 = _unary_float(Expm1)
log = _unary_float(Log)
log2 = _unary_float(Log2)
log10 = _unary_float(Log10)
log1p = _unary_float(Log1p)
sqrt = _unary_float(Sqrt)
rsqrt = _unary_float(Rsqrt)
reciprocal = _unary_float(Reciprocal)
sin = _unary_float(Sin)
cos = _unary_float(Cos)
tan = _unary_float(Tan)
asin = arcsin = _unary_float(Asin)
acos = arccos = _unary_float(Acos)
atan = arctan = _unary_float(Atan)
sinh = _unary_float(Sinh)
cosh = _unary_float(Cosh)
tanh = _unary_float(Tanh)
sigmoid = _unary_float(Sigmoid)


def _int_passthrough(cls):
    def fn(input: Tensor) -> Tensor:
        if input._data.dtype.kind in "biu":
            return input.clone()
        return cls.apply(input)

    fn.__name__ = cls.__name__.lower()
    return fn


floor = _int_passthrough(Floor)
ceil = _int_passthrough(Ceil)
trunc = fix = _int_passthrough(Trunc)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    if input._data.dtype.kind in "biu":
        return input.clone()
    return Round.apply(input, decimals) if decimals else Round.apply(input)
