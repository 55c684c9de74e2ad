"""``lamina.testing.make_tensor``: a random tensor of a shape, dtype and device (torch.testing.make_tensor).

Values are drawn uniformly from ``[low, high)``; the defaults depend on the dtype:

    bool [0, 2)    unsigned integers [0, 10)    signed integers [-9, 10)    floating and complex [-9, 9)

A given ``low``/``high`` is clamped to the dtype's finite range (an interval entirely outside it is
an error); integer bounds are rounded up. Complex tensors draw real and imaginary parts separately.
The values come from lamina's generator (``lamina.manual_seed``), so they differ from torch's.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import lamina

_UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
_SIGNED = ("int8", "int16", "int32", "int64")
_FLOATING = ("float16", "bfloat16", "float32", "float64", "complex32", "complex64", "complex128")


def _bounds(low: Any, high: Any, dtype: Any, lowest: float, highest: float, default: tuple) -> tuple:
    low = default[0] if low is None else low
    high = default[1] if high is None else high
    if any(isinstance(v, float) and math.isnan(v) for v in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={low} and high={high}")
    if low == high and dtype.name in _FLOATING:
        warnings.warn("Passing `low==high` to `lamina.testing.make_tensor` for floating or complex types is "
                      "deprecated; use `lamina.full(...)` instead.", FutureWarning, stacklevel=3)
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(f"The value interval specified by `low` and `high` is [{low}, {high}), but {dtype} only "
                         f"supports [{lowest}, {highest})")
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    return (low, high) if dtype.name in _FLOATING else (math.ceil(low), math.ceil(high))


def _uniform(shape: tuple, dtype: Any, device: Any, low: float, high: float) -> Any:
    t = lamina.empty(shape or (1,), dtype=dtype, device=device)  # (uniform_ of a 0-d tensor fails in lamina)
    if high - low >= lamina.finfo(dtype).max:  # the width would overflow: draw half the range, then double
        t.uniform_(low / 2, high / 2).mul_(2)
    else:
        t.uniform_(low, high)
    return t.reshape(shape)


def make_tensor(*shape: int | lamina.Size | list[int] | tuple[int, ...], dtype: lamina.dtype,
                device: str | lamina.device, low: float | None = None, high: float | None = None,
                requires_grad: bool = False, noncontiguous: bool = False, exclude_zero: bool = False,
                memory_format: Any = None) -> lamina.Tensor:
    """A tensor of ``shape`` (ints, or one sequence) filled from ``[low, high)``; see the module docstring.

    ``noncontiguous=True`` returns every other element of a twice-as-wide last dimension (when the
    tensor has more than one element); ``exclude_zero=True`` replaces zeros by 1 (integers, bool) or
    the dtype's smallest normal number (floating, complex).
    """
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError("The parameters `noncontiguous` and `memory_format` are mutually exclusive, but got "
                         f"noncontiguous={noncontiguous} and memory_format={memory_format}")
    exact = dtype.name == "bool" or dtype.name in _UNSIGNED + _SIGNED
    if requires_grad and exact:
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype.name == "bool":
        low, high = _bounds(low, high, dtype, 0, 2, (0, 2))
        result = lamina.randint(low, high, shape, dtype=dtype, device=device)
    elif exact:
        info = lamina.iinfo(dtype)
        low, high = _bounds(low, high, dtype, info.min, info.max + (dtype.name != "int64"), (-9, 10))
        result = lamina.randint(low, high, shape, dtype=dtype, device=device)
    elif dtype.name in _FLOATING:
        info = lamina.finfo(dtype)
        low, high = _bounds(low, high, dtype, info.min, info.max, (-9, 9))
        if dtype.is_complex:
            real = dtype.to_real()
            result = lamina.complex(_uniform(shape, real, device, low, high), _uniform(shape, real, device, low, high))
        else:
            result = _uniform(shape, dtype, device, low, high)
    else:
        raise TypeError(f"The requested dtype '{dtype}' is not supported by lamina.testing.make_tensor().")
    if noncontiguous:
        result = result[..., 1::2]  # offset by one, so that code ignoring the storage offset fails too
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if exact else lamina.finfo(dtype).tiny
    if not exact:
        result.requires_grad_(requires_grad)
    return result
