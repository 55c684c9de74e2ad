"""Elementwise arithmetic: binary operators and unary math, forward and backward side by side.

Every backward is written with operators and ``ctx.xp`` functions only, so the same code runs on
arrays and, under ``create_graph=True``, on Tensors (double backward).
"""

from __future__ import annotations

import math

from .. import _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import int_to_float, promote_float_pair, promote_pair

# --- binary ops ---------------------------------------------------------------------------------


class Add(Function):
    """y = a + alpha * b (broadcasting). a, b: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a + b if alpha == 1 else a + alpha * b

    @staticmethod
    def backward(ctx, dy):
        return dy, (dy if ctx.alpha == 1 else dy * ctx.alpha), None


class Sub(Function):
    """y = a - alpha * b."""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        return a - b if alpha == 1 else a - alpha * b

    @staticmethod
    def backward(ctx, dy):
        return dy, (-dy if ctx.alpha == 1 else dy * -ctx.alpha), None


class Mul(Function):
    """y = a * b."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        # save only what a requested gradient needs (an in-place change of the other is then allowed)
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return a * b

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (dy * b if need_a else None), (dy * a if need_b else None)


class Div(Function):
    """y = a / b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        da = dy / b if need_a else None
        db = -dy * a / (b * b) if need_b else None
        return da, db


class Pow(Function):
    """y = a ** b (either may be a scalar)."""

    @staticmethod
    def forward(ctx, a, b):
        y = a**b
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b, y = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        da = db = None
        if need_a:
            if isinstance(b, (int, float)):
                da = dy * b * a ** (b - 1) if b != 0 else dy * 0
            else:
                da = dy * b * a ** (b - 1)
        if need_b:
            if isinstance(a, (int, float)):
                db = dy * y * math.log(a) if a > 0 else dy * 0
            else:
                # d/db a**b = a**b log a, taken as 0 where a == 0 and b >= 0 (as PyTorch does)
                safe = xp.where(a == 0, 1, a)
                db = xp.where((a == 0) & (b >= 0), 0, dy * y * xp.log(safe))
        return da, db


class Maximum(Function):
    """y = max(a, b); ties split the gradient evenly."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        w = (a > b) + (a == b) * 0.5
        return dy * w, dy * (1 - w)


class Minimum(Function):
    """y = min(a, b); ties split the gradient evenly."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        w = (a < b) + (a == b) * 0.5
        return dy * w, dy * (1 - w)


class Atan2(Function):
    """y = atan2(a, b)."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        r = a * a + b * b
        return dy * b / r, -dy * a / r


def add(input: Tensor, other, *, alpha=1) -> Tensor:
    a, b = promote_pair(input, other)
    return Add.apply(a, b, alpha) if alpha != 1 else Add.apply(a, b)


def sub(input: Tensor, other, *, alpha=1) -> Tensor:
    a, b = promote_pair(input, other)
    return Sub.apply(a, b, alpha) if alpha != 1 else Sub.apply(a, b)


def rsub(input: Tensor, other, *, alpha=1) -> Tensor:
    a, b = promote_pair(input, other)
    return Sub.apply(b, a, alpha) if alpha != 1 else Sub.apply(b, a)


def mul(input: Tensor, other) -> Tensor:
    a, b = promote_pair(input, other)
    return Mul.apply(a, b)


def div(input: Tensor, other, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be one of [None, 'trunc', 'floor'], got {rounding_mode!r}")
        a, b = promote_pair(input, other)
        q = Div.apply(*promote_float_pair(a, b))
        q = floor(q) if rounding_mode == "floor" else trunc(q)
        return q.to(a.dtype) if a.dtype != q.dtype else q
    return Div.apply(*promote_float_pair(input, other))


def rdiv(input: Tensor, other) -> Tensor:
    a, b = promote_float_pair(input, other)
    return Div.apply(b, a)


def pow(input: Tensor, exponent) -> Tensor:  # noqa: A001
    a, b = promote_pair(input, exponent)
    if a._data.dtype.kind == "b" and (type(b) is bool or isinstance(b, Tensor) and b._data.dtype.kind == "b"):
        return Pow.apply(a.to(_dtype.uint8), b).to(_dtype.bool_)  # NumPy's bool power gives int8
    return Pow.apply(a, b)


def rpow(input: Tensor, base) -> Tensor:
    a, b = promote_pair(input, base)
    return Pow.apply(b, a)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return Maximum.apply(*promote_pair(input, other))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return Minimum.apply(*promote_pair(input, other))


def atan2(input: Tensor, other: Tensor) -> Tensor:
    return Atan2.apply(*promote_float_pair(input, other))


def true_divide(input: Tensor, other) -> Tensor:
    return div(input, other)


def floor_divide(input: Tensor, other) -> Tensor:
    return div(input, other, rounding_mode="floor")


def remainder(input: Tensor, other) -> Tensor:
    """Python-style modulus (sign of the divisor); gradient flows to ``input`` only."""
    a, b = promote_pair(input, other)
    return sub(a, mul(floor_divide(a, b).detach(), b))


def fmod(input: Tensor, other) -> Tensor:
    """C-style modulus (sign of the dividend)."""
    a, b = promote_pair(input, other)
    return sub(a, mul(div(a, b, rounding_mode="trunc").detach(), b))


# --- unary ops ----------------------------------------------------------------------------------


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


def frac(input: Tensor) -> Tensor:
    return sub(input, trunc(input).detach())


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        x = input
        if min is not None:
            x = maximum(x, min if isinstance(min, Tensor) else x.new_tensor(min))
        if max is not None:
            x = minimum(x, max if isinstance(max, Tensor) else x.new_tensor(max))
        return x
    if type(min) is float and input._data.dtype.kind in "biu" or type(max) is float and input._data.dtype.kind in "biu":
        input = int_to_float(input)
    return Clamp.apply(input, min, max)


clip = clamp


def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    return clamp(input, max=max)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    return add(input, mul(sub(end, input), weight))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return add(input, mul(mul(tensor1, tensor2), value))


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    return add(input, mul(div(tensor1, tensor2), value))
