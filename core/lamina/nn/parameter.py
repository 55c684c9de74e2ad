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


def is_lazy(param: Any) -> bool:
    """PyTorch API compatibility: lamina has no uninitialized (lazy) parameters in the core."""
    return False


__all__ = ["Parameter", "Buffer", "is_lazy"]
