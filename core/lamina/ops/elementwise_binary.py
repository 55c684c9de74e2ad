"""More binary elementwise math: hypot, logaddexp(2), copysign, nextafter, ldexp, float_power,
fmax/fmin and heaviside, forward and backward side by side.

Backward formulas use operators and ``ctx.xp`` functions only (double backward runs them on Tensors).
"""

from __future__ import annotations

import math
from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import promote_float_pair, promote_pair
from .creation import write_out
from .elementwise import _conj, mul, pow, rpow
from .elementwise_float import not_implemented_for

_LN2 = math.log(2.0)


def tensor_arg(name: str, argname: str, position: int, value: Any) -> None:
    """PyTorch's TypeError for a Python number where a signature takes only a Tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name}(): argument '{argname}' (position {position}) must be Tensor, "
                        f"not {type(value).__name__}")


def _tensors(name: str, input: Any, other: Any, argname: str = "other") -> tuple[Tensor, Tensor]:
    tensor_arg(name, "input", 1, input)
    tensor_arg(name, argname, 2, other)
    return promote_pair(input, other)


def _floats_only(name: str, input: Any, other: Any, complex_ok: bool = False) -> tuple[Tensor, Tensor]:
    """Both tensors at their promoted dtype, which must be floating (integer kernels are missing in PyTorch)."""
    a, b = _tensors(name, input, other)
    if a._data.dtype.kind not in ("fc" if complex_ok else "f"):
        raise not_implemented_for(name, a)
    return a, b


class Hypot(Function):
    """y = sqrt(a * a + b * b), without overflow. a, b: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, a, b):
        y = ctx.xp.hypot(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b, y = ctx.saved_tensors
        return dy * a / y, dy * b / y  # da, db: (*)


def hypot(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out(out, Hypot.apply(*_floats_only("hypot", input, other)), "hypot")


class LogAddExp(Function):
    """y = log_base(base ** a + base ** b) for base e or 2, without overflow. a, b: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, a, b, base=None):
        xp = ctx.xp
        ctx.ln = 1.0 if base is None else _LN2
        ctx.save_for_backward(a, b)
        if base is not None:
            return xp.logaddexp2(a, b)
        if a.dtype.kind != "c":
            return xp.logaddexp(a, b)
        m = xp.where(a.real >= b.real, a, b)  # the term of larger modulus factored out
        return m + xp.log(xp.exp(a - m) + xp.exp(b - m))

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        wa = 1 / (1 + xp.exp((b - a) * ctx.ln))  # the softmax weight of a
        wb = 1 / (1 + xp.exp((a - b) * ctx.ln))
        return dy * _conj(wa), dy * _conj(wb), None


def logaddexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out(out, LogAddExp.apply(*_floats_only("logaddexp", input, other, complex_ok=True)), "logaddexp")


def logaddexp2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out(out, LogAddExp.apply(*_floats_only("logaddexp2", input, other), 2), "logaddexp2")


class Copysign(Function):
    """y = |a| with the sign of b; gradient to a is dy * y / a (0 where a == 0), to b zero. a, b: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, a, b):
        y = ctx.xp.copysign(a, b)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, y = ctx.saved_tensors
        xp = ctx.xp
        ratio = xp.where(a == 0, 0, y / xp.where(a == 0, 1, a))
        return dy * ratio, (dy * 0 if ctx.needs_input_grad[1] else None)


def copysign(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
    tensor_arg("copysign", "input", 1, input)
    a, b = promote_float_pair(input, other)
    if a._data.dtype.kind == "c":
        raise not_implemented_for("copysign", a)
    return write_out(out, Copysign.apply(a, b), "copysign")


class Nextafter(Function):
    """y = the next float after a towards b. a, b: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.nextafter(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        return dy * (a != b), dy * 0  # as PyTorch: y follows a except where it already equals b


def nextafter(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    return write_out(out, Nextafter.apply(*_floats_only("nextafter", input, other)), "nextafter")


def ldexp(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """y = input * 2 ** other (integers promote to the default float), differentiable in both."""
    tensor_arg("ldexp", "input", 1, input)
    tensor_arg("ldexp", "other", 2, other)
    a, b = promote_float_pair(input, other)
    return write_out(out, mul(a, rpow(b, 2.0)), "ldexp")


def _float_power_dtype(input: Any, exponent: Any) -> _dtype.dtype:
    def is_complex(v: Any) -> bool:
        return v._data.dtype.kind == "c" if isinstance(v, Tensor) else isinstance(v, complex)

    return _dtype.complex128 if is_complex(input) or is_complex(exponent) else _dtype.float64


def float_power(input: Any, exponent: Any, *, out: Tensor | None = None) -> Tensor:
    """``pow`` computed in double precision: float64 (complex128 if either is complex) whatever the inputs."""
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise TypeError(f"float_power() received an invalid combination of arguments - got "
                        f"({type(input).__name__}, {type(exponent).__name__}), expected a Tensor in one of them")
    dt = _float_power_dtype(input, exponent)
    cast = complex if dt.is_complex else float

    def up(v: Any) -> Any:
        return v.to(dt) if isinstance(v, Tensor) else cast(v)

    a, b = up(input), up(exponent)
    return write_out(out, pow(a, b) if isinstance(a, Tensor) else rpow(b, a), "float_power")


class _FMaxMin(Function):
    """y = max(a, b) (``take`` = a >= b) or min(a, b) (a <= b), NaN only where both are; ties and NaN in b
    send the gradient to a. a, b: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, a, b, is_max):
        xp = ctx.xp
        ctx.is_max = is_max
        ctx.save_for_backward(a, b)
        return xp.fmax(a, b) if is_max else xp.fmin(a, b)

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        take = ((a >= b) if ctx.is_max else (a <= b)) | ctx.xp.isnan(b)
        return dy * take, dy * ~take, None


def _fmaxmin(name: str, is_max: bool):
    def fn(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
        a, b = _tensors(name, input, other)
        if a._data.dtype.kind == "c":
            raise RuntimeError(f"{name} not implemented for complex tensors.")
        return write_out(out, _FMaxMin.apply(a, b, is_max), name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name[1:]}imum that ignores NaN unless both are NaN. Shape: a, b (*) -> (*)"
    return fn


fmax = _fmaxmin("fmax", True)
fmin = _fmaxmin("fmin", False)


class Heaviside(Function):
    """y = 0 for x < 0 (and NaN), values for x == 0, 1 for x > 0; not differentiable (as PyTorch).

    Shape: x (*), values broadcastable -> (*)
    """

    @staticmethod
    def forward(ctx, x, values):
        return ctx.xp.where(x == 0, values, x > 0).astype(x.dtype)

    @staticmethod
    def backward(ctx, dy):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input: Tensor, values: Tensor, *, out: Tensor | None = None) -> Tensor:
    tensor_arg("heaviside", "input", 1, input)
    tensor_arg("heaviside", "values", 2, values)
    if input._data.dtype.kind == "c" or values._data.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return write_out(out, Heaviside.apply(input, values), "heaviside")
