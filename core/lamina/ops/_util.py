"""Helpers shared by the op families: argument coercion, dtype promotion, dim normalisation."""

from __future__ import annotations

import builtins
import numbers
from collections.abc import Sequence
from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def normalize_dim(dim: int, ndim: int, op: str = "op") -> int:
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def normalize_dims(dim: Any, ndim: int, op: str = "op") -> tuple[int, ...] | None:
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return None
        return tuple(normalize_dim(int(d), ndim, op) for d in dim)
    return (normalize_dim(int(dim), ndim, op),)


def result_np_dtype(a: Tensor, b: Tensor):
    """PyTorch's type promotion for two tensors (0-d tensors count only when of a higher kind)."""
    da, db = a._data.dtype, b._data.dtype
    za, zb = a._data.ndim == 0, b._data.ndim == 0
    if za != zb:
        dim_d, zero_d = (db, da) if za else (da, db)
        kd, kz = _KIND_RANK[_dtype.kind_of(dim_d)], _KIND_RANK[_dtype.kind_of(zero_d)]
        if kz <= kd:
            return dim_d
        if kz == 3 and kd == 2:  # a complex 0-d tensor keeps the dimensioned tensor's precision
            return _dtype.to_np(_dtype._FROM_NP[dim_d].to_complex())
        return zero_d
    return _dtype.promote_np(da, db)


def promote_pair(a: Tensor, b: Any) -> tuple[Any, Any]:
    """Make ``a`` (a Tensor) and ``b`` ready for a binary op with PyTorch's promotion rules."""
    if isinstance(b, Tensor):
        if a._data.dtype != b._data.dtype:
            dt = result_np_dtype(a, b)
            if a._data.dtype != dt:
                a = a.to(_dtype._FROM_NP[dt])
            if b._data.dtype != dt:
                b = b.to(_dtype._FROM_NP[dt])
        return a, b
    tb = type(b)
    if tb is float or tb is int or tb is bool:
        kind = a._data.dtype.kind
        if tb is float and kind in "biu":
            a = a.to(_dtype.get_default_dtype())
        elif tb is int and kind == "b":
            a = a.to(_dtype.int64)
        return a, b
    if tb is complex:
        kind = a._data.dtype.kind
        if kind != "c":  # a float tensor keeps its precision, others take the default complex dtype
            a = a.to(a.dtype.to_complex() if kind == "f" else _dtype.get_default_complex_dtype())
        return a, b
    return promote_pair(a, scalar_or_tensor(b, a))


def promote_float_pair(a: Tensor, b: Any) -> tuple[Any, Any]:
    """``promote_pair``, then an integer or bool result type becomes the default float (true division)."""
    a, b = promote_pair(a, b)
    if a._data.dtype.kind in "biu":
        a = int_to_float(a)
        if isinstance(b, Tensor):
            b = b.to(a.dtype)
    return a, b


def scalar_or_tensor(b: Any, like: Tensor) -> Any:
    """A Python scalar stays a scalar; NumPy scalars become Python scalars; arrays become tensors."""
    if isinstance(b, Tensor):
        return b
    if isinstance(b, numbers.Number) and getattr(b, "ndim", 0) == 0:
        if isinstance(b, (bool,)) or type(b).__name__ == "bool_":
            return bool(b)
        if isinstance(b, numbers.Integral):
            return int(b)
        if isinstance(b, numbers.Real):
            return float(b)
        return complex(b)
    from .creation import tensor

    return tensor(b, device=like.device)


def int_to_float(t: Tensor) -> Tensor:
    if t._data.dtype.kind in "biu":
        return t.to(_dtype.get_default_dtype())
    return t


def np_dtype(d: Any):
    return _dtype.to_np(d)


def shape_arg(shape: Sequence) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def infer_shape(shape: tuple, numel: int, op: str, in_shape) -> tuple:
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred, got shape {list(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s} in {list(shape)}")
            known *= s
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"{op}: shape '{list(shape)}' is invalid for input of size {numel} "
                           f"(input shape {list(in_shape)})")
    return shape



def _combine(higher: Any, lower: Any) -> Any:
    """PyTorch's rule between categories (dimensioned > 0-d > Python number): the higher decides unless
    the lower is of a higher kind (a complex lower one keeps a floating higher one's precision)."""
    if higher is None or lower is None:
        return lower if higher is None else higher
    kh, kl = _dtype.kind_of(higher), _dtype.kind_of(lower)
    if kh == "c" or kl != "c" and kh == "f":
        return higher
    if kl == "c":
        return _dtype.to_np(_dtype._FROM_NP[higher].to_complex()) if kh == "f" else lower
    return _dtype.promote_np(higher, lower) if kh == "b" or kl == "f" else higher


def result_type(tensor: Any, other: Any) -> _dtype.dtype:
    """The dtype of ``tensor <op> other`` under PyTorch's promotion (tensors, 0-d tensors, Python numbers)."""
    import numpy as np

    cats: list[Any] = [None, None, None]  # dimensioned, 0-d, Python numbers
    for v in (tensor, other):
        if isinstance(v, Tensor):
            k, d = (0 if v._data.ndim else 1), v._data.dtype
        elif isinstance(v, numbers.Number):
            k = 2
            d = np.dtype(bool) if isinstance(v, bool) else np.dtype(np.int64) if isinstance(v, numbers.Integral) \
                else (_dtype.get_default_dtype() if isinstance(v, numbers.Real) else
                      _dtype.get_default_complex_dtype()).np
        else:
            raise TypeError(f"result_type: expected Tensors or Numbers, got {type(v).__name__}")
        cats[k] = d if cats[k] is None else _dtype.promote_np(cats[k], d)
    return _dtype._FROM_NP[_combine(cats[0], _combine(cats[1], cats[2]))]


#: torch's ScalarType names, which its dtype error messages use ("result type Float can't be cast ...")
SCALAR_TYPE = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble", "int8": "Char", "int16": "Short",
               "int32": "Int", "int64": "Long", "uint8": "Byte", "uint16": "UInt16", "uint32": "UInt32",
               "bool": "Bool"}


def refuse_dtype(input: Tensor, kernel: str, kinds: str) -> None:
    """Raise torch's NotImplementedError when ``input``'s dtype kind is in ``kinds``: ``"abs_cpu" not
    implemented for 'Bool'`` (``kernel`` is the name before the device type)."""
    d = input._data.dtype
    if d.kind in kinds:
        raise NotImplementedError(f'"{kernel}_{input._device.type}" not implemented for '
                                  f"'{SCALAR_TYPE.get(d.name, d.name)}'")
