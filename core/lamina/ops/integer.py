"""Integer elementwise ops (not differentiable): gcd, lcm, bit shifts and bitwise_not, and ``isin``.

They compute on the backend's arrays (``xp``) directly, as the comparisons do.
"""

from __future__ import annotations

from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ._util import promote_pair, result_type
from .comparison import _result
from .comparison import bitwise_not as _invert
from .creation import write_out
from .elementwise_binary import tensor_arg
from .elementwise_float import not_implemented_for, torch_type_name


def _int_tensors(name: str, input: Tensor, other: Tensor) -> tuple[Tensor, Tensor]:
    tensor_arg(name, "input", 1, input)
    tensor_arg(name, "other", 2, other)
    a, b = promote_pair(input, other)
    if a._data.dtype.kind not in "iu":
        raise not_implemented_for(name, a)
    return a, b


def gcd(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Greatest common divisor, non-negative (gcd(0, 0) = 0). Shape: (*), (*) -> broadcast (*)"""
    a, b = _int_tensors("gcd", input, other)
    xp = a._device.backend.xp
    return write_out(out, _result(a, xp.gcd(a._data, b._data)), "gcd")


def lcm(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Least common multiple, non-negative (0 when either is 0; wraps on overflow as PyTorch). Shape: as gcd"""
    a, b = _int_tensors("lcm", input, other)
    xp = a._device.backend.xp
    x, y = a._data, b._data
    g = xp.gcd(x, y)
    res = xp.abs(x // xp.where(g == 0, 1, g) * y)  # divide first: the product would overflow sooner
    return write_out(out, _result(a, res.astype(x.dtype, copy=False)), "lcm")


def _as_array(xp: Any, v: Any, np_dtype: Any) -> Any:
    return v._data.astype(np_dtype, copy=False) if isinstance(v, Tensor) else xp.asarray(v).astype(np_dtype)


def _shift(name: str, kernel: str, left: bool):
    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(other, Tensor):
            raise TypeError(f"{name}(): expected a Tensor as input or other, got {type(input).__name__} and "
                            f"{type(other).__name__}")
        like = input if isinstance(input, Tensor) else other
        dt = result_type(input, other)
        if dt.kind not in "iu":
            raise not_implemented_for(kernel, dt)
        xp = like._device.backend.xp
        x = _as_array(xp, input, dt.np)
        s = other._data if isinstance(other, Tensor) else xp.asarray(other)
        # a shift by a negative amount or by the width or more: all bits shifted out (sign bits to the right)
        ok = (s >= 0) & (s < dt.itemsize * 8)
        s = xp.where(ok, s, 0).astype(dt.np)
        if left:
            res = xp.where(ok, xp.left_shift(x, s), 0)
        else:
            res = xp.where(ok, xp.right_shift(x, s), xp.where(x < 0, -1, 0))
        return write_out(out, _result(like, res.astype(dt.np, copy=False)), name)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = (f"input {'<<' if left else '>>'} other on integers (either may be a Python number); shifts by "
                  f"a negative amount or the bit width or more give {'0' if left else '0 or -1'}. "
                  "Shape: broadcast (*)")
    return fn


bitwise_left_shift = _shift("bitwise_left_shift", "lshift", True)
bitwise_right_shift = _shift("bitwise_right_shift", "rshift", False)


def bitwise_not(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """~input on integer and bool tensors. Shape: (*) -> (*)"""
    if input._data.dtype.kind in "fc":
        raise not_implemented_for("bitwise_not", input)
    return write_out(out, _invert(input), "bitwise_not")


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False,
         out: Tensor | None = None) -> Tensor:
    """Whether each of ``elements`` is in ``test_elements`` (either may be a Python number), compared at
    their promoted dtype. Shape: elements (*) -> bool (*)"""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(f"isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__}), expected a Tensor as "
                        "elements or test_elements")
    like = elements if isinstance(elements, Tensor) else test_elements
    for v in (elements, test_elements):
        vt = v.dtype if isinstance(v, Tensor) else _dtype.bool_ if isinstance(v, bool) else None
        if vt is not None and vt.kind in "bc":
            raise RuntimeError(f"Unsupported input type encountered for isin(): {torch_type_name(vt)}")
    dt = result_type(elements, test_elements)
    if dt.kind == "c":
        raise RuntimeError(f"Unsupported input type encountered for isin(): {torch_type_name(dt)}")
    xp = like._device.backend.xp
    e, t = _as_array(xp, elements, dt.np), _as_array(xp, test_elements, dt.np)
    res = xp.isin(e, t, assume_unique=assume_unique, invert=invert)
    return write_out(out, _result(like, xp.asarray(res, dtype=_dtype.bool_.np)), "isin")


def hash_tensor(input: Tensor, dim: Any = None, *, keepdim: bool = False, mode: int = 0,
                out: Tensor | None = None) -> Tensor:
    """XOR of the elements' 64-bit patterns (floats as float64, integers and bools as int64), a uint64 tensor.

    Shape: (*) -> () with ``dim=None``; the reduced dims removed (kept as 1 with ``keepdim``) otherwise.
    """
    tensor_arg("hash_tensor", "input", 1, input)
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    x = input._data
    if x.dtype.kind == "c":
        raise not_implemented_for("xor_sum", input)
    xp = input._device.backend.xp
    axes = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    axes = tuple(a % max(x.ndim, 1) for a in axes) if x.ndim else ()
    if dim is None and x.size == 0:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    for a in axes:
        if x.shape[a] == 0:
            raise IndexError(f"hash_tensor: Expected reduction dim {a} to have non-zero size.")
    wide = x.astype(xp.float64) if x.dtype.kind == "f" else x.astype(xp.int64)
    bits = wide.view(xp.uint64)
    h = xp.bitwise_xor.reduce(bits, axis=axes, keepdims=keepdim) if axes else bits.copy()
    return write_out(out, Tensor._make(xp.asarray(h, dtype=xp.uint64), input._device), "hash_tensor")
