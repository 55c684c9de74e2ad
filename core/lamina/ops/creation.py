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
from ..backends import random as _random


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
            arr = arr.astype(_dtype.get_default_dtype().np)
        elif arr.dtype.kind in "iu" and not isinstance(data, (np.ndarray, np.generic)):
            arr = arr.astype(np.int64)
        elif arr.dtype.kind == "c" and not isinstance(data, (np.ndarray, np.generic)):
            arr = arr.astype(np.complex64 if _dtype.get_default_dtype() is _dtype.float32 else np.complex128)
        elif arr.dtype.kind not in "biufc":
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


class layout:  # noqa: N801 - torch's name
    """A tensor memory layout; lamina stores every tensor ``strided`` (dense)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"lamina.{self.name}"


strided = layout("strided")


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


def arange(start, end=None, step=1, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
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
    return _finish(arr, dev, requires_grad)


def linspace(start, end, steps: int, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dev = _dev(device)
    xp = dev.backend.xp
    with dev.backend.device_scope(dev.index):
        arr = xp.linspace(float(start), float(end), int(steps))
        arr = arr.astype(_dtype.to_np(dtype or _dtype.get_default_dtype()))
    return _finish(arr, dev, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    dev = _dev(device)
    xp = dev.backend.xp
    arr = (base ** xp.linspace(float(start), float(end), int(steps))).astype(
        _dtype.to_np(dtype or _dtype.get_default_dtype()))
    return _finish(arr, dev, requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dev = _dev(device)
    arr = dev.backend.xp.eye(n, n if m is None else m, dtype=_dtype.to_np(dtype or _dtype.get_default_dtype()))
    return _finish(arr, dev, requires_grad)


# --- random ---------------------------------------------------------------------------------------

def _float_dtype(dtype):
    d = _dtype.to_np(dtype or _dtype.get_default_dtype())
    if d.kind != "f":
        raise TypeError(f"expected a floating point dtype, got {dtype!r}")
    return d


def rand(*size, generator=None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    dev = _dev(device)
    d = _float_dtype(dtype)
    g = _random.impl_for(generator, dev)
    with dev.backend.device_scope(dev.index):
        arr = g.random(_size(size), dtype=np.float64 if d == np.float16 else d).astype(d, copy=False)
    return _finish(arr, dev, requires_grad)


def randn(*size, generator=None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples (complex dtypes: real and imaginary parts each N(0, 1/2), as PyTorch)."""
    dev = _dev(device)
    if dtype is not None and _dtype.to_np(dtype).kind == "c":
        cd = _dtype._FROM_NP[_dtype.to_np(dtype)]
        parts = randn(*_size(size), 2, generator=generator, dtype=cd.to_real(), device=dev)._data
        parts *= parts.dtype.type(0.5 ** 0.5)
        return _finish(parts.view(cd.np)[..., 0], dev, requires_grad)
    d = _float_dtype(dtype)
    g = _random.impl_for(generator, dev)
    with dev.backend.device_scope(dev.index):
        arr = g.standard_normal(_size(size), dtype=np.float64 if d == np.float16 else d).astype(d, copy=False)
    return _finish(arr, dev, requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high)."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low=0, high, size) with size a tuple")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    dev = _dev(device)
    g = _random.impl_for(generator, dev)
    with dev.backend.device_scope(dev.index):
        arr = g.integers(low, high, size=_size((size,)), dtype=np.int64)
        if dtype is not None:
            arr = arr.astype(_dtype.to_np(dtype))
    return _finish(arr, dev, requires_grad)


def randperm(n: int, *, generator=None, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    dev = _dev(device)
    g = _random.impl_for(generator, dev)
    with dev.backend.device_scope(dev.index):
        arr = g.permutation(int(n)).astype(_dtype.to_np(dtype or _dtype.int64))
    return _finish(arr, dev, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, device=device or input.device, requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, *, dtype: Any = None, device: Any = None) -> Tensor:
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype: Any = None, device: Any = None) -> Tensor:
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or floats with ``size``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))
        z = randn(*shape, generator=generator, dtype=like.dtype, device=like.device)
        return (z * std + mean).detach()
    if size is None:
        raise TypeError("normal: expected size when mean and std are numbers")
    return (randn(*_size((size,)), generator=generator, dtype=dtype, device=device) * std + mean).detach()


def bernoulli(input: Tensor, p: float | None = None, *, generator=None) -> Tensor:
    """Samples 1 with probability ``input`` (or ``p``), else 0; same dtype as input."""
    dev = input.device
    g = _random.impl_for(generator, dev)
    u = g.random(input._data.shape)
    prob = input._data if p is None else p
    return Tensor._make((u < prob).astype(input._data.dtype), dev)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Draw category indices from rows of (unnormalised) probabilities. input: (C,) or (N, C)."""
    dev = input.device
    xp = dev.backend.xp
    g = _random.impl_for(generator, dev)
    p = input._data.astype(np.float64)
    rows = p.reshape(-1, p.shape[-1])
    n_cat = rows.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) ({n_cat}) "
                           "samples without replacement")
    if bool((rows < 0).any()) or not bool(xp.isfinite(rows).all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if bool((rows.sum(axis=-1) <= 0).any()):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:  # inverse CDF: count the categories whose cumulative probability is <= u
        cdf = xp.cumsum(rows, axis=-1)
        cdf = cdf / cdf[:, -1:]
        u = g.random((rows.shape[0], num_samples))
        out = xp.minimum((u[:, :, None] >= cdf[:, None, :]).sum(axis=-1), n_cat - 1)
    else:  # Efraimidis-Spirakis: the k largest log(u) / p, zero-probability categories last
        u = g.random(rows.shape)
        positive = rows > 0
        if num_samples > int(positive.sum(axis=-1).min()):
            raise RuntimeError("multinomial: invalid multinomial distribution (with replacement=False, not enough "
                               "non-negative category to sample)")
        keys = xp.where(positive, xp.log1p(-u) / xp.where(positive, rows, 1.0), -xp.inf)
        out = xp.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    out = out.astype(np.int64).reshape(p.shape[:-1] + (num_samples,))
    return Tensor._make(out, dev)


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
