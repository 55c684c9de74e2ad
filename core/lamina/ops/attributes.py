"""``AttributeMethods``: what a tensor says about itself (device-kind flags, sizes, memory address,
layout) and the small legacy methods programs still call (``new``,
``resize_``, ``apply_``/``map_``, ``sum_to_size``, ``__dlpack__``)."""

from __future__ import annotations

import builtins
import warnings
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
    name = property(lambda self: None, doc="Named tensors are not supported: None.")
    grad_dtype = property(lambda self: self.dtype, doc="The dtype ``.grad`` takes: the tensor's own.")

    @property
    def volatile(self: Tensor) -> builtins.bool:
        warnings.warn("volatile was removed (Variable.volatile is always False)", UserWarning, stacklevel=2)
        return False

    def reinforce(self: Tensor, reward: Any) -> None:
        raise RuntimeError("reinforce() was removed. Use torch.distributions instead (e.g. "
                           "-Categorical(probs).log_prob(action) * reward as the loss).")

    def is_distributed(self: Tensor) -> builtins.bool:
        return False

    def xpu(self: Tensor, device: Any = None, non_blocking: builtins.bool = False, memory_format: Any = None) -> Tensor:
        return self.to(_device_of("xpu", device))

    def ipu(self: Tensor, device: Any = None, non_blocking: builtins.bool = False, memory_format: Any = None) -> Tensor:
        return self.to(_device_of("ipu", device))

    def mtia(self: Tensor, device: Any = None, non_blocking: builtins.bool = False,
             memory_format: Any = None) -> Tensor:
        return self.to(_device_of("mtia", device))

    def pin_memory(self: Tensor, device: Any = None) -> Tensor:
        """A contiguous copy for fast host-to-accelerator moves; NumPy memory cannot be page-locked, so the
        copy is ordinary memory. Without an accelerator, torch's error."""
        from ..backends._device import backend_available

        if not backend_available("cuda")[0]:
            raise RuntimeError("Cannot access accelerator device when none is available.")
        return self.clone()

    def record_stream(self: Tensor, stream: Any) -> None:
        raise RuntimeError("record_stream: lamina has no CUDA stream-ordered allocator; CuPy's pool frees memory "
                           "when the array is released, so there is nothing to record")

    def module_load(self: Tensor, other: Tensor, assign: builtins.bool = False) -> Tensor:
        """How ``load_state_dict`` turns ``other`` into this parameter's new value (copy or assign)."""
        if assign:
            return other.detach()
        with _no_grad():
            return self.copy_(other).detach()

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

    def resize(self: Tensor, *sizes: Any) -> Tensor:
        """Deprecated: a view of the same elements in a new shape (the element count must not change)."""
        warnings.warn("non-inplace resize is deprecated", UserWarning, stacklevel=2)
        shape = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else tuple(sizes)
        n = 1
        for s in shape:
            n *= int(s)
        if n != self.numel():
            raise RuntimeError(f"requested resize to {'x'.join(map(str, shape))} ({n} elements in total), but the "
                               f"given tensor has a size of {'x'.join(map(str, self.shape))} ({self.numel()} "
                               f"elements). autograd's resize can only change the shape of a given tensor, while "
                               f"preserving the number of elements. ")
        return self.reshape(shape)

    def resize_as(self: Tensor, tensor: Tensor) -> Tensor:
        warnings.warn("non-inplace resize_as is deprecated", UserWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.resize(tuple(tensor.shape))

    def set_(self: Tensor, source: Any = None, storage_offset: int = 0, size: Any = None,
             stride: Any = None) -> Tensor:
        """Make this tensor use ``source``'s memory (a Tensor): all of it, or the strided window
        (storage_offset, size, stride) in elements; with no source, an empty tensor."""
        if self.requires_grad and self.is_leaf and _grad_enabled():
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        xp = self._device.backend.xp
        if source is None:
            self._data = xp.empty((0,), dtype=self.array.dtype)
        elif not isinstance(source, Tensor):
            raise TypeError(f"set_: expected a source Tensor, got {type(source).__name__} (lamina has no storage "
                            f"objects to set from)")
        elif size is None:
            self._data = source.array
        else:
            from .strided import as_strided

            self._data = as_strided(source.detach(), size, stride if stride is not None else
                                    _contiguous_strides(size), storage_offset).array
        self._vc.v += 1
        return self

    def as_subclass(self: Tensor, cls: type) -> Tensor:
        """The same tensor (memory and autograd history) as an instance of ``cls``, a Tensor subclass."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f"as_subclass: expected a subclass of Tensor, got {cls!r}")
        out = object.__new__(cls)
        alias = self.view_as(self) if self.requires_grad else self.detach()
        for slot in ("_data", "_device", "_requires_grad", "_grad", "_node", "_output_nr", "_vcs", "_hooks",
                     "_post_hooks", "_retain", "_base"):
            object.__setattr__(out, slot, getattr(alias, slot))
        out._vcs = self._vc
        return out

    def apply_(self: Tensor, callable: Callable[[Any], Any]) -> Tensor:
        """Replace each element by ``callable(element)`` (a Python function; CPU only, slow)."""
        _cpu_only(self, "apply_")
        view = self.array
        for idx in _indices(view.shape):
            view[idx] = callable(view[idx].item())
        self._vc.v += 1
        return self

    def map2_(self: Tensor, x: Tensor, y: Tensor, callable: Callable[[Any, Any, Any], Any]) -> Tensor:
        """self[i] = callable(self[i], x[i], y[i]) with ``x`` and ``y`` broadcast to self (CPU only)."""
        _cpu_only(self, "map2_")
        import numpy  # noqa: PLC0415  (CPU only)

        a, b = numpy.broadcast_to(x.array, self.array.shape), numpy.broadcast_to(y.array, self.array.shape)
        for idx in _indices(self.array.shape):
            self.array[idx] = callable(self.array[idx].item(), a[idx].item(), b[idx].item())
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


def _device_of(kind: str, device: Any) -> str:
    return kind if device is None else (f"{kind}:{device}" if isinstance(device, int) else str(device))


def _contiguous_strides(size: Any) -> tuple[int, ...]:
    out, step = [], 1
    for s in reversed(tuple(size)):
        out.append(step)
        step *= int(s)
    return tuple(reversed(out))


def _no_grad() -> Any:
    from ..autograd import no_grad

    return no_grad()


def _grad_enabled() -> builtins.bool:
    from ..autograd import is_grad_enabled

    return is_grad_enabled()


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


def resize_as_(input: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    return input.resize_as_(the_template)
