"""``AttributeMethods``: what a tensor says about itself (device-kind flags, sizes, memory address,
layout) and the small legacy methods programs still call (``new``,
``resize_``, ``apply_``/``map_``, ``sum_to_size``, ``__dlpack__``)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from .._base.layout import layout as _layout
from .._base.layout import strided
from .._tensor import Tensor


def _flag(value: builtins.bool) -> property:
    return property(lambda self: value, doc=f"Always {value}: lamina has no such device kind or tensor kind.")


class AttributeMethods:
    """Mixed into ``Tensor``."""

    __slots__ = ()

    is_cpu = property(lambda self: self.device.type == "cpu", doc="Whether the tensor is on the CPU.")
    is_meta = _flag(False)
    is_mps = _flag(False)
    is_xpu = _flag(False)
    is_ipu = _flag(False)
    is_xla = _flag(False)
    is_mtia = _flag(False)
    is_maia = _flag(False)
    is_vulkan = _flag(False)
    is_nested = _flag(False)
    is_quantized = _flag(False)
    is_sparse = _flag(False)
    is_sparse_csr = _flag(False)
    layout: _layout = property(lambda self: strided, doc="lamina.strided: dense tensors.")  # type: ignore
    names = property(lambda self: (None,) * self.ndim, doc="Named tensors are not supported: all None.")

    @property
    def itemsize(self: Tensor) -> int:
        return int(self.array.itemsize)

    @property
    def nbytes(self: Tensor) -> int:
        return int(self.array.nbytes)

    @property
    def output_nr(self: Tensor) -> int:
        """Which output of its grad_fn this tensor is (0 for leaves)."""
        return max(self._output_nr, 0)

    def data_ptr(self: Tensor) -> int:
        """The address of the tensor's first element."""
        a = self.array
        iface = getattr(a, "__array_interface__", None)
        return int(iface["data"][0]) if iface is not None else int(a.data.ptr)

    const_data_ptr = data_ptr

    def get_device(self: Tensor) -> int:
        """-1 on the CPU, else the device index."""
        return -1 if self.device.type == "cpu" else int(self.device.index or 0)

    def dim_order(self: Tensor) -> tuple[int, ...]:
        """Dims from outermost to innermost in memory (by decreasing stride)."""
        st = self.stride()
        return tuple(sorted(range(self.ndim), key=lambda d: -st[d]))

    def is_pinned(self: Tensor) -> builtins.bool:
        return False

    def is_shared(self: Tensor) -> builtins.bool:
        return False

    def is_inference(self: Tensor) -> builtins.bool:
        """lamina has no inference tensors (inference_mode acts as no_grad)."""
        return False

    def is_set_to(self: Tensor, tensor: Tensor) -> builtins.bool:
        """Same memory, size and strides."""
        return (self.data_ptr() == tensor.data_ptr() and tuple(self.shape) == tuple(tensor.shape)
                and self.stride() == tensor.stride() and self.device == tensor.device)

    def is_signed(self: Tensor) -> builtins.bool:
        return self.dtype.is_signed

    def is_nonzero(self: Tensor) -> builtins.bool:
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous" if self.numel()
                               else "Boolean value of Tensor with no values is ambiguous")
        return builtins.bool(self.item())

    def is_same_size(self: Tensor, other: Tensor) -> builtins.bool:
        return tuple(self.shape) == tuple(other.shape)

    def new(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        """Legacy constructor with the tensor's dtype and device: ``x.new(2, 3)`` (uninitialised),
        ``x.new([1, 2])`` (from data), ``x.new()`` (empty)."""
        from .creation import empty, tensor

        device, dtype = kwargs.pop("device", self.device), kwargs.pop("dtype", self.dtype)
        if kwargs:
            raise TypeError(f"new() got unexpected keyword arguments {sorted(kwargs)}")
        if len(args) == 1 and not isinstance(args[0], int):
            return tensor(args[0], dtype=dtype, device=device)
        return empty(*(args or (0,)), dtype=dtype, device=device)

    def resize_(self: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
        """Give the tensor the shape ``sizes`` in place: a view when the element count is unchanged, else
        new memory holding the old elements first (the rest uninitialised, as torch's)."""
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
        if self.requires_grad:
            raise RuntimeError("cannot resize variables that require grad")
        xp = self._device.backend.xp
        old = self.array
        n = 1
        for s in shape:
            n *= int(s)
        if n == old.size and old.flags.c_contiguous:
            self._data = old.reshape(shape)
        else:
            flat = old.reshape(-1) if old.flags.c_contiguous else old.copy().reshape(-1)
            new = xp.empty(n, dtype=old.dtype)
            k = min(n, flat.size)
            new[:k] = flat[:k]
            self._data = new.reshape(shape)
        self._vc.v += 1
        return self

    def resize_as_(self: Tensor, the_template: Tensor, memory_format: Any = None) -> Tensor:
        return self.resize_(tuple(the_template.shape))

    def apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:
        """Replace each element by ``callable(element)`` (a Python function; CPU only, slow)."""
        _cpu_only(self, "apply_")
        view = self.array
        for idx in _indices(view.shape):
            view[idx] = callable(view[idx].item())
        self._vc.v += 1
        return self

    def map_(self: Tensor, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:
        """self[i] = callable(self[i], tensor[i]) with ``tensor`` broadcast to self (CPU only)."""
        _cpu_only(self, "map_")
        import numpy  # noqa: PLC0415  (CPU only)

        other = numpy.broadcast_to(tensor.array, self.array.shape)
        for idx in _indices(self.array.shape):
            self.array[idx] = callable(self.array[idx].item(), other[idx].item())
        self._vc.v += 1
        return self

    def sum_to_size(self: Tensor, *size: Any) -> Tensor:
        """Sum over the dims broadcasting expanded to reach ``self``'s shape from ``size``."""
        shape = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)
        lead = self.ndim - len(shape)
        if lead < 0 or any(s not in (1, self.shape[lead + i]) for i, s in enumerate(shape)):
            raise RuntimeError(f"size {list(shape)} is not expandable to size {list(self.shape)}.")
        dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and self.shape[lead + i] != 1)
        out = self.sum(dims, keepdim=True) if dims else self
        return out.reshape(shape)

    def __dlpack__(self: Tensor, stream: Any = None, **kwargs: Any) -> Any:
        if self.requires_grad:
            raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
        return self.array.__dlpack__(**({"stream": stream} if stream is not None else {}))

    def __dlpack_device__(self: Tensor) -> tuple[int, int]:
        return self.array.__dlpack_device__()


def _cpu_only(t: Tensor, name: str) -> None:
    if t.device.type != "cpu":
        raise TypeError(f"{name}() is only implemented on CPU tensors, got a tensor on {t.device}")


def _indices(shape: tuple) -> Any:
    import itertools  # noqa: PLC0415

    return itertools.product(*(range(s) for s in shape))


def is_nonzero(input: Tensor) -> builtins.bool:
    return input.is_nonzero()


def is_same_size(input: Tensor, other: Tensor) -> builtins.bool:
    return input.is_same_size(other)


def is_signed(input: Tensor) -> builtins.bool:
    return input.is_signed()


def is_inference(input: Tensor) -> builtins.bool:
    return input.is_inference()


def is_distributed(input: Tensor) -> builtins.bool:
    """No tensor is a distributed one (torch's name for a THD tensor)."""
    return False


def get_device(input: Tensor) -> int:
    return input.get_device()


def detach(input: Tensor) -> Tensor:
    return input.detach()


def detach_(input: Tensor) -> Tensor:
    return input.detach_()


def fill(input: Tensor, value: Any) -> Tensor:
    """A new tensor of ``input``'s shape, dtype and device filled with ``value`` (differentiable in value)."""
    return input.new_full(tuple(input.shape), value) if not isinstance(value, Tensor) else \
        value.to(input.dtype).expand(tuple(input.shape)).clone()


def fill_(input: Tensor, value: Any) -> Tensor:
    return input.fill_(value)


def zero_(input: Tensor) -> Tensor:
    return input.zero_()
