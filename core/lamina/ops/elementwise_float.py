"""More unary elementwise math: inverse hyperbolic functions, angle conversion, ``nan_to_num``,
``frexp`` and ``positive``, forward and backward side by side.

Backward formulas use operators and ``ctx.xp`` functions only (double backward runs them on Tensors).
"""

from __future__ import annotations

import math
from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ._util import int_to_float
from .conversion import _TYPE_NAMES
from .creation import write_out
from .elementwise import mul
from .statistics import _named
from .unary import _pointwise


def torch_type_name(x: Any) -> str:
    """The scalar-type name PyTorch's messages use for a tensor or dtype (``Float``, ``Long``, ``Bool``)."""
    d = x.dtype if isinstance(x, Tensor) else x
    name = _TYPE_NAMES.get(d.name)
    return name[: -len("Tensor")] if name else d.name


def not_implemented_for(name: str, x: Any) -> NotImplementedError:
    """PyTorch's error for a kernel without a case for this dtype (``"hypot_cpu" not implemented for 'Long'``)."""
    return NotImplementedError(f'"{name}_cpu" not implemented for \'{torch_type_name(x)}\'')


# y = f(x), gradient from (dy, saved x): forward and backward side by side
# arccosh' as 1 / (sqrt(x - 1) sqrt(x + 1)): the principal branch for complex x, where sqrt(x * x - 1) flips sign
Acosh = _pointwise("Acosh", lambda xp, x: xp.arccosh(x),
                   lambda xp, dy, x: dy / (xp.sqrt(x - 1) * xp.sqrt(x + 1)), "x", "y = arccosh(x).")
Asinh = _pointwise("Asinh", lambda xp, x: xp.arcsinh(x), lambda xp, dy, x: dy / xp.sqrt(x * x + 1), "x",
                   "y = arcsinh(x).")
Atanh = _pointwise("Atanh", lambda xp, x: xp.arctanh(x), lambda xp, dy, x: dy / (1 - x * x), "x",
                   "y = arctanh(x).")


def acosh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise inverse hyperbolic cosine (integers promote to the default float). Shape: (*) -> (*)"""
    return write_out(out, Acosh.apply(int_to_float(input)), "acosh")


def asinh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise inverse hyperbolic sine. Shape: (*) -> (*)"""
    return write_out(out, Asinh.apply(int_to_float(input)), "asinh")


def atanh(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Elementwise inverse hyperbolic tangent. Shape: (*) -> (*)"""
    return write_out(out, Atanh.apply(int_to_float(input)), "atanh")


arccosh, arcsinh, arctanh = acosh, asinh, atanh


def _angle(name: str, factor: float):
    def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
        if input._data.dtype.kind == "c":
            raise RuntimeError(f"{name} is not supported for complex tensors.")
        x = int_to_float(input)
        if x.dtype == _dtype.float16:  # PyTorch computes half in float32, then rounds once
            return write_out(out, mul(x.to(_dtype.float32), factor).to(_dtype.float16), name)
        return write_out(out, mul(x, factor), name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise x * {factor!r} (integers promote to the default float). Shape: (*) -> (*)"
    return fn


deg2rad = _angle("deg2rad", math.pi / 180)
rad2deg = _angle("rad2deg", 180 / math.pi)


class NanToNum(Function):
    """y = x with NaN, +inf and -inf replaced; gradient passes where x is finite. Shape: (*) -> (*)"""

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return ctx.xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * ctx.xp.isfinite(x), None, None, None


def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None, *,
               out: Tensor | None = None) -> Tensor:
    """NaN -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf`` (default: the dtype's largest and lowest
    finite values); integer and bool tensors are copied. Shape: (*) -> (*)"""
    kind = input._data.dtype.kind
    if kind in "biu":
        return write_out(out, input.clone(), "nan_to_num")
    if kind == "c" and input.requires_grad and _grad_state.enabled:
        raise RuntimeError("nan_to_num does not support automatic differentiation for outputs with complex dtype.")
    # None keeps NumPy's default, the dtype's extreme finite values (as PyTorch)
    return write_out(out, NanToNum.apply(input, float(nan), posinf, neginf), "nan_to_num")


class Frexp(Function):
    """x = mantissa * 2 ** exponent, 0.5 <= |mantissa| < 1; gradient dy * 2 ** -exponent to x.

    Shape: (*) -> mantissa (*), exponent (*) int32
    """

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        m, e = xp.frexp(x)
        ctx.scale = xp.ldexp(xp.ones_like(m), -e)  # a constant of the graph: exact powers of two
        return m, e.astype("int32")

    @staticmethod
    def backward(ctx, dm, de):
        return dm * ctx.scale


def frexp(input: Tensor, *, out: tuple | None = None) -> Any:
    """(mantissa, exponent) with ``input == mantissa * 2 ** exponent``; as ``lamina.return_types.frexp``."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = Frexp.apply(input)
    if out is not None:
        m, e = write_out(out[0], m, "frexp"), write_out(out[1], e, "frexp")
    return _named("frexp", ("mantissa", "exponent"))(m, e)


def positive(input: Tensor) -> Tensor:
    """``input`` itself (``+x``); bool tensors are refused as PyTorch does. Shape: (*) -> (*)"""
    if input._data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input
