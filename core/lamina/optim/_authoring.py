"""Helpers for optimizer authors (PyTorch's ``torch.optim.optimizer`` utilities), re-exported by
``lamina.optim.optimizer``: the ``required`` marker, range validation, value unwrapping."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..autograd import no_grad
from ..ops.tensor import Tensor


class _RequiredParameter:
    """Marks a default that every parameter group must set (``lr`` of an optimizer with no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def check_range(what: str, value: Any, low: float = 0.0, high: float | None = None, *,
                low_inclusive: bool = True, high_inclusive: bool = False) -> None:
    """Raise ``ValueError("Invalid <what>: <value>")`` unless ``value`` lies in the range (NaN fails).

    ``check_range("learning rate", lr)`` checks ``0.0 <= lr``;
    ``check_range("beta parameter at index 0", b0, 0.0, 1.0)`` checks ``0.0 <= b0 < 1.0``.
    """
    v = _get_value(value)
    ok = (low <= v) if low_inclusive else (low < v)
    if ok and high is not None:
        ok = (v <= high) if high_inclusive else (v < high)
    if not ok:
        raise ValueError(f"Invalid {what}: {value}")


def _get_value(x: Any) -> Any:
    """A Python number from a number or a one-element tensor (``step`` counters, tensor ``lr``)."""
    return x.item() if isinstance(x, Tensor) else x


def _default_to_fused_or_foreach(params: list, differentiable: bool, use_fused: bool = False) -> tuple[bool, bool]:
    """lamina has no fused or foreach kernel families of PyTorch's kind: always ``(False, False)``."""
    return False, False


def _use_grad_for_differentiable(step: Callable) -> Callable:
    """Decorator for ``step``: run it under ``no_grad`` unless the group default ``differentiable`` is set."""

    @functools.wraps(step)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.defaults.get("differentiable", False):
            return step(self, *args, **kwargs)
        with no_grad():
            return step(self, *args, **kwargs)

    return run
