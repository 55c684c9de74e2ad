"""torch.sparse's legacy tensor types: ``torch.sparse.FloatTensor(indices, values, size)`` (as old GCN code
builds its adjacency), ``torch.sparse.FloatTensor(*sizes)`` (an empty sparse tensor), and ``isinstance(x,
torch.sparse.FloatTensor)`` (a sparse COO tensor of that dtype on the CPU).

As torch, the (indices, values) forms keep the values' dtype, and each form warns once that it is deprecated.
"""

from __future__ import annotations

import warnings
from typing import Any

import lamina
from lamina import Tensor

_LEGACY = {"DoubleTensor": "float64", "FloatTensor": "float32", "HalfTensor": "float16",
           "BFloat16Tensor": "bfloat16", "ByteTensor": "uint8", "CharTensor": "int8", "ShortTensor": "int16",
           "IntTensor": "int32", "LongTensor": "int64"}
_FORMS = (" * (*, torch.device device = None)\n"
          " * (Tensor indices, Tensor values, *, torch.device device = None)\n"
          " * (Tensor indices, Tensor values, tuple of ints size, *, torch.device device = None)\n"
          " * (tuple of ints size, *, torch.device device = None)\n")


def _bad_call(args: tuple) -> TypeError:
    got = ", ".join(type(a).__name__ if not isinstance(a, Tensor) else "Tensor" for a in args)
    return TypeError(f"new() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                     + _FORMS)


_WARNED: set[str] = set()


def _deprecated(form: str, instead: str) -> None:
    """torch warns once per process and constructor form."""
    if form in _WARNED:
        return
    _WARNED.add(form)
    warnings.warn(f"torch.sparse.SparseTensor({form}) is deprecated.  Please use torch.sparse_coo_tensor({instead}).",
                  UserWarning, stacklevel=3)


def _sizes(args: tuple) -> tuple[int, ...] | None:
    if len(args) == 1 and isinstance(args[0], (tuple, list, lamina.Size)):
        args = tuple(args[0])
    if all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return tuple(args)
    return None


class _SparseLegacyMeta(type):
    dtype: Any

    def __instancecheck__(cls, obj: object) -> bool:
        return (isinstance(obj, Tensor) and str(obj.layout).endswith("sparse_coo") and obj.dtype is cls.dtype
                and obj.device.type == "cpu")

    def __call__(cls, *args: Any, device: Any = None) -> Any:  # type: ignore[override]
        from .creation import sparse_coo_tensor

        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device} was passed")
        if len(args) in (2, 3) and all(isinstance(a, Tensor) for a in args[:2]):
            size = _sizes(args[2:3]) if len(args) == 3 else None
            if len(args) == 3 and size is None:
                raise _bad_call(args)
            shape = "shape, " if len(args) == 3 else ""
            _deprecated(f"indices, values, {shape}*, device=", f"indices, values, {shape}dtype=, device=")
            return sparse_coo_tensor(args[0], args[1], size)
        size = _sizes(args) if args else (0,)
        if size is None or any(isinstance(a, Tensor) for a in args):
            raise _bad_call(args)
        if args:
            _deprecated("shape, *, device=", "shape, dtype=, device=")
        else:
            _deprecated("", "(0,), dtype=")
        return sparse_coo_tensor(lamina.zeros(len(size), 0, dtype=lamina.int64),
                                 lamina.zeros(0, dtype=cls.dtype), size)


def _make(name: str, dtype_name: str) -> type:
    cls = _SparseLegacyMeta(name, (), {"__doc__": f"torch.sparse.{name}: a CPU sparse COO {dtype_name} tensor "
                                                  "(legacy constructor and isinstance check)",
                                       "__module__": "lamina.sparse"})
    cls.dtype = getattr(lamina, dtype_name)
    return cls


LEGACY_TYPES: dict[str, type] = {name: _make(name, d) for name, d in _LEGACY.items()}
BFloat16Tensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor = (
    LEGACY_TYPES[n] for n in ("BFloat16Tensor", "ByteTensor", "CharTensor", "DoubleTensor", "FloatTensor",
                              "HalfTensor", "IntTensor", "LongTensor", "ShortTensor"))


def sparse_type_name(t: Tensor) -> str:
    """``x.type()`` of a sparse COO tensor: ``lamina.sparse.FloatTensor`` & co. (the dense form's prefix)."""
    name = next((n for n, d in _LEGACY.items() if d == t.dtype.name), "Tensor")
    return f"lamina.sparse.{name}"
