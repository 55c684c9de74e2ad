"""``torch.autograd.Variable``: since torch 0.4 a tensor; kept for code written before then."""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, Tensor)

    def __call__(cls, data: Any, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # type: ignore[override]
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        t = data.detach()
        return t.requires_grad_(requires_grad) if requires_grad else t


class Variable(metaclass=_VariableMeta):
    """torch.autograd.Variable: since torch 0.4 a tensor; ``Variable(t, requires_grad=True)`` returns a tensor."""
