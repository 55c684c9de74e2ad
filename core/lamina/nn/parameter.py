"""``Parameter``: a Tensor that a Module registers as learnable; ``Buffer``: one it registers as state.

A Parameter shares storage (and version counter) with the tensor it wraps, as in PyTorch, and
stays a Parameter through ``copy.deepcopy`` and pickle. Ops on it return plain Tensors.
"""

from __future__ import annotations

from typing import Any

from .._tensor import _init_from
from ..backends import device as _device_cls
from ..ops.tensor import Tensor


def _wrap(cls: type, data: Tensor | None) -> Tensor:
    if data is None:
        from ..ops.creation import empty

        data = empty(0)
    elif not isinstance(data, Tensor):
        raise TypeError(f"{cls.__name__}: expected a Tensor as data, got {type(data).__name__}")
    t = object.__new__(cls)
    _init_from(t, data._data, data._device)
    t._vc = data._vc  # an alias of data's storage, like PyTorch's _make_subclass
    return t


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it as a Module attribute registers it.

    ``Parameter(data=None, requires_grad=True)`` shares ``data``'s storage; ``Parameter()`` is empty.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        t = _wrap(cls, data)
        if requires_grad:
            t.requires_grad_(True)  # validates the dtype (floating or complex only)
        return t

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = type(self).__new__(type(self), Tensor._make(self._data.copy(), self._device), self._requires_grad)
        memo[id(self)] = result
        if self._grad is not None:
            result._grad = self._grad.__deepcopy__(memo)
        if self.__dict__:
            import copy

            result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __reduce_ex__(self, protocol: int):
        host = self._device.backend.to_host(self._data)
        return (_rebuild_parameter, (type(self), host, str(self._device), self._requires_grad, dict(self.__dict__)))


def _rebuild_parameter(cls: type, host: Any, dev: str, requires_grad: bool, state: dict) -> Parameter:
    d = _device_cls(dev)
    data = Tensor._make(d.backend.from_host(host.copy(), d.index), d)
    p = cls.__new__(cls, data, requires_grad)
    p.__dict__.update(state)
    return p


class Buffer(Tensor):
    """Marks a tensor as a buffer: assigning ``Buffer(t, persistent=False)`` to a Module attribute
    registers it like ``register_buffer(name, t, persistent=False)``. Shares ``data``'s storage."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        t = _wrap(cls, data)
        t.persistent = persistent
        return t

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        pass

    def __reduce_ex__(self, protocol: int):
        host = self._device.backend.to_host(self._data)
        return (_rebuild_buffer, (type(self), host, str(self._device), self.persistent))


def _rebuild_buffer(cls: type, host: Any, dev: str, persistent: bool) -> Buffer:
    d = _device_cls(dev)
    return cls.__new__(cls, Tensor._make(d.backend.from_host(host.copy(), d.index), d), persistent=persistent)


class _Uninitialized:
    """What the uninitialized kinds share: no shape until ``materialize(shape)`` gives them storage and
    turns them into ``cls_to_become`` (the same object, so optimizers and hooks holding it stay valid)."""

    cls_to_become: type

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give the tensor uninitialized storage of ``shape`` (its own device/dtype unless given)."""
        from ..ops.creation import empty

        like = {"device": self.device if device is None else device, "dtype": self.dtype if dtype is None else dtype}
        self.data = empty(tuple(shape) if not isinstance(shape, int) else (shape,), **like)
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error usually "
                           "happens in `load_state_dict` when trying to load an uninitialized parameter into an "
                           "initialized one. Call `forward` to initialize the parameters before accessing their "
                           "attributes.")

    def share_memory_(self) -> Any:
        raise RuntimeError("Can't share memory on an uninitialized parameter or buffer. Call `forward` to initialize "
                           "the parameters before calling `module.share_memory()`.")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __deepcopy__(self, memo: dict) -> Any:
        if id(self) not in memo:
            memo[id(self)] = _rebuild_uninitialized(type(self), self.requires_grad, str(self.device), self.dtype,
                                                    getattr(self, "persistent", None))
        return memo[id(self)]

    def __reduce_ex__(self, protocol: int):
        # device and dtype kept (PyTorch keeps only requires_grad): a pickled ``.double()`` lazy module stays double
        return (_rebuild_uninitialized, (type(self), self.requires_grad, str(self.device), self.dtype,
                                         getattr(self, "persistent", None)))


def _rebuild_uninitialized(cls: type, requires_grad: bool, dev: str, dtype: Any, persistent: Any) -> Any:
    kwargs = {} if persistent is None else {"persistent": persistent}
    return cls(requires_grad, dev, dtype, **kwargs)


class UninitializedParameter(_Uninitialized, Parameter):
    """A Parameter whose shape is not known yet (a lazy module's weight before its first forward).

    Only dtype casts, device moves and ``materialize(shape)`` apply; ``shape`` raises RuntimeError.
    ``device``/``dtype`` set what ``materialize`` uses.
    """

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> UninitializedParameter:
        from ..ops.creation import empty

        return Parameter.__new__(cls, empty(0, device=device, dtype=dtype), requires_grad)

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        pass


class UninitializedBuffer(_Uninitialized, Buffer):
    """A buffer whose shape is not known yet (a lazy norm's running statistics before its first forward).

    ``materialize(shape)`` makes it a ``Buffer`` (PyTorch: a plain Tensor; lamina's Tensor has a fixed slot
    layout, so the object becomes the Tensor subclass that marks buffers; ``persistent`` is kept).
    """

    cls_to_become = Buffer

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                persistent: bool = True) -> UninitializedBuffer:
        from ..ops.creation import empty

        t = Buffer.__new__(cls, empty(0, device=device, dtype=dtype), persistent=persistent)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        pass


def is_lazy(param: Any) -> bool:
    """True for an UninitializedParameter or UninitializedBuffer (PyTorch's ``nn.parameter.is_lazy``)."""
    return isinstance(param, _Uninitialized)


__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]
