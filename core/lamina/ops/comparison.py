"""Comparisons, logic, predicates and bitwise ops (not differentiable): functions and methods."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

from .._base.errors import DeviceMismatchError, broadcast_error
from .._tensor import Tensor
from ..autograd.function import _observers, notify_observers
from ._util import SCALAR_TYPE, promote_pair, scalar_or_tensor


def _result(x: Tensor, res: Any) -> Tensor:
    return Tensor._make(x._device.backend.xp.asarray(res), x._device)


def _named(fn: Callable, name: str) -> Callable:
    fn.__name__ = fn.__qualname__ = name  # observers key an op by module and qualname: lamina.ops.comparison.gt
    return fn


def _compare(np_op: Callable) -> Callable[[Tensor, Any], Tensor]:
    def fn(input: Tensor, other: Any) -> Tensor:
        b = other if isinstance(other, Tensor) else scalar_or_tensor(other, input)
        if isinstance(b, Tensor):
            if b._device is not input._device:
                raise DeviceMismatchError(f"comparison: expected both tensors on one device, got {input._device} "
                                          f"and {b._device}")
            x, b = promote_pair(input, b)
            try:
                out = _result(input, np_op(x._data, b._data))
            except ValueError as e:
                if "could not be broadcast" not in str(e):
                    raise
                raise broadcast_error([x.shape, b.shape]) from None
        else:
            out = _result(input, np_op(input._data, b))
        if _observers:
            notify_observers(fn, (input, other), {}, out)
        return out

    return _named(fn, np_op.__name__)


def _logical(np_name: str) -> Callable[[Tensor, Any], Tensor]:
    def fn(input: Tensor, other: Any) -> Tensor:
        f = getattr(input._device.backend.xp, np_name)
        out = _result(input, f(input._data, other._data if isinstance(other, Tensor) else other))
        if _observers:
            notify_observers(fn, (input, other), {}, out)
        return out

    return _named(fn, np_name)


def _predicate(np_name: str, name: str | None = None) -> Callable[[Tensor], Tensor]:
    def fn(input: Tensor) -> Tensor:
        out = _result(input, getattr(input._device.backend.xp, np_name)(input._data))
        if _observers:
            notify_observers(fn, (input,), {}, out)
        return out

    return _named(fn, name or np_name)


def _bitwise(op: Callable) -> Callable[[Tensor, Any], Tensor]:
    def fn(input: Tensor, other: Any) -> Tensor:
        dtypes = [input._data.dtype] + ([other._data.dtype] if isinstance(other, Tensor) else [])
        inexact = [d.name for d in dtypes if d.kind in "fc"]
        if inexact or isinstance(other, (float, complex)):  # torch's message names the float type
            name = SCALAR_TYPE.get(inexact[0], inexact[0]) if inexact else "Float"
            raise NotImplementedError(f'"{fn.__name__}_{input._device.type}" not implemented for \'{name}\'')
        out = _result(input, op(input._data, other._data if isinstance(other, Tensor) else other))
        if _observers:
            notify_observers(fn, (input, other), {}, out)
        return out

    return _named(fn, f"bitwise_{op.__name__.strip('_')}")


eq = _compare(operator.eq)
ne = _compare(operator.ne)
lt = less = _compare(operator.lt)
le = _compare(operator.le)
gt = greater = _compare(operator.gt)
ge = _compare(operator.ge)
logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")
logical_not = _predicate("logical_not")
isnan = _predicate("isnan")
isinf = _predicate("isinf")
isfinite = _predicate("isfinite")
isposinf = _predicate("isposinf")
isneginf = _predicate("isneginf")
signbit = _predicate("signbit")
bitwise_and = _bitwise(operator.and_)
bitwise_or = _bitwise(operator.or_)
bitwise_xor = _bitwise(operator.xor)
bitwise_not = _predicate("invert", "bitwise_not")


def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: builtins.bool = False) -> Tensor:
    xp = input._device.backend.xp
    o = other._data if isinstance(other, Tensor) else other
    return _result(input, xp.isclose(input._data, o, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: builtins.bool = False) -> builtins.bool:
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan).all().item())


def equal(input: Tensor, other: Tensor) -> builtins.bool:
    return tuple(input.shape) == tuple(other.shape) and builtins.bool(eq(input, other).all().item())


class ComparisonMethods:
    __slots__ = ()
    eq = __eq__ = eq  # type: ignore[assignment]
    ne = __ne__ = ne  # type: ignore[assignment]
    lt = less = __lt__ = lt
    le = __le__ = le
    gt = greater = __gt__ = gt
    ge = __ge__ = ge
    logical_and = logical_and
    logical_or = logical_or
    logical_xor = logical_xor
    logical_not = logical_not
    isnan = isnan
    isinf = isinf
    isfinite = isfinite
    isposinf = isposinf
    isneginf = isneginf
    signbit = signbit
    isclose = isclose
    allclose = allclose
    equal = equal
    bitwise_and = __and__ = __rand__ = bitwise_and
    bitwise_or = __or__ = __ror__ = bitwise_or
    bitwise_xor = __xor__ = __rxor__ = bitwise_xor
    __invert__ = bitwise_not

    def __hash__(self) -> int:
        return id(self)
