"""What programs ask of a tensor's storage: ``x.untyped_storage()`` and the deprecated ``x.storage()``.

lamina keeps no storage objects of its own: a tensor holds a backend array, and views hold views of
the same buffer. The storage objects here describe that buffer (the array at the root of the view
chain) for the questions real code asks: do two tensors share memory (``data_ptr()``), how big is it
(``nbytes()``), on which device, and its bytes or elements (``tolist()``). They are read-only
descriptions: ``resize_``, ``copy_`` and ``share_memory_`` on them are not provided.
"""

from __future__ import annotations

import warnings
from typing import Any

from .._tensor import Tensor


def _root(array: Any) -> Any:
    """The array that owns the memory behind ``array`` (the start of its view chain)."""
    root = array
    while getattr(root, "base", None) is not None and hasattr(root.base, "dtype"):
        root = root.base
    return root


def _address(array: Any) -> int:
    iface = getattr(array, "__array_interface__", None)
    return int(iface["data"][0]) if iface is not None else int(array.data.ptr)


class UntypedStorage:
    """The bytes behind a tensor. Shape: a flat buffer of ``nbytes()`` bytes"""

    def __init__(self, array: Any, device: Any) -> None:
        self._array = _root(array)
        self._device = device

    @property
    def device(self) -> Any:
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    def data_ptr(self) -> int:
        return _address(self._array)

    def nbytes(self) -> int:
        return int(self._array.nbytes)

    def size(self) -> int:
        return self.nbytes()

    def __len__(self) -> int:
        return self.nbytes()

    def element_size(self) -> int:
        return 1

    def tolist(self) -> list[int]:
        host = self._device.backend.to_host(self._array)
        return list(memoryview(host.reshape(-1).view("uint8")).tolist()) if host.size else []

    def is_shared(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f" {self.tolist()!r}\n[lamina.storage.UntypedStorage(device={self._device}) of size {len(self)}]"


class TypedStorage:
    """The deprecated typed view of a tensor's storage: elements of the tensor's dtype."""

    def __init__(self, tensor: Tensor) -> None:
        self._untyped = UntypedStorage(tensor.array, tensor.device)
        self.dtype = tensor.dtype

    @property
    def device(self) -> Any:
        return self._untyped.device

    def untyped(self) -> UntypedStorage:
        return self._untyped

    def data_ptr(self) -> int:
        return self._untyped.data_ptr()

    def element_size(self) -> int:
        return self.dtype.itemsize

    def size(self) -> int:
        return self._untyped.nbytes() // self.element_size()

    def __len__(self) -> int:
        return self.size()

    def nbytes(self) -> int:
        return self._untyped.nbytes()

    def tolist(self) -> list:
        host = self._untyped.device.backend.to_host(self._untyped._array)
        return host.reshape(-1).view(host.dtype).tolist()


class StorageMethods:
    """Mixed into ``Tensor``."""

    __slots__ = ()

    def untyped_storage(self: Tensor) -> UntypedStorage:
        return UntypedStorage(self.array, self.device)

    def storage(self: Tensor) -> TypedStorage:
        warnings.warn("TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the "
                      "only storage class. This should only matter to you if you are using storages directly.  To "
                      "access UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()",
                      UserWarning, stacklevel=2)
        return TypedStorage(self)
