"""Input validation shared by the recurrent layers and cells (messages name the layer, expected vs got)."""

from __future__ import annotations

from typing import Any

from lamina.errors import DTypeError, ShapeError

__lamina_plugin_api__ = "1.0"


class RecurrentShapeError(ShapeError, RuntimeError):
    """A wrong input or state shape; also a RuntimeError, as PyTorch raises for these."""


def check_features(name: str, x: Any, input_size: int) -> None:
    if x.shape[-1] != input_size:
        raise RecurrentShapeError(f"{name}: expected input with {input_size} features (input_size), got "
                                  f"{x.shape[-1]} (input shape {tuple(x.shape)})")


def check_dtype(name: str, x: Any, weight: Any) -> None:
    if x.dtype != weight.dtype:
        raise DTypeError(f"{name}: input dtype ({x.dtype}) does not match weight dtype ({weight.dtype}); convert "
                         f"the input with input.to({weight.dtype}) or the module with module.to({x.dtype})")


def check_state(name: str, which: str, state: Any, expected: tuple, dtype: Any) -> None:
    if tuple(state.shape) != tuple(expected):
        raise RecurrentShapeError(f"{name}: expected {which} of size {tuple(expected)}, got {list(state.shape)}")
    if state.dtype != dtype:
        raise DTypeError(f"{name}: expected {which} of the input's dtype {dtype}, got {state.dtype}")


def check_float(name: str, x: Any) -> None:
    if not x.is_floating_point():
        raise DTypeError(f"{name}: expected a floating point input, got {x.dtype}")
