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


def _fill(kind: str, size, fill_value, dtype, device, requires_grad) -> Tensor:
    dev = _dev(device)
    xp = dev.backend.xp
    shape = _size(size)
    if dtype is None:
        if kind == "full":
            if isinstance(fill_value, bool):
                dtype = _dtype.bool_
            elif isinstance(fill_value, int):
                dtype = _dtype.int64
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
    return _finish(arr, dev, requires_grad)


def zeros(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False, out=None) -> Tensor:
    return _fill("zeros", size, None, dtype, device, requires_grad)


def ones(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False, out=None) -> Tensor:
    return _fill("ones", size, None, dtype, device, requires_grad)


def empty(*size, dtype: Any = None, device: Any = None, requires_grad: bool = False, **_ignored) -> Tensor:
    return _fill("empty", size, None, dtype, device, requires_grad)


def full(size, fill_value, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _fill("full", (size,) if isinstance(size, int) else tuple(size), fill_value, dtype, device, requires_grad)


def _like(kind: str, input: Tensor, fill_value=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _fill(kind, input._data.shape, fill_value, dtype or input.dtype, device or input.device, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like("zeros", input, None, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like("ones", input, None, dtype, device, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return _like("empty", input, None, dtype, device, requires_grad)


def full_like(input: Tensor, fill_value, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
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
    """Standard normal samples."""
    dev = _dev(device)
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
