"""Bind the op families to ``Tensor`` as methods and operators (one table, no logic)."""

from __future__ import annotations

import operator
from typing import Any

from . import _dtype
from ._tensor import Tensor
from .ops import combine as J
from .ops import conversion as C
from .ops import creation as K
from .ops import elementwise as E
from .ops import indexing as I
from .ops import linalg as L
from .ops import reduction as R
from .ops import shape as S
from .ops import softmax as SM
from .ops import sorting as Sort
from .ops._util import promote_pair
from .ops.inplace import make_inplace


def _cmp(np_op):
    def fn(self: Tensor, other: Any) -> Tensor:
        if not isinstance(other, Tensor):
            from .ops._util import scalar_or_tensor

            other = scalar_or_tensor(other, self)
        if isinstance(other, Tensor):
            if other._device is not self._device:
                from .errors import DeviceMismatchError

                raise DeviceMismatchError(f"comparison: expected both tensors on one device, got {self._device} "
                                          f"and {other._device}")
            a, b = promote_pair(self, other)
            res = np_op(a._data, b._data)
        else:
            res = np_op(self._data, other)
        xp = self._device.backend.xp
        return Tensor._make(xp.asarray(res), self._device)

    return fn


def _logical(np_name: str, unary: bool = False):
    def fn(self: Tensor, other: Any = None) -> Tensor:
        xp = self._device.backend.xp
        f = getattr(xp, np_name)
        res = f(self._data) if unary else f(self._data, other._data if isinstance(other, Tensor) else other)
        return Tensor._make(xp.asarray(res), self._device)

    return fn


def _pred(np_name: str):
    def fn(self: Tensor) -> Tensor:
        xp = self._device.backend.xp
        return Tensor._make(xp.asarray(getattr(xp, np_name)(self._data)), self._device)

    return fn


def _bitwise(op):
    def fn(self: Tensor, other: Any) -> Tensor:
        o = other._data if isinstance(other, Tensor) else other
        if self._data.dtype.kind == "f":
            raise TypeError(f"bitwise operation: expected integer or bool tensors, got {self.dtype}")
        return Tensor._make(self._device.backend.xp.asarray(op(self._data, o)), self._device)

    return fn


def _sum(self: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    return R.sum(self, dim if axis is None else axis, keepdim if keepdims is None else keepdims, dtype=dtype)


def _mean(self: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None) -> Tensor:
    return R.mean(self, dim if axis is None else axis, keepdim if keepdims is None else keepdims, dtype=dtype)


def _new_tensor(self: Tensor, data: Any, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return K.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _new_factory(fn):
    def method(self: Tensor, *size, dtype=None, device=None, requires_grad=False) -> Tensor:
        return fn(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    return method


def _new_full(self: Tensor, size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    return K.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def _cast_method(d):
    def method(self: Tensor, memory_format: Any = None) -> Tensor:
        return C.to(self, d)

    return method


def _zero_(self: Tensor) -> Tensor:
    return _fill_(self, 0)


def _fill_(self: Tensor, value: Any) -> Tensor:
    from .ops.inplace import check_inplace, rebase, snapshot

    if check_inplace(self, value):
        v = value if isinstance(value, Tensor) else value
        return rebase(self, E.add(E.mul(snapshot(self), 0), v))
    self._data[...] = value._data if isinstance(value, Tensor) else value
    self._version.v += 1
    return self


def _copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
    from .ops.inplace import check_inplace, rebase, snapshot

    if not isinstance(src, Tensor):
        raise TypeError(f"copy_: expected a Tensor source, got {type(src).__name__}")
    if src._device is not self._device:
        src = C.to(src, self._device)
    if check_inplace(self, src):
        y = E.add(E.mul(snapshot(self), 0), S.expand(src.to(self.dtype), tuple(self.shape)))
        return rebase(self, y)
    self._data[...] = src._data
    self._version.v += 1
    return self


def _uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    u = K.rand(*self.shape, generator=generator, dtype=self.dtype, device=self.device)
    with _no_grad():
        return _copy_(self, u * (b - a) + a)


def _normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    z = K.randn(*self.shape, generator=generator, dtype=self.dtype, device=self.device)
    with _no_grad():
        return _copy_(self, z * std + mean)


def _bernoulli_(self: Tensor, p: float = 0.5, *, generator=None) -> Tensor:
    with _no_grad():
        return _copy_(self, K.bernoulli(self, p, generator=generator))


def _no_grad():
    from .autograd.grad_mode import no_grad

    return no_grad()


def _max(self: Tensor, dim=None, keepdim: bool = False):
    return R.max(self, dim, keepdim)


def _min(self: Tensor, dim=None, keepdim: bool = False):
    return R.min(self, dim, keepdim)


def _T(self: Tensor) -> Tensor:  # noqa: N802
    return S.permute(self, tuple(reversed(range(self.ndim))))


def _mT(self: Tensor) -> Tensor:  # noqa: N802
    return S.transpose(self, -2, -1)


def _softmax(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return SM.softmax(self, dim, dtype=dtype)


def _log_softmax(self: Tensor, dim: int, dtype: Any = None) -> Tensor:
    return SM.log_softmax(self, dim, dtype=dtype)


def _flip(self: Tensor, *dims) -> Tensor:
    return J.flip(self, dims[0] if len(dims) == 1 else dims)


def _div_scalar_first(self: Tensor, other: Any) -> Tensor:
    return E.rdiv(self, other)


def _index_fill(self: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    mask_host = self._device.backend.xp.zeros(self.shape[dim], dtype=bool)
    mask_host[index._data] = True
    shape = [1] * self.ndim
    shape[dim] = self.shape[dim]
    mask = Tensor._make(mask_host.reshape(shape), self._device)
    return I.masked_fill(self, S.expand(mask, tuple(self.shape)), value)


METHODS: dict[str, Any] = {
    # arithmetic
    "add": E.add, "sub": E.sub, "subtract": E.sub, "mul": E.mul, "multiply": E.mul, "div": E.div,
    "divide": E.div, "true_divide": E.true_divide, "floor_divide": E.floor_divide, "remainder": E.remainder,
    "fmod": E.fmod, "pow": E.pow, "maximum": E.maximum, "minimum": E.minimum, "atan2": E.atan2,
    "neg": E.neg, "negative": E.neg, "abs": E.abs, "absolute": E.abs, "square": E.square, "relu": E.relu,
    "sign": E.sign, "exp": E.exp, "expm1": E.expm1, "log": E.log, "log2": E.log2, "log10": E.log10,
    "log1p": E.log1p, "sqrt": E.sqrt, "rsqrt": E.rsqrt, "reciprocal": E.reciprocal, "sin": E.sin, "cos": E.cos,
    "tan": E.tan, "asin": E.asin, "acos": E.acos, "atan": E.atan, "arcsin": E.asin, "arccos": E.acos,
    "arctan": E.atan, "sinh": E.sinh, "cosh": E.cosh, "tanh": E.tanh, "sigmoid": E.sigmoid,
    "floor": E.floor, "ceil": E.ceil, "round": E.round, "trunc": E.trunc, "fix": E.trunc, "frac": E.frac,
    "clamp": E.clamp, "clip": E.clamp, "clamp_min": E.clamp_min, "clamp_max": E.clamp_max, "lerp": E.lerp,
    "addcmul": E.addcmul, "addcdiv": E.addcdiv,
    # reductions
    "sum": _sum, "mean": _mean, "prod": R.prod, "max": _max, "min": _min, "amax": R.amax, "amin": R.amin,
    "argmax": R.argmax, "argmin": R.argmin, "var": R.var, "std": R.std, "logsumexp": R.logsumexp,
    "norm": R.norm, "all": R.all, "any": R.any, "cumsum": R.cumsum, "cumprod": R.cumprod,
    "count_nonzero": R.count_nonzero, "softmax": _softmax, "log_softmax": _log_softmax,
    # linear algebra
    "matmul": L.matmul, "mm": L.mm, "bmm": L.bmm, "mv": L.mv, "dot": L.dot, "outer": L.outer,
    # shape
    "view": S.view, "view_as": S.view_as, "reshape": S.reshape, "reshape_as": S.reshape_as, "flatten": S.flatten,
    "unflatten": S.unflatten, "squeeze": S.squeeze, "unsqueeze": S.unsqueeze, "permute": S.permute,
    "transpose": S.transpose, "swapaxes": S.transpose, "swapdims": S.transpose, "t": S.t, "movedim": S.movedim,
    "moveaxis": S.movedim, "expand": S.expand, "expand_as": S.expand_as, "broadcast_to": S.broadcast_to,
    "repeat": J.repeat, "tile": J.tile, "repeat_interleave": J.repeat_interleave, "contiguous": S.contiguous,
    "split": J.split, "chunk": J.chunk, "unbind": J.unbind, "narrow": J.narrow, "select": J.select, "flip": _flip,
    "fliplr": J.fliplr, "flipud": J.flipud, "roll": J.roll,
    # indexing
    "gather": I.gather, "scatter": I.scatter, "scatter_add": I.scatter_add, "index_select": I.index_select,
    "masked_fill": I.masked_fill, "masked_select": I.masked_select, "nonzero": I.nonzero,
    "argwhere": I.argwhere, "sort": Sort.sort, "argsort": Sort.argsort, "topk": Sort.topk, "kthvalue": Sort.kthvalue,
    "take": I.take, "index_fill": _index_fill,
    "where": lambda self, condition, other: I.where(condition, self, other),
    # conversions and factories
    "to": C.to, "clone": C.clone, "cpu": C.cpu, "cuda": C.cuda, "type": C.type_,
    "float": _cast_method(_dtype.float32), "double": _cast_method(_dtype.float64),
    "half": _cast_method(_dtype.float16), "long": _cast_method(_dtype.int64), "int": _cast_method(_dtype.int32),
    "short": _cast_method(_dtype.int16), "bool": _cast_method(_dtype.bool_), "byte": _cast_method(_dtype.uint8),
    "char": _cast_method(_dtype.int8),
    "new_tensor": _new_tensor, "new_zeros": _new_factory(K.zeros), "new_ones": _new_factory(K.ones),
    "new_empty": _new_factory(K.empty), "new_full": _new_full, "type_as": lambda self, other: C.to(self, other.dtype),
    # comparisons and logic (not differentiable)
    "eq": _cmp(operator.eq), "ne": _cmp(operator.ne), "lt": _cmp(operator.lt), "le": _cmp(operator.le),
    "gt": _cmp(operator.gt), "ge": _cmp(operator.ge), "greater": _cmp(operator.gt), "less": _cmp(operator.lt),
    "logical_and": _logical("logical_and"), "logical_or": _logical("logical_or"),
    "logical_xor": _logical("logical_xor"), "logical_not": _logical("logical_not", unary=True),
    "isnan": _pred("isnan"), "isinf": _pred("isinf"), "isfinite": _pred("isfinite"),
    "isposinf": _pred("isposinf"), "isneginf": _pred("isneginf"), "signbit": _pred("signbit"),
    "bitwise_and": _bitwise(operator.and_), "bitwise_or": _bitwise(operator.or_),
    "bitwise_xor": _bitwise(operator.xor),
    # in-place, array fast path when no graph is recorded
    "zero_": _zero_, "fill_": _fill_, "copy_": _copy_, "uniform_": _uniform_, "normal_": _normal_,
    "bernoulli_": _bernoulli_,
}


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
    if isinstance(min, (int, float)) or min is None:
        if min is not None:
            a[a < min] = min
        if max is not None:
            a[a > max] = max
    else:
        raise TypeError("tensor bounds go through the out-of-place path")


_INPLACE_ARRAY = {"add": _iadd, "sub": _isub, "mul": _imul, "clamp": _iclamp}
_INPLACE_NAMES = ["add", "sub", "mul", "div", "pow", "neg", "abs", "exp", "log", "sqrt", "rsqrt", "sin", "cos",
                  "tanh", "sigmoid", "relu", "clamp", "clamp_min", "clamp_max", "floor", "ceil", "round", "trunc",
                  "reciprocal", "square", "sign", "masked_fill", "scatter", "scatter_add", "index_fill", "lerp",
                  "addcmul", "addcdiv", "fmod", "remainder", "log1p", "expm1", "atan", "clip", "true_divide",
                  "floor_divide", "subtract", "multiply", "divide", "maximum", "minimum", "t", "transpose",
                  "squeeze", "unsqueeze", "negative", "exponential", "sqrt"]


def _install() -> None:
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    for name in _INPLACE_NAMES:
        if name in METHODS and not hasattr(Tensor, name + "_"):
            setattr(Tensor, name + "_", make_inplace(name, METHODS[name], _INPLACE_ARRAY.get(name)))
    Tensor.T = property(_T)
    Tensor.mT = property(_mT)
    Tensor.H = property(_T)
    Tensor.mH = property(_mT)
    Tensor.__getitem__ = I.getitem
    Tensor.__setitem__ = I.setitem
    Tensor.__add__ = Tensor.__radd__ = E.add
    Tensor.__sub__ = E.sub
    Tensor.__rsub__ = E.rsub
    Tensor.__mul__ = Tensor.__rmul__ = E.mul
    Tensor.__truediv__ = E.div
    Tensor.__rtruediv__ = _div_scalar_first
    Tensor.__floordiv__ = E.floor_divide
    # a 0-d tensor promotes like the scalar it holds (7.5 // int_tensor is float)
    Tensor.__rfloordiv__ = lambda self, other: E.floor_divide(K.tensor(other, device=self.device), self)
    Tensor.__mod__ = E.remainder
    Tensor.__pow__ = E.pow
    Tensor.__rpow__ = E.rpow
    Tensor.__matmul__ = L.matmul
    Tensor.__rmatmul__ = lambda self, other: L.matmul(K.tensor(other, device=self.device), self)
    Tensor.__neg__ = E.neg
    Tensor.__pos__ = lambda self: self
    Tensor.__abs__ = E.abs
    Tensor.__eq__ = METHODS["eq"]
    Tensor.__ne__ = METHODS["ne"]
    Tensor.__lt__ = METHODS["lt"]
    Tensor.__le__ = METHODS["le"]
    Tensor.__gt__ = METHODS["gt"]
    Tensor.__ge__ = METHODS["ge"]
    Tensor.__and__ = Tensor.__rand__ = _bitwise(operator.and_)
    Tensor.__or__ = Tensor.__ror__ = _bitwise(operator.or_)
    Tensor.__xor__ = Tensor.__rxor__ = _bitwise(operator.xor)
    Tensor.__invert__ = lambda self: Tensor._make(~self._data, self._device)
    Tensor.__iadd__ = Tensor.add_
    Tensor.__isub__ = Tensor.sub_
    Tensor.__imul__ = Tensor.mul_
    Tensor.__itruediv__ = Tensor.div_
    Tensor.__hash__ = lambda self: id(self)
    Tensor.__iter__ = lambda self: iter(J.unbind(self, 0)) if self.ndim else _iter_0d()


def _iter_0d():
    raise TypeError("iteration over a 0-d tensor")


_install()
