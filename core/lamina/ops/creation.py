"""Tensor factories: ``tensor``, ``zeros``, ``arange``, ``randn``, ... (PyTorch's signatures)."""

from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .._base import dtype as _dtype
from .._base.errors import OutOfMemoryError
from .._tensor import Tensor
from ..backends import device as _device
from ..backends import get_default_device


def _dev(device: Any):
    return (get_default_device() if device is None else _device(device)).concrete()


def _size(size: tuple) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"size: expected a sequence of ints, got element {s!r} of type {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"size: trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _finish(arr, dev, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr, dev)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_host(data: Any, dtype: Any) -> np.ndarray:
    """Turn Python data (nested lists, scalars, NumPy arrays, tensors) into a host array."""
    if isinstance(data, Tensor):
        return np.asarray(data._device.backend.to_host(data._data))
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat_first(data)):
        data = _tensors_to_host(data)
    arr = np.asarray(data)
    if dtype is None:
        if arr.dtype.kind == "f" and not isinstance(data, np.ndarray) and not isinstance(data, np.generic):
            arr = arr.astype(_dtype.to_np(_dtype.get_default_dtype()))
        elif arr.dtype.kind in "iu" and not isinstance(data, (np.ndarray, np.generic)):
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "c" and not isinstance(data, (np.ndarray, np.generic)):
            arr = arr.astype(np.complex64 if _dtype.get_default_dtype() is _dtype.float32 else np.complex128)
        elif _dtype.kind_of(arr.dtype) not in "biufc":
            raise TypeError(f"tensor: could not infer a numeric dtype from data of type {type(data).__name__} "
                            f"(NumPy gave {arr.dtype})")
    return arr


def _flat_first(data):
    while isinstance(data, (list, tuple)) and data:
        yield from (x for x in data if isinstance(x, Tensor))
        data = data[0]


def _tensors_to_host(data):
    if isinstance(data, Tensor):
        return data._device.backend.to_host(data._data)
    if isinstance(data, (list, tuple)):
        return [_tensors_to_host(x) for x in data]
    return data


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, NumPy arrays, tensors)."""
    dev = _dev(device if device is not None else (data.device if isinstance(data, Tensor) else None))
    host = _infer_host(data, dtype)
    if dtype is not None:
        host = host.astype(_dtype.to_np(dtype), copy=False)
    arr = dev.backend.from_host(np.array(host, copy=True), dev.index)
    return _finish(arr, dev, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when dtype and device allow."""
    if isinstance(data, Tensor):
        t = data
        if dtype is not None and t.dtype is not _dtype._FROM_NP[_dtype.to_np(dtype)]:
            t = t.to(dtype)
        if device is not None and t.device != _device(device):
            t = t.to(device)
        return t
    dev = _dev(device)
    host = _infer_host(data, dtype)
    if dtype is not None:
        host = host.astype(_dtype.to_np(dtype), copy=False)
    return Tensor._make(dev.backend.from_host(host, dev.index), dev)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with ``ndarray``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(ndarray).__name__}")
    _dtype.from_numpy_dtype(ndarray.dtype)
    dev = _device("cpu")
    return Tensor._make(dev.backend.from_host(ndarray, dev.index), dev)


def _check_layout(name: str, lay: Any, memory_format: Any = None) -> None:
    if lay is not None and getattr(lay, "name", None) != "strided" and not str(lay).endswith("strided"):
        raise NotImplementedError(f"{name}: only layout=strided is supported, got {lay!r}")
    if memory_format is not None and not str(memory_format).endswith(("contiguous_format", "preserve_format")):
        raise NotImplementedError(f"{name}: only memory_format=contiguous_format is supported, got {memory_format!r}")


def _shape_of(name: str, args: tuple, size: Any) -> tuple[int, ...]:
    """torch's ``*size`` forms: ints as varargs, one tuple/list/Size, or ``size=``."""
    if size is not None:
        if args:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        args = (size,)
    if not args:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(args) > 1 and any(isinstance(a, (tuple, list)) for a in args):
        raise TypeError(f"{name}() takes 1 positional argument but {len(args)} were given")
    return _size(args)


def write_out(out: Tensor | None, result: Tensor, name: str = "out") -> Tensor:
    """torch's ``out=``: ``result`` written into ``out`` (resized when its shape differs), ``out`` returned."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if out._data.dtype != result._data.dtype:
        raise RuntimeError(f"{name}: Expected out tensor to have dtype {result.dtype}, but got {out.dtype} instead")
    if out._data.shape != result._data.shape:
        out._data = result._data.copy()
    else:
        out._data[...] = result._data
    out._vc.v += 1
    return out


def _fill(kind: str, size, fill_value, dtype, device, requires_grad, out=None) -> Tensor:
    if out is not None:
        dtype = out.dtype if dtype is None else dtype
        device = out.device if device is None else device
    dev = _dev(device)
    xp = dev.backend.xp
    shape = _size(size)
    if dtype is None:
        if kind == "full":
            if isinstance(fill_value, bool):
                dtype = _dtype.bool_
            elif isinstance(fill_value, int):
                dtype = _dtype.int64
            elif isinstance(fill_value, complex):
                dtype = _dtype.complex64 if _dtype.get_default_dtype() is _dtype.float32 else _dtype.complex128
            else:
                dtype = _dtype.get_default_dtype()
        else:
            dtype = _dtype.get_default_dtype()
    npd = _dtype.to_np(dtype)
    try:
        with dev.backend.device_scope(dev.index):
            if kind == "zeros":
                arr = xp.zeros(shape, dtype=npd)
            elif kind == "ones":
                arr = xp.ones(shape, dtype=npd)
            elif kind == "empty":
                arr = xp.empty(shape, dtype=npd)
            else:
                arr = xp.full(shape, fill_value, dtype=npd)
    except MemoryError as e:
        nbytes = math.prod(shape) * npd.itemsize
        raise OutOfMemoryError(f"{kind}: could not allocate {nbytes} bytes for a tensor of shape {list(shape)} "
                               f"({npd}) on {dev}: {e}") from e
    return write_out(out, _finish(arr, dev, requires_grad), kind)


def zeros(*size_args: Any, size: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    _check_layout("zeros", layout)
    return _fill("zeros", _shape_of("zeros", size_args, size), None, dtype, device, requires_grad, out)


def ones(*size_args: Any, size: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    _check_layout("ones", layout)
    return _fill("ones", _shape_of("ones", size_args, size), None, dtype, device, requires_grad, out)


def empty(*size_args: Any, size: Any = None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
          device: Any = None, requires_grad: bool = False, pin_memory: bool = False,
          memory_format: Any = None) -> Tensor:
    _check_layout("empty", layout, memory_format)
    return _fill("empty", _shape_of("empty", size_args, size), None, dtype, device, requires_grad, out)


def full(size: Any, fill_value: Any, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
         device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    _check_layout("full", layout)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _fill("full", _shape_of("full", (size,), None), fill_value, dtype, device, requires_grad, out)


def _like(kind: str, input: Tensor, fill_value=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _fill(kind, input._data.shape, fill_value, dtype or input.dtype, device or input.device, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False) -> Tensor:
    _check_layout("zeros_like", layout, memory_format)
    return _like("zeros", input, None, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False) -> Tensor:
    _check_layout("ones_like", layout, memory_format)
    return _like("ones", input, None, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False) -> Tensor:
    _check_layout("empty_like", layout, memory_format)
    return _like("empty", input, None, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False) -> Tensor:
    _check_layout("full_like", layout, memory_format)
    return _like("full", input, fill_value, dtype, device, requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A 0-d tensor holding ``s`` (default float dtype unless ``dtype``)."""
    _check_layout("scalar_tensor", layout)
    return full((), s.item() if isinstance(s, Tensor) else s, dtype=dtype or _dtype.get_default_dtype(),
                device=device, requires_grad=requires_grad)


def range(start: Any = 0, end: Any = None, step: Any = 1, *, out: Tensor | None = None,  # noqa: A001
          dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Deprecated: values from ``start`` to ``end`` inclusive by ``step`` (default float dtype)."""
    import warnings

    warnings.warn("torch.range is deprecated and will be removed in a future release because its behavior is "
                  "inconsistent with Python's range builtin. Instead, use torch.arange, which produces values in "
                  "[start, end).", UserWarning, stacklevel=2)
    _check_layout("range", layout)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("range: step must be nonzero")
    n = builtins.max(0, math.floor((end - start) / step) + 1)
    dev = _dev(device)
    arr = (dev.backend.xp.arange(n, dtype=np.float64) * step + start).astype(
        _dtype.to_np(dtype or (out.dtype if out is not None else _dtype.get_default_dtype())))
    return write_out(out, _finish(arr, dev, requires_grad), "range")


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """``obj`` as a tensor, sharing memory with a tensor or array when dtype and device allow
    (``copy=True`` always copies, ``copy=False`` raises where a copy is needed)."""
    if isinstance(obj, Tensor):
        t = obj.to(dtype) if dtype is not None else obj
        t = t.to(device) if device is not None else t
        if copy and t is obj:
            t = obj.clone()
    else:
        t = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and not (isinstance(obj, np.ndarray) and np.shares_memory(obj, t._data)):
            raise ValueError("asarray: can't alias the object without a copy (copy=False was given)")
        if copy:
            t = t.clone()
    if copy is False and isinstance(obj, Tensor) and t is not obj:
        raise ValueError("asarray: can't alias the tensor without a copy (copy=False was given)")
    return t.requires_grad_(True) if requires_grad else t


def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0, requires_grad: bool = False) -> Tensor:
    """A 1-D CPU tensor sharing the memory of an object with the buffer protocol."""
    nbytes = memoryview(buffer).nbytes
    item = _dtype.to_np(dtype).itemsize
    if offset < 0 or offset >= nbytes and nbytes:
        raise ValueError(f"frombuffer: offset ({offset} bytes) must be non-negative and no greater than buffer "
                         f"length ({nbytes} bytes) minus 1.")
    if count == 0 or count < -1 or (count == -1 and (nbytes - offset) % item):
        raise ValueError(f"frombuffer: buffer length ({nbytes - offset} bytes after offset) must be a multiple of "
                         f"element size ({item}) and count ({count}) positive or -1")
    arr = np.frombuffer(buffer, dtype=_dtype.to_np(dtype), count=count, offset=offset)
    return _finish(arr, _dev("cpu"), requires_grad)


def from_file(filename: str, shared: bool | None = None, size: int = 0, *, dtype: Any = None, layout: Any = None,
              device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """``size`` elements read from a binary file; ``shared=True`` maps it, so writes reach the file."""
    _check_layout("from_file", layout)
    d = _dtype.to_np(dtype or _dtype.get_default_dtype())
    if shared:
        arr = np.memmap(filename, dtype=d, mode="r+", shape=(size,))
    else:
        arr = np.fromfile(filename, dtype=d, count=size)
        if arr.size < size:
            raise RuntimeError(f"from_file: trying to read {size * d.itemsize} bytes from {filename}, which holds "
                               f"{arr.nbytes}")
    t = _finish(np.asarray(arr) if not shared else arr, _dev("cpu"), requires_grad)
    return t if device is None else t.to(device)


def arange(start, end=None, step=1, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
           device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive) by ``step``; integer args give int64."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, (int, np.integer)) for v in vals) else _dtype.get_default_dtype()
    dev = _dev(device)
    n = builtins.max(0, math.ceil((end - start) / step))
    xp = dev.backend.xp
    with dev.backend.device_scope(dev.index):
        arr = (xp.arange(n, dtype=np.float64) * step + start).astype(_dtype.to_np(dtype))
    _check_layout("arange", layout)
    return write_out(out, _finish(arr, dev, requires_grad), "arange")


def linspace(start, end, steps: int, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    _check_layout("linspace", layout)
    dev = _dev(device)
    xp = dev.backend.xp
    with dev.backend.device_scope(dev.index):
        arr = xp.linspace(float(start), float(end), int(steps))
        arr = arr.astype(_dtype.to_np(dtype or _dtype.get_default_dtype()))
    return write_out(out, _finish(arr, dev, requires_grad), "linspace")


def logspace(start, end, steps: int, base: float = 10.0, *, out: Tensor | None = None, dtype: Any = None,
             layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    _check_layout("logspace", layout)
    dev = _dev(device)
    xp = dev.backend.xp
    arr = (base ** xp.linspace(float(start), float(end), int(steps))).astype(
        _dtype.to_np(dtype or _dtype.get_default_dtype()))
    return write_out(out, _finish(arr, dev, requires_grad), "logspace")


def eye(n: int, m: int | None = None, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
        device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    _check_layout("eye", layout)
    dev = _dev(device)
    arr = dev.backend.xp.eye(n, n if m is None else m, dtype=_dtype.to_np(dtype or _dtype.get_default_dtype()))
    return write_out(out, _finish(arr, dev, requires_grad), "eye")


class CreationMethods:
    """``new_*`` factories: a new tensor with this one's dtype and device unless told otherwise."""

    __slots__ = ()

    def new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False) -> Tensor:
        return tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_zeros(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return zeros(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_ones(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return ones(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_empty(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
        return empty(*size, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)

    def new_full(self: Tensor, size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        return full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                    requires_grad=requires_grad)
