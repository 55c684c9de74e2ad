"""What keeps the dense core away from a sparse tensor's (absent) dense storage.

A sparse tensor is a ``lamina.Tensor`` (``isinstance`` holds, as in torch), but it has no strided
array. Its ``array`` slot holds an :class:`DenseStorageGuard`: it answers the metadata the core reads
(shape, dtype, ndim, size) and raises torch's "Could not run ... 'SparseCPU' backend" error for anything
that would compute with it, so a dense op never silently works on a placeholder. Tensor methods that
lamina-sparse does not implement get the same error, naming the method (:func:`refuse_dense_methods`).
"""

from __future__ import annotations

import types
from typing import Any

_KEEP = frozenset({
    "__init__", "__new__", "__init_subclass__", "__getattr__", "__getattribute__", "__setattr__",
    "__delattr__", "__hash__", "__repr__", "__str__", "__format__", "__dir__", "__sizeof__", "__class_getitem__",
    "__subclasshook__", "__reduce__", "__array_priority__", "__weakref__", "__eq__", "__ne__",
})


def _not_supported(what: str, backend: str) -> NotImplementedError:
    return NotImplementedError(
        f"Could not run '{what}' with arguments from the '{backend}' backend: lamina-sparse has no kernel for it "
        f"on this layout; convert with .to_dense() first")


class DenseStorageGuard:
    """Stands in for the dense array of a sparse tensor: metadata only."""

    __slots__ = ("shape", "dtype", "backend_name")

    def __init__(self, shape: tuple[int, ...], np_dtype: Any, backend_name: str) -> None:
        self.shape = tuple(shape)
        self.dtype = np_dtype
        self.backend_name = backend_name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_supported("a dense operation", self.backend_name)

    def __getattr__(self, name: str) -> Any:
        raise _not_supported(f"a dense operation (array.{name})", self.backend_name)

    __array__ = __array_ufunc__ = __array_function__ = _refuse
    __getitem__ = __setitem__ = __iter__ = __len__ = __bool__ = __float__ = __int__ = __index__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __matmul__ = __rmatmul__ = __pow__ = __rpow__ = __neg__ = __abs__ = __floordiv__ = __mod__ = _refuse
    __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __eq__ = __ne__ = _refuse  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]


def refuse_dense_methods(cls: type, base: type, backend: str) -> None:
    """Give ``cls`` a refusing stub for every plain method of ``base`` that ``cls`` does not define itself."""
    own = set()
    for klass in cls.__mro__:
        if klass is base:
            break
        own.update(vars(klass))
    for klass in base.__mro__:
        for name, value in vars(klass).items():
            private = name.startswith("_") and not name.startswith("__")  # core machinery, never user ops
            if name in own or name in _KEEP or private or not isinstance(value, (types.FunctionType, staticmethod)):
                continue
            if getattr(value, "__module__", "").startswith("lamina_sparse"):   # this plugin's own method entries
                continue
            own.add(name)
            setattr(cls, name, _stub(name, backend))


def _stub(name: str, backend: str):
    def refuse(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise _not_supported(name, backend)

    refuse.__name__ = refuse.__qualname__ = name
    refuse.__doc__ = f"Not supported for {backend} tensors (raises NotImplementedError)."
    return refuse
