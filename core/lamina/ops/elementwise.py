"""Elementwise arithmetic: binary operators and composites, forward and backward side by side.

Unary math lives in ``unary.py`` and is re-exported here (``elementwise.exp`` keeps working).

Every backward is written with operators and ``ctx.xp`` functions only, so the same code runs on
arrays and, under ``create_graph=True``, on Tensors (double backward).
"""

from __future__ import annotations

import cmath
import math

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import int_to_float, promote_float_pair, promote_pair, refuse_dtype
from .unary import (  # noqa: F401  (re-exported: one namespace for elementwise ops)
    Abs,
    Acos,
    Asin,
    Atan,
    Ceil,
    Clamp,
    Cos,
    Cosh,
    Exp,
    Expm1,
    Floor,
    Log,
    Log1p,
    Log2,
    Log10,
    Neg,
    Reciprocal,
    Relu,
    Round,
    Rsqrt,
    Sigmoid,
    Sign,
    Sin,
    Sinh,
    Sqrt,
    Square,
    Tan,
    Tanh,
    Trunc,
    abs,
    acos,
    arccos,
    arcsin,
    arctan,
    asin,
    atan,
    ceil,
    cos,
    cosh,
    exp,
    expm1,
    fix,
    floor,
    log,
    log1p,
    log2,
    log10,
    neg,
    negative,
    reciprocal,
    relu,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    tan,
    tanh,
    trunc,
)

# --- binary ops ---------------------------------------------------------------------------------


def _conj(v):
    """The complex conjugate of an array, a Tensor or a Python number (None stays None)."""
    return v if v is None else v.conj() if hasattr(v, "conj") else v.conjugate()



def _half(a) -> bool:
    return hasattr(a, "dtype") and a.dtype.itemsize == 2 and a.dtype.kind in "fV"  # float16, bfloat16


def _opmath(a, b) -> bool:
    """A 16-bit float array times (or over) a Python number: torch computes in float32 without rounding the
    number first (its add and sub do round the number first, as NumPy does)."""
    return type(b) in (float, int) and _half(a)


def _in_float32(a, b, op):
    return op(a.astype("float32"), b.astype("float32") if hasattr(b, "dtype") else b).astype(a.dtype)


class Add(Function):
    """y = a + alpha * b (broadcasting). a, b: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        if alpha != 1 and _half(a) and _half(b) and type(alpha) in (float, int):
            al = float(a.dtype.type(alpha))  # torch: alpha rounded to a's type, then a + alpha * b in float32
            return _in_float32(a, b, lambda x, y: x + al * y)
        return a + b if alpha == 1 else a + alpha * b

    @staticmethod
    def backward(ctx, dy):
        return dy, (dy if ctx.alpha == 1 else dy * _conj(ctx.alpha)), None


class Sub(Function):
    """y = a - alpha * b."""

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.alpha = alpha
        if alpha != 1 and _half(a) and _half(b) and type(alpha) in (float, int):
            al = float(a.dtype.type(alpha))
            return _in_float32(a, b, lambda x, y: x - al * y)
        return a - b if alpha == 1 else a - alpha * b

    @staticmethod
    def backward(ctx, dy):
        return dy, (-dy if ctx.alpha == 1 else dy * -_conj(ctx.alpha)), None


class Mul(Function):
    """y = a * b."""

    @staticmethod
    def forward(ctx, a, b):
        need_a, need_b = ctx.needs_input_grad
        # save only what a requested gradient needs (an in-place change of the other is then allowed)
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        return _in_float32(a, b, lambda x, y: x * y) if _opmath(a, b) else a * b

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if dy.dtype.kind == "c":  # conjugate Wirtinger convention: da = dy * conj(b)
            a, b = _conj(a), _conj(b)
        return (dy * b if need_a else None), (dy * a if need_b else None)


class Div(Function):
    """y = a / b."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return _in_float32(a, b, lambda x, y: x / y) if _opmath(a, b) else a / b

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if dy.dtype.kind == "c":
            a, b = _conj(a), _conj(b)
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
        if dy.dtype.kind == "c":
            a, b, y = _conj(a), _conj(b), _conj(y)
        da = db = None
        if need_a:
            if isinstance(b, (int, float, complex)):
                da = dy * b * a ** (b - 1) if b != 0 else dy * 0
            else:
                da = dy * b * a ** (b - 1)
        if need_b:
            if isinstance(a, complex):
                db = dy * y * complex(cmath.log(a)) if a != 0 else dy * 0
            elif isinstance(a, (int, float)):
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
    if other.__class__ is not input.__class__ or other._data.dtype is not input._data.dtype:
        input, other = promote_pair(input, other)  # (two tensors of one class and dtype need nothing)
    return Add.apply(input, other, alpha) if alpha != 1 else Add.apply(input, other)


def _no_bool_subtraction(input: Tensor, other) -> None:
    other_dtype = other._data.dtype if isinstance(other, Tensor) else getattr(other, "dtype", None)
    if input._data.dtype.kind == "b" or isinstance(other, bool) or getattr(other_dtype, "kind", "") == "b":
        from .._base.errors import DTypeError

        raise DTypeError("sub: Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                         "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def sub(input: Tensor, other, *, alpha=1) -> Tensor:
    _no_bool_subtraction(input, other)
    a, b = promote_pair(input, other)
    return Sub.apply(a, b, alpha) if alpha != 1 else Sub.apply(a, b)


def rsub(input: Tensor, other, *, alpha=1) -> Tensor:
    _no_bool_subtraction(input, other)
    a, b = promote_pair(input, other)
    return Sub.apply(b, a, alpha) if alpha != 1 else Sub.apply(b, a)


def mul(input: Tensor, other) -> Tensor:
    if other.__class__ is not input.__class__ or other._data.dtype is not input._data.dtype:
        input, other = promote_pair(input, other)
    return Mul.apply(input, other)


def div(input: Tensor, other, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is not None:
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(f"div: rounding_mode must be one of [None, 'trunc', 'floor'], got {rounding_mode!r}")
        a, b = promote_pair(input, other)
        if a._data.dtype.kind in "iu" and (b._data.dtype.kind in "iu" if isinstance(b, Tensor) else type(b) is int):
            return _integer_div(a, b, rounding_mode)
        q = Div.apply(*promote_float_pair(a, b))
        q = floor(q) if rounding_mode == "floor" else trunc(q)
        return q.to(a.dtype) if a.dtype != q.dtype else q
    return Div.apply(*promote_float_pair(input, other))


def _integer_div(a: Tensor, b, rounding_mode: str) -> Tensor:
    """Exact integer floor/trunc division (through floats, int32 values past 2**24 and int64 past 2**53 would
    round); division by zero raises as torch does. Not differentiable (integer)."""
    xp = a._device.backend.xp
    x = a._data
    y = b._data if isinstance(b, Tensor) else xp.asarray(b, dtype=x.dtype)
    if bool((y == 0).any()):
        raise RuntimeError("ZeroDivisionError")
    q = xp.floor_divide(x, y)
    if rounding_mode == "trunc" and x.dtype.kind == "i":
        q = q + ((q * y != x) & ((x < 0) != (y < 0))).astype(q.dtype)
    return Tensor._make(xp.asarray(q).astype(x.dtype, copy=False), a._device)


def rdiv(input: Tensor, other) -> Tensor:
    a, b = promote_float_pair(input, other)
    if type(b) in (float, int):  # torch's number / tensor is tensor.reciprocal() * number (two roundings)
        return Mul.apply(Reciprocal.apply(a), b)
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


def frac(input: Tensor) -> Tensor:
    refuse_dtype(input, "frac", "biu")
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
