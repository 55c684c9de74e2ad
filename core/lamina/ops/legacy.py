"""torch's legacy tensor types: ``lamina.FloatTensor(2, 3)``, ``LongTensor([1, 2])``, ``isinstance(x,
lamina.FloatTensor)``, ``x.type('torch.LongTensor')`` (``autograd.Variable`` is in ``autograd/variable.py``).

Each type is a class whose call builds an ordinary ``Tensor`` of its dtype on the CPU (sizes give an
uninitialised, here zero-filled, tensor; a sequence gives its values cast to the dtype; a tensor of the same
dtype gives a tensor sharing its data) and whose ``isinstance`` check compares the dtype.
"""

from __future__ import annotations

from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from .._tensor.base import Size

_LEGACY = {"DoubleTensor": "float64", "FloatTensor": "float32", "HalfTensor": "float16",
           "BFloat16Tensor": "bfloat16", "ByteTensor": "uint8", "CharTensor": "int8", "ShortTensor": "int16",
           "IntTensor": "int32", "LongTensor": "int64", "BoolTensor": "bool"}


class _LegacyMeta(type):
    dtype: Any

    def __instancecheck__(cls, obj: object) -> bool:
        return (isinstance(obj, Tensor) and obj.dtype is cls.dtype and obj.device.type == "cpu"
                and str(obj.layout).endswith(".strided"))  # a sparse tensor is a torch.sparse.<Type>

    def __call__(cls, *args: Any, device: Any = None) -> Tensor:  # type: ignore[override]
        from .creation import tensor, zeros

        name = cls.__name__
        if device is not None and str(device) != "cpu":
            raise RuntimeError(f"legacy constructor expects device type: cpu but device type: {device} was passed")
        if len(args) == 1 and isinstance(args[0], Tensor):
            t = args[0]
            if t.dtype is not cls.dtype:
                raise TypeError(f"lamina.{name}: expected a {cls.dtype} tensor, got {t.dtype}")
            return t.view_as(t)
        if len(args) == 1 and hasattr(args[0], "__len__") and not isinstance(args[0], (Size, str, bytes)):
            data = tensor(args[0])
            if cls.dtype.kind in "iu" and data.numel() and data.dtype.kind in "fiu":
                info = _dtype.iinfo(cls.dtype)
                if float(data.min()) < info.min or float(data.max()) > info.max:
                    raise RuntimeError(f"value cannot be converted to type {cls.dtype.name} without overflow")
            return data.to(cls.dtype)  # values cast as torch does (LongTensor([1.7]) -> [1])
        sizes = tuple(args[0]) if len(args) == 1 and isinstance(args[0], Size) else args
        for i, s in enumerate(sizes):
            if not isinstance(s, int) or isinstance(s, bool):
                raise TypeError(f"new(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                                f"\"type must be tuple of ints,but got {type(s).__name__}\"")
        return zeros(*sizes, dtype=cls.dtype) if sizes else zeros(0, dtype=cls.dtype)


def _make(name: str, dtype_name: str) -> type:
    cls = _LegacyMeta(name, (), {"__doc__": f"torch.{name}: a CPU {dtype_name} tensor (legacy constructor and "
                                            "isinstance check)", "__module__": "lamina"})
    cls.dtype = getattr(_dtype, "bool_" if dtype_name == "bool" else dtype_name)
    return cls


LEGACY_TYPES: dict[str, type] = {name: _make(name, d) for name, d in _LEGACY.items()}


def legacy_dtype(spec: Any) -> Any:
    """The dtype a ``Tensor.type(spec)`` argument names: a legacy class, ``'torch.FloatTensor'``,
    ``'lamina.FloatTensor'`` or ``'FloatTensor'``; None when ``spec`` is none of those."""
    if isinstance(spec, _LegacyMeta):
        return spec.dtype
    if isinstance(spec, str):
        name = spec.rsplit(".", 1)[-1]
        if name in LEGACY_TYPES and spec.split(".")[0] in ("torch", "lamina", name):
            return LEGACY_TYPES[name].dtype
        raise ValueError(f"invalid type: '{spec}'")
    return None
