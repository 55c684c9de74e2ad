"""bfloat16 and float16 ops computed in float32 and rounded once, as PyTorch's CPU kernels do.

NumPy evaluates a chain of float16 (or ml_dtypes bfloat16) operations one rounding at a time, and casts
Python-scalar coefficients (0.01, 1/6) to the low dtype first; PyTorch converts the inputs to float32,
runs the whole formula there and rounds the result once. ``Float32Function`` gives a ``Function`` that
behaviour without touching its body: a low-precision first input sends every low-precision array
argument through the body as a float32 copy and the outputs are rounded back; backward gets float32
output gradients and saved inputs (the engine rounds the input gradients to the inputs' dtype). The
arrays saved for backward stay the caller's low-precision ones (half the memory, and under
``create_graph`` they still map to the input Tensors). Float32 and float64 calls run the body as is.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

import lamina
from lamina import Tensor
from lamina.autograd import Function

__lamina_plugin_api__ = "1.0"


def is_low(a: Any) -> bool:
    """True for a bfloat16 or float16 array (or Tensor)."""
    dt = a._data.dtype if isinstance(a, Tensor) else getattr(a, "dtype", None)
    return dt is not None and dt.itemsize == 2 and dt.kind in "fV"


def widen(a: Any) -> Any:
    """A float32 copy of a bfloat16/float16 array or Tensor (differentiable for a Tensor); others as given."""
    if not is_low(a):
        return a
    return a.float() if isinstance(a, Tensor) else a.astype("float32")


def round_low(ctx: Any, a: Any) -> Any:
    """``a`` rounded to the low-precision input dtype and back to float32, where a torch kernel keeps an
    intermediate in the input's dtype (GLU's sigmoid, logsigmoid's exp(-|x|)); as given otherwise."""
    low = ctx._low
    if low is None:
        return a
    if isinstance(a, Tensor):
        return a.to(getattr(lamina, low.name)).float()
    return a.astype(low).astype("float32")


def low_scalar(ctx: Any, v: float) -> float:
    """A Python scalar rounded to the low-precision input dtype (a torch kernel comparing in that dtype)."""
    return v if ctx._low is None else float(ctx.xp.asarray(v, dtype=ctx._low))


def _forward(body: Any) -> Any:
    @wraps(body)
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        if not args or not is_low(args[0]):
            return body(ctx, *args, **kwargs)
        low = args[0].dtype
        wide = tuple(widen(a) for a in args)
        ctx._low = low
        ctx._low_inputs = {id(w): a for w, a in zip(wide, args) if w is not a}
        try:
            out = body(ctx, *wide, **kwargs)
        finally:
            ctx._low_inputs = None
        if type(out) is tuple:
            return tuple(o.astype(low) for o in out)
        return out.astype(low)

    return forward


def _backward(body: Any) -> Any:
    @wraps(body)
    def backward(ctx: Any, *grads: Any) -> Any:
        if ctx._low is None:
            return body(ctx, *grads)
        return body(ctx, *(widen(g) for g in grads))

    return backward


class Float32Function(Function):
    """A ``Function`` whose bfloat16/float16 calls compute in float32 and round once (see the module)."""

    _low = None
    _low_inputs = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "forward" in cls.__dict__:
            cls.forward = staticmethod(_forward(cls.__dict__["forward"].__func__))
        if "backward" in cls.__dict__:
            cls.backward = staticmethod(_backward(cls.__dict__["backward"].__func__))

    def save_for_backward(self, *arrays: Any) -> None:
        inputs = self._low_inputs
        if inputs:  # keep the caller's arrays, not their float32 copies
            arrays = tuple(inputs.get(id(a), a) for a in arrays)
        super().save_for_backward(*arrays)

    @property
    def saved_tensors(self) -> tuple:
        saved = Function.saved_tensors.fget(self)
        if self._low is None:
            return saved
        return tuple(widen(a) for a in saved)
