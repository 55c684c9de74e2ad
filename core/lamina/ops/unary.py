"""Unary elementwise math (exp, log, trig, activations, rounding), forward and backward side by side.

Every backward uses operators and ``ctx.xp`` functions only, so it also runs on Tensors under
``create_graph=True`` (double backward).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import int_to_float, refuse_dtype


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, dy):
        return -dy


def _pointwise(name: str, forward, backward, saves: str, doc: str) -> type:
    """A unary Function ``y = forward(xp, x)`` whose gradient is ``backward(xp, dy, s)``.

    ``s`` is the saved input ``x`` or output ``y`` (``saves``); formulas use operators and ``xp``
    only, so they also run on Tensors for double backward. The functions are holomorphic: for
    complex x the gradient is ``dy * conj(f'(x))`` (PyTorch's conjugate Wirtinger convention),
    computed as ``conj(backward(conj(dy)))`` since every formula is ``dy * f'``.
    """

    def fwd(ctx, x):
        if x.dtype.kind == "V":  # bfloat16: computed in float32 and rounded once, as torch CPU
            y = forward(ctx.xp, x.astype("float32")).astype(x.dtype)
        else:
            y = forward(ctx.xp, x)
        ctx.save_for_backward(y if saves == "y" else x)
        return y

    def bwd(ctx, dy):
        (s,) = ctx.saved_tensors
        if dy.dtype.kind == "c":
            return backward(ctx.xp, dy.conj(), s).conj()
        return backward(ctx.xp, dy, s)

    return type(name, (Function,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd),
                                    "__doc__": f"{doc} Shape: (*) -> (*)", "__module__": __name__})


_LN2, _LN10 = math.log(2.0), math.log(10.0)

# name, forward, gradient from (dy, saved), saved value: forward and backward side by side
Exp = _pointwise("Exp", lambda xp, x: xp.exp(x), lambda xp, dy, y: dy * y, "y", "y = exp(x).")
Expm1 = _pointwise("Expm1", lambda xp, x: xp.expm1(x), lambda xp, dy, y: dy * (y + 1), "y", "y = exp(x) - 1.")
Log = _pointwise("Log", lambda xp, x: xp.log(x), lambda xp, dy, x: dy / x, "x", "y = log(x).")
Log2 = _pointwise("Log2", lambda xp, x: xp.log2(x), lambda xp, dy, x: dy / (x * _LN2), "x", "y = log2(x).")
Log10 = _pointwise("Log10", lambda xp, x: xp.log10(x), lambda xp, dy, x: dy / (x * _LN10), "x", "y = log10(x).")
Log1p = _pointwise("Log1p", lambda xp, x: xp.log1p(x), lambda xp, dy, x: dy / (x + 1), "x", "y = log(1 + x).")
Sqrt = _pointwise("Sqrt", lambda xp, x: xp.sqrt(x), lambda xp, dy, y: dy / (2 * y), "y", "y = sqrt(x).")
Rsqrt = _pointwise("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda xp, dy, y: dy * -0.5 * y * y * y, "y",
                   "y = 1 / sqrt(x).")
Reciprocal = _pointwise("Reciprocal", lambda xp, x: 1 / x, lambda xp, dy, y: -dy * y * y, "y", "y = 1 / x.")
Square = _pointwise("Square", lambda xp, x: x * x, lambda xp, dy, x: dy * 2 * x, "x", "y = x * x.")
Sin = _pointwise("Sin", lambda xp, x: xp.sin(x), lambda xp, dy, x: dy * xp.cos(x), "x", "y = sin(x).")
Cos = _pointwise("Cos", lambda xp, x: xp.cos(x), lambda xp, dy, x: -dy * xp.sin(x), "x", "y = cos(x).")
Tan = _pointwise("Tan", lambda xp, x: xp.tan(x), lambda xp, dy, y: dy * (1 + y * y), "y", "y = tan(x).")
Asin = _pointwise("Asin", lambda xp, x: xp.arcsin(x), lambda xp, dy, x: dy / xp.sqrt(1 - x * x), "x",
                  "y = arcsin(x).")
Acos = _pointwise("Acos", lambda xp, x: xp.arccos(x), lambda xp, dy, x: -dy / xp.sqrt(1 - x * x), "x",
                  "y = arccos(x).")
Atan = _pointwise("Atan", lambda xp, x: xp.arctan(x), lambda xp, dy, x: dy / (1 + x * x), "x", "y = arctan(x).")
Sinh = _pointwise("Sinh", lambda xp, x: xp.sinh(x), lambda xp, dy, x: dy * xp.cosh(x), "x", "y = sinh(x).")
Cosh = _pointwise("Cosh", lambda xp, x: xp.cosh(x), lambda xp, dy, x: dy * xp.sinh(x), "x", "y = cosh(x).")
Tanh = _pointwise("Tanh", lambda xp, x: xp.tanh(x), lambda xp, dy, y: dy * (1 - y * y), "y", "y = tanh(x).")


class Abs(Function):
    """y = |x| (real for complex x); gradient dy * sgn(x), sgn(x) = x / |x| (0 at 0). Shape: (*) -> (*)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        if x.dtype.kind == "c":
            xp = ctx.xp
            r = xp.abs(x)
            return dy * xp.where(r == 0, 0, x / xp.where(r == 0, 1, r))
        return dy * ctx.xp.sign(x)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        if x.dtype.kind == "c":
            y = 1 / (1 + xp.exp(-x))
        else:  # split by sign so exp never overflows; bfloat16/float16 in float32, rounded once (torch CPU)
            x32 = x.astype("float32") if x.dtype.itemsize == 2 and x.dtype.kind in "fV" else x
            e = xp.exp(-xp.abs(x32))
            y = xp.where(x32 >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        if dy.dtype.kind == "c":
            y = y.conj()
        return dy * y * (1 - y)


_SPLIT = 1 << 20  # arrays this large run in pieces on the thread pool (below, one call costs less)


def _split(ctx, fn, out, *ins) -> None:
    """``fn(out, *ins)`` on flat pieces of 64 Ki elements by the backend's ``parallel_for`` for C-contiguous
    NumPy arrays of one shape (else one call); the callers send only arrays of ``_SPLIT`` elements or
    more (below, the dispatch costs more than it saves); elementwise ``fn``: same bits."""
    arrays = (out, *ins)
    if not all(type(a).__module__ == "numpy" and a.flags.c_contiguous and a.shape == out.shape for a in arrays):
        return fn(*arrays)
    flat = [a.reshape(-1) for a in arrays]
    ctx.device.backend.parallel_for(-(-out.size // 65536), lambda i, j: fn(*(
        f[i << 16:j << 16] for f in flat)), grain=2)


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        if x.size < _SPLIT:  # the common case stays one call, without closures (op overhead)
            y = ctx.xp.maximum(x, 0)
        else:
            y = ctx.xp.empty_like(x)
            _split(ctx, lambda o, a: ctx.xp.maximum(a, 0, out=o), y, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        if isinstance(y, Tensor):                       # create_graph: differentiable operators
            return dy * (y > 0)
        if y.size < _SPLIT:
            dx = (y > 0).astype(dy.dtype)  # float * float runs faster than float * bool
            dx *= dy
            return dx
        dx = ctx.xp.empty_like(y, dtype=dy.dtype)

        def piece(o, s, g) -> None:   # float * float runs faster than float * bool
            ctx.xp.greater(s, 0, out=o)
            o *= g
        _split(ctx, piece, dx, y, dy)
        return dx


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
        if x.dtype.kind == "c":
            raise NotImplementedError("sign: Unlike NumPy, lamina.sign is not intended to support complex numbers. "
                               "Please use lamina.sgn instead.")
        return ctx.xp.sign(x)


def _unary(cls: type[Function], bool_error: tuple[type[Exception], str] | None = None) -> Callable[[Tensor], Tensor]:
    def fn(input: Tensor) -> Tensor:
        if bool_error is not None and input._data.dtype.kind == "b":
            raise bool_error[0](bool_error[1])
        return cls.apply(input)

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = f"Elementwise {cls.__name__.lower()}. Shape: (*) -> (*)"
    return fn


def _unary_float(cls: type[Function]) -> Callable[[Tensor], Tensor]:
    def fn(input: Tensor) -> Tensor:
        return cls.apply(int_to_float(input))

    fn.__name__ = cls.__name__.lower()
    fn.__doc__ = f"Elementwise {cls.__name__.lower()} (integers promote to the default float). Shape: (*) -> (*)"
    return fn


neg = _unary(Neg, (RuntimeError, "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
                               "to invert a mask, use the `~` or `logical_not()` operator instead."))
negative = neg
abs = _unary(Abs, (NotImplementedError, "\"abs_cpu\" not implemented for 'Bool'"))  # noqa: A001
relu = _unary(Relu, (RuntimeError, "Boolean inputs not supported for relu"))


def square(input: Tensor) -> Tensor:
    """Elementwise x * x (bools square as int64, as torch's pow(x, 2)). Shape: (*) -> (*)"""
    return Square.apply(input.long() if input._data.dtype.kind == "b" else input)


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


def _int_passthrough(cls: type[Function]) -> Callable[[Tensor], Tensor]:
    def fn(input: Tensor) -> Tensor:
        refuse_dtype(input, f"{cls.__name__.lower()}_vml", "b")
        kind = input._data.dtype.kind
        if kind in "biu":
            return input.clone()
        if kind == "c":
            raise NotImplementedError(f"{cls.__name__.lower()} is not supported for complex inputs")
        return cls.apply(input)

    fn.__name__ = cls.__name__.lower()
    return fn


floor = _int_passthrough(Floor)
ceil = _int_passthrough(Ceil)
trunc = fix = _int_passthrough(Trunc)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:  # noqa: A001
    refuse_dtype(input, "round_vml", "b")
    if input._data.dtype.kind in "biu":
        return input.clone()
    return Round.apply(input, decimals) if decimals else Round.apply(input)
