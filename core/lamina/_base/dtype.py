"""dtypes: thin named wrappers over NumPy dtypes, printed like PyTorch's (``lamina.float32``)."""

from __future__ import annotations

import builtins

import numpy as np


class dtype:  # noqa: N801  (mirrors torch.dtype)
    """A tensor element type. ``lamina.float32.np`` is the NumPy dtype behind it."""

    __slots__ = ("name", "np", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype: np.dtype) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_complex = self.np.kind == "c"
        self.is_signed = self.np.kind in "fic"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"lamina.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


def _by_name(name: str) -> dtype:
    return _NAMES[name]


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)

half, float, double = float16, float32, float64  # noqa: A001  (torch aliases)
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble = complex64, complex128

ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool_)
_NAMES = {d.name: d for d in ALL}
_FROM_NP = {d.np: d for d in ALL}

_default_float = [float32]


def from_numpy_dtype(np_dtype) -> dtype:
    """The lamina dtype for a NumPy dtype; raises TypeError for unsupported ones."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"lamina: unsupported dtype {np_dtype!r}; supported: {sorted(_NAMES)}") from None


def to_np(d) -> np.dtype:
    """Accept a lamina dtype, a NumPy dtype/type or a Python type; return the NumPy dtype."""
    if type(d) is dtype:
        return d.np
    if d is builtins.bool:
        return np.dtype(np.bool_)
    if d is builtins.float:
        return _default_float[0].np
    if d is builtins.int:
        return np.dtype(np.int64)
    if isinstance(d, str):
        if d in _NAMES:
            return _NAMES[d].np
    return from_numpy_dtype(d).np


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created from Python floats (``float32`` unless changed)."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (``float32``, ``float64`` or ``float16``)."""
    if type(d) is not dtype or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: expected a floating lamina dtype, got {d!r}")
    _default_float[0] = d
