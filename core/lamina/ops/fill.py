"""Writes into a tensor's storage: ``zero_``, ``fill_``, ``copy_`` and the random fills.

Without graph recording the array is written in place and the version counter bumped; with
recording the write runs through ``inplace.rebase`` so the tensor takes the new history.
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from . import sampling as K
from .conversion import to
from .elementwise import add, mul
from .inplace import check_inplace, rebase, snapshot
from .shape import expand


class FillMethods:
    __slots__ = ()

    def zero_(self: Tensor) -> Tensor:
        return self.fill_(0)

    def fill_(self: Tensor, value: Any) -> Tensor:
        if check_inplace(self, value):
            return rebase(self, add(mul(snapshot(self), 0), value))
        self._data[...] = value._data if isinstance(value, Tensor) else value
        self._vc.v += 1
        return self

    def copy_(self: Tensor, src: Tensor, non_blocking: bool = False) -> Tensor:
        if not isinstance(src, Tensor):
            raise TypeError(f"copy_: expected a Tensor source, got {type(src).__name__}")
        if src._device is not self._device:
            src = to(src, self._device)
        if check_inplace(self, src):
            return rebase(self, add(mul(snapshot(self), 0), expand(to(src, self.dtype), tuple(self.shape))))
        self._data[...] = src._data
        self._vc.v += 1
        return self

    def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        u = K.rand(tuple(self.shape), generator=generator, dtype=self.dtype, device=self.device)
        with no_grad():
            return self.copy_(u * (b - a) + a)

    def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        z = K.randn(tuple(self.shape), generator=generator, dtype=self.dtype, device=self.device)
        with no_grad():
            return self.copy_(z * std + mean)
