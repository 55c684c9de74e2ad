"""Module moves and casts (bound as methods in ``module.py``): parameters change IN PLACE
(``param.data = fn(param)``) so that the Parameter objects, and the optimizers holding them, stay
the same; buffers are replaced; ``to(dtype)`` changes only floating and complex tensors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._base import dtype as _dtype
from ..autograd.grad_mode import no_grad
from ..ops.tensor import Tensor
from .parameter import is_lazy


def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> Any:
    if recurse:
        for m in self.children():
            m._apply(fn)
    with no_grad():
        for p in self._parameters.values():
            if p is None:
                continue
            p.data = fn(p)  # in place: the Parameter object (and optimizers holding it) stays the same
            if p._grad is not None:
                p._grad = fn(p._grad)
        for k, b in self._buffers.items():
            if is_lazy(b):
                b.data = fn(b)  # an UninitializedBuffer is cast in place: it must stay uninitialized
            elif b is not None:
                self._buffers[k] = fn(b)
    return self


def to(self, *args: Any, **kwargs: Any) -> Any:
    from ..ops.conversion import _parse_to

    device, dtype, _ = _parse_to(args, dict(kwargs))
    if dtype is not None:
        dtype = _dtype.from_numpy_dtype(_dtype.to_np(dtype))
        if not (dtype.is_floating_point or dtype.is_complex):
            raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                            f"dtype={dtype}")

    def convert(t: Tensor) -> Tensor:
        if t.is_floating_point() or t.is_complex():
            return t.to(device, dtype)
        return t.to(device) if device is not None else t

    return self._apply(convert)


def cpu(self) -> Any:
    return self._apply(lambda t: t.cpu())


def cuda(self, device: Any = None) -> Any:
    return self._apply(lambda t: t.cuda(device))


def type_(self, dst_type: Any) -> Any:
    return self._apply(lambda t: t.type(dst_type))


def float_(self) -> Any:
    return self._apply(lambda t: t.float() if t.is_floating_point() else t)


def double_(self) -> Any:
    return self._apply(lambda t: t.double() if t.is_floating_point() else t)


def half_(self) -> Any:
    return self._apply(lambda t: t.half() if t.is_floating_point() else t)


def share_memory(self) -> Any:
    return self  # no shared-memory tensors in lamina: a no-op kept for API compatibility
