"""``ElementwiseMethods``: the elementwise family's functions as ``Tensor`` methods, operators and
in-place variants (the functions themselves are in ``elementwise.py`` and ``unary.py``)."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from .creation import tensor
from .elementwise import (  # noqa: A004  (abs, pow, round mirror torch)
    abs,
    acos,
    add,
    addcdiv,
    addcmul,
    asin,
    atan,
    atan2,
    ceil,
    clamp,
    clamp_max,
    clamp_min,
    cos,
    cosh,
    div,
    exp,
    expm1,
    floor,
    floor_divide,
    fmod,
    frac,
    lerp,
    log,
    log1p,
    log2,
    log10,
    maximum,
    minimum,
    mul,
    neg,
    pow,
    rdiv,
    reciprocal,
    relu,
    remainder,
    round,
    rpow,
    rsqrt,
    rsub,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    true_divide,
    trunc,
)
from .inplace import make_inplace


def _iadd(a, b, alpha=1):
    if isinstance(alpha, Tensor):  # a 0-d tensor alpha acts as its value (a Tensor would make b * alpha a Tensor)
        alpha = alpha.item()
    a += b if alpha == 1 else b * alpha


def _isub(a, b, alpha=1):
    if isinstance(alpha, Tensor):
        alpha = alpha.item()
    a -= b if alpha == 1 else b * alpha


def _imul(a, b):
    a *= b


def _iclamp(a, min=None, max=None):  # noqa: A002
    if a.dtype.kind in "biu" and any(isinstance(b, float) for b in (min, max)):
        raise TypeError("a float bound on an integer tensor goes through the out-of-place path (a cast error)")
    if isinstance(min, (int, float)) or min is None:
        if min is not None:
            a[a < min] = min
        if max is not None:
            a[a > max] = max
    else:
        raise TypeError("tensor bounds go through the out-of-place path")


def _rfloordiv(self: Tensor, other: Any) -> Tensor:
    # a 0-d tensor promotes like the scalar it holds (7.5 // int_tensor is float)
    return floor_divide(tensor(other, device=self.device), self)


class ElementwiseMethods:
    """Elementwise math as ``Tensor`` methods, operators and in-place variants."""

    __slots__ = ()
    add = add
    sub = subtract = sub
    mul = multiply = mul
    div = divide = div
    true_divide = true_divide
    floor_divide = floor_divide
    remainder = remainder
    fmod = fmod
    pow = pow
    maximum = maximum
    minimum = minimum
    atan2 = atan2
    neg = negative = neg
    abs = absolute = abs
    square = square
    relu = relu
    sign = sign
    exp = exp
    expm1 = expm1
    log = log
    log2 = log2
    log10 = log10
    log1p = log1p
    sqrt = sqrt
    rsqrt = rsqrt
    reciprocal = reciprocal
    sin = sin
    cos = cos
    tan = tan
    asin = arcsin = asin
    acos = arccos = acos
    atan = arctan = atan
    sinh = sinh
    cosh = cosh
    tanh = tanh
    sigmoid = sigmoid
    floor = floor
    ceil = ceil
    round = round
    trunc = fix = trunc
    frac = frac
    clamp = clip = clamp
    clamp_min = clamp_min
    clamp_max = clamp_max
    lerp = lerp
    addcmul = addcmul
    addcdiv = addcdiv

    add_ = make_inplace("add", add, _iadd)
    sub_ = subtract_ = make_inplace("sub", sub, _isub)
    mul_ = multiply_ = make_inplace("mul", mul, _imul)
    div_ = divide_ = make_inplace("div", div)
    true_divide_ = make_inplace("true_divide", true_divide)
    floor_divide_ = make_inplace("floor_divide", floor_divide)
    remainder_ = make_inplace("remainder", remainder)
    fmod_ = make_inplace("fmod", fmod)
    pow_ = make_inplace("pow", pow)
    maximum_ = make_inplace("maximum", maximum)
    minimum_ = make_inplace("minimum", minimum)
    neg_ = negative_ = make_inplace("neg", neg)
    abs_ = make_inplace("abs", abs)
    square_ = make_inplace("square", square)
    relu_ = make_inplace("relu", relu)
    sign_ = make_inplace("sign", sign)
    exp_ = make_inplace("exp", exp)
    expm1_ = make_inplace("expm1", expm1)
    log_ = make_inplace("log", log)
    log1p_ = make_inplace("log1p", log1p)
    sqrt_ = make_inplace("sqrt", sqrt)
    rsqrt_ = make_inplace("rsqrt", rsqrt)
    reciprocal_ = make_inplace("reciprocal", reciprocal)
    sin_ = make_inplace("sin", sin)
    cos_ = make_inplace("cos", cos)
    atan_ = make_inplace("atan", atan)
    tanh_ = make_inplace("tanh", tanh)
    sigmoid_ = make_inplace("sigmoid", sigmoid)
    floor_ = make_inplace("floor", floor)
    ceil_ = make_inplace("ceil", ceil)
    round_ = make_inplace("round", round)
    trunc_ = make_inplace("trunc", trunc)
    clamp_ = make_inplace("clamp", clamp, _iclamp)
    clip_ = make_inplace("clip", clamp)
    clamp_min_ = make_inplace("clamp_min", clamp_min)
    clamp_max_ = make_inplace("clamp_max", clamp_max)
    lerp_ = make_inplace("lerp", lerp)
    addcmul_ = make_inplace("addcmul", addcmul)
    addcdiv_ = make_inplace("addcdiv", addcdiv)

    __add__ = __radd__ = add
    __sub__ = sub
    __rsub__ = rsub
    __mul__ = __rmul__ = mul
    __truediv__ = div
    __rtruediv__ = rdiv
    __floordiv__ = floor_divide
    __rfloordiv__ = _rfloordiv
    __mod__ = remainder
    __pow__ = pow
    __rpow__ = rpow
    __neg__ = neg
    __abs__ = abs
    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def __pos__(self: Tensor) -> Tensor:
        return self
