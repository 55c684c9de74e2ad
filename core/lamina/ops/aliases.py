"""PyTorch's alias names of existing ops (``divide`` for ``div``, ``greater_equal`` for ``ge`` ...), as
top-level functions with the ``out=`` their signatures have, and the top-level ``rsub``."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from . import comparison as C
from . import elementwise as E
from .creation import tensor, write_out
from .elementwise_binary import tensor_arg
from .elementwise_float import not_implemented_for


def _wrapped(input: Any, other: Any) -> Tensor:
    """A Python number as ``input`` becomes a 0-d tensor (which promotes as the number would)."""
    if isinstance(input, Tensor) or not isinstance(other, Tensor):
        return input
    return tensor(input, device=other.device)


def absolute(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Alias of ``abs`` (bool tensors refused, as PyTorch). Shape: (*) -> (*)"""
    if input._data.dtype.kind == "b":
        raise not_implemented_for("abs", input)
    return write_out(out, E.abs(input), "absolute")


def arctan2(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Alias of ``atan2`` (tensors only, real only, as PyTorch). Shape: broadcast (*)"""
    tensor_arg("arctan2", "input", 1, input)
    tensor_arg("arctan2", "other", 2, other)
    for v in (input, other):
        if v._data.dtype.kind == "c":
            raise not_implemented_for("atan2", v)
    return write_out(out, E.atan2(input, other), "arctan2")


def divide(input: Tensor, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """Alias of ``div``. Shape: broadcast (*)"""
    input = _wrapped(input, other)
    if rounding_mode is not None and input._data.dtype.kind == "b" and \
            (isinstance(other, bool) or isinstance(other, Tensor) and other._data.dtype.kind == "b"):
        raise not_implemented_for(f"div_{rounding_mode}", input)
    return write_out(out, E.div(input, other, rounding_mode=rounding_mode), "divide")


def multiply(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
    """Alias of ``mul``. Shape: broadcast (*)"""
    return write_out(out, E.mul(_wrapped(input, other), other), "multiply")


def subtract(input: Tensor, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """Alias of ``sub``: input - alpha * other. Shape: broadcast (*)"""
    input = _wrapped(input, other)
    if input._data.dtype.kind == "b" or isinstance(other, bool) or \
            isinstance(other, Tensor) and other._data.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")
    return write_out(out, E.sub(input, other, alpha=alpha), "subtract")


def rsub(input: Tensor, other: Any, *, alpha: Any = 1) -> Tensor:
    """other - alpha * input. Shape: broadcast (*)"""
    tensor_arg("rsub", "input", 1, input)
    return E.rsub(input, other, alpha=alpha)


def _comparison(name: str, op: Any, kernel: str | None):
    """``name``: an alias of the comparison ``op`` with ``out=``; ``kernel`` names an ordering, which complex
    tensors lack (PyTorch's error)."""

    def fn(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
        tensor_arg(name, "input", 1, input)
        if kernel is not None:
            for v in (input, other):
                if isinstance(v, Tensor) and v._data.dtype.kind == "c":
                    raise not_implemented_for(kernel, v)
        return write_out(out, op(input, other), name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Alias of ``{op.__name__}``. Shape: broadcast (*) -> bool"
    return fn


greater_equal = _comparison("greater_equal", C.ge, "ge")
less_equal = _comparison("less_equal", C.le, "le")
greater = _comparison("greater", C.gt, "gt")
less = _comparison("less", C.lt, "lt")
not_equal = _comparison("not_equal", C.ne, None)
