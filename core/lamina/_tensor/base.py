"""The tensor layer: ``TensorBase``, a backend array plus autograd bookkeeping.

This file holds the state, conversions and repr. The autograd entry points (``backward``,
``register_hook``) are a mixin of the autograd layer, the operations mixins of the op families;
``lamina.ops.tensor.Tensor`` assembles them in one class statement. Layers below ``ops`` refer to
``Tensor`` through the name exported here: for a type checker it is the assembled class, at run
time ``TensorBase`` (every tensor is an instance of both).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any, ClassVar

from .._base import REPR_PREFIX
from .._base import dtype as _dtype
from ..backends import device as _device_cls

if TYPE_CHECKING:
    from ..ops.tensor import Tensor


class Size(tuple):
    """A tensor shape; a tuple printed like ``lamina.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{REPR_PREFIX[0]}.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, k):
        r = tuple.__getitem__(self, k)
        return Size(r) if isinstance(k, slice) else r


class _Version:
    """A version counter shared by a tensor and its views; bumped by every in-place change."""

    __slots__ = ("v",)

    def __init__(self) -> None:
        self.v = 0


class TensorBase:
    """The state of an n-dimensional array with autograd (the methods come with ``Tensor``).

    ``tensor.array`` is the raw backend array; ``tensor.data`` a Tensor sharing it without history.
    """

    __slots__ = ("_data", "_device", "_requires_grad", "_grad", "_node", "_output_nr", "_vcs",
                 "_hooks", "_post_hooks", "_retain", "_base", "__weakref__")
    __array_priority__ = 1000  # make ndarray <op> Tensor defer to Tensor's reflected operators

    #: the assembled class (``class Tensor(TensorBase, ..., concrete=True)``): what ``_make`` builds
    _concrete: ClassVar[type]

    def __init_subclass__(cls, concrete: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if concrete:
            TensorBase._concrete = cls

    # --- construction helpers (hot path) ------------------------------------------------------
    @staticmethod
    def _make(data, dev, requires_grad: bool = False) -> Tensor:
        t = object.__new__(TensorBase._concrete)
        _init_from(t, data, dev, requires_grad)
        return t

    # --- basic properties ---------------------------------------------------------------------
    @property
    def array(self):
        """The raw backend array (NumPy or CuPy), on the tensor's device."""
        return self._data

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[dim]

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype._FROM_NP[self._data.dtype]

    @property
    def device(self) -> _device_cls:
        return self._device

    @property
    def is_cuda(self) -> bool:
        return self._device.type == "cuda"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def ndimension(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    def nelement(self) -> int:
        return int(self._data.size)

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return _dtype.kind_of(self._data.dtype) == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[dim]

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    # --- autograd state -----------------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._node is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: you can only change requires_grad flags of leaf variables. If you want "
                "to use a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach().")
        if requires_grad and _dtype.kind_of(self._data.dtype) not in "fc":
            raise RuntimeError(
                f"requires_grad_: only Tensors of floating point dtype can require gradients, got {self.dtype}")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"grad: expected a Tensor or None, got {type(value).__name__}")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"grad: assigned grad has shape {list(value.shape)}, "
                                   f"expected {list(self.shape)} (the tensor's shape)")
            if value._device is not self._device:
                raise RuntimeError(f"grad: assigned grad is on {value._device}, expected {self._device}")
        self._grad = value

    @property
    def grad_fn(self):
        return self._node

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def retains_grad(self) -> bool:
        return self._retain

    @property
    def _vc(self) -> _Version:
        """The version counter, shared with views (made on first use; hot paths read ``_vcs or _vc``)."""
        vc = self._vcs
        if vc is None:
            vc = self._vcs = _Version()
        return vc

    @_vc.setter
    def _vc(self, vc: _Version) -> None:
        self._vcs = vc

    @property
    def _version(self) -> int:
        """How many times the storage was written (shared with views); PyTorch's ``Tensor._version``."""
        return self._vc.v

    @property
    def data(self) -> Tensor:
        """A Tensor sharing this one's storage with no autograd history and, as in PyTorch, a version
        counter of its own: writes through ``.data`` are hidden from autograd (``detach`` shares it)."""
        return TensorBase._make(self._data, self._device)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data: expected a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._device = value._device

    def detach(self) -> Tensor:
        """A new Tensor sharing storage and version counter, cut from the graph."""
        t = TensorBase._make(self._data, self._device)
        t._vc = self._vc
        return t

    def detach_(self) -> Tensor:
        self._node = None
        self._requires_grad = False
        return self

    # --- conversions --------------------------------------------------------------------------
    def numpy(self, *, force: bool = False):
        if self._requires_grad and not force:
            raise RuntimeError("numpy: Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self._device.type != "cpu":
            raise TypeError(_not_on_host(self._device))
        if self._data.dtype.kind == "V":
            raise TypeError("Got unsupported ScalarType BFloat16")
        return self._data

    def item(self) -> builtins.float | builtins.int | builtins.bool:
        if self._data.size != 1:
            raise RuntimeError(f"item: a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._device.backend.to_host(self._data).reshape(()).item()

    def tolist(self):
        return self._device.backend.to_host(self._data).tolist()

    def __int__(self) -> builtins.int:
        return builtins.int(self.item())

    def __index__(self) -> builtins.int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __bool__(self) -> builtins.bool:
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self._data.size} values is ambiguous")
        return builtins.bool(self.item())

    def __array__(self, dtype=None, copy=None):
        if self._device.type != "cpu":
            raise TypeError(_not_on_host(self._device))
        a = self._device.backend.to_host(self._data)
        return a if dtype is None else a.astype(dtype)

    __hash__ = object.__hash__  # by identity, in C (``Tensor.__eq__`` is elementwise)

    def __repr__(self) -> str:
        from .format import tensor_repr

        return tensor_repr(self)

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return format(self.item(), spec)
        return object.__format__(self, spec) if not spec else format(repr(self), spec)

    # --- pickling / copying -------------------------------------------------------------------
    def __reduce_ex__(self, protocol):
        host = self._device.backend.to_host(self._data)
        return (_rebuild, (type(self), host, str(self._device), self._requires_grad))

    def __deepcopy__(self, memo):
        if self._node is not None:
            raise RuntimeError("deepcopy: only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        t = type(self).__new__(type(self))
        _init_from(t, self._data.copy(), self._device)
        t._requires_grad = self._requires_grad
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        d = getattr(self, "__dict__", None)
        if d:
            import copy

            t.__dict__.update(copy.deepcopy(d, memo))
        memo[id(self)] = t
        return t


def _not_on_host(dev) -> str:
    """PyTorch's message for a device tensor asked for a NumPy array (the index shown as PyTorch does)."""
    index = dev.index
    if index is None:
        current = getattr(dev.backend, "current_device", None)
        index = current() if current is not None else 0
    return (f"can't convert {dev.type}:{index} device type tensor to numpy. "
            "Use Tensor.cpu() to copy the tensor to host memory first.")


def _init_from(t: TensorBase, data, dev, requires_grad: bool = False) -> None:
    """Set every slot of a fresh tensor (the one place that lists them)."""
    t._data = data
    t._device = dev
    t._requires_grad = requires_grad
    t._grad = None
    t._node = None
    t._output_nr = 0
    t._vcs = None  # the version counter, made on first use (``_vc``): most tensors never need one
    t._hooks = None
    t._post_hooks = None
    t._retain = False
    t._base = None


def _rebuild(cls, host, dev: str, requires_grad: bool):
    d = _device_cls(dev)
    t = cls.__new__(cls)
    _init_from(t, d.backend.from_host(host.copy(), d.index), d)
    t._requires_grad = requires_grad
    return t


def zero_grads(params, set_to_none: bool = True) -> None:
    """Reset gradients: to None (default) or to zeros in place (cut from any graph first)."""
    for p in params:
        g = p._grad
        if g is None:
            continue
        if set_to_none:
            p._grad = None
        else:
            if g._node is not None:
                g.detach_()
            else:
                g.requires_grad_(False)
            g.zero_()


if not TYPE_CHECKING:
    Tensor = TensorBase
