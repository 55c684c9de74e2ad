"""``lamina.nn.functional``: the core's activations with PyTorch's ``F.*`` signatures; every other
name (``linear``, ``conv2d``, ``cross_entropy``, ...) comes from plugins (group ``lamina.functional``)."""

from __future__ import annotations

import warnings
from typing import Any

from .. import plugins as _plugins
from ..ops import elementwise as _E
from ..ops import softmax as _SM
from ..ops.tensor import Tensor


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return input.relu_() if inplace else _E.relu(input)


def relu_(input: Tensor) -> Tensor:
    return input.relu_()


def sigmoid(input: Tensor) -> Tensor:
    return _E.sigmoid(input)


def tanh(input: Tensor) -> Tensor:
    return _E.tanh(input)


def _implicit_dim(name: str, dim: int | None, ndim: int, stacklevel: int) -> int | None:
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                      "dim=X as an argument.", UserWarning, stacklevel=stacklevel)
        return 0 if ndim in (0, 1, 3) else 1
    return dim


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    return _SM.softmax(input, _implicit_dim("softmax", dim, input.ndim, _stacklevel), dtype=dtype)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    return _SM.softmin(input, _implicit_dim("softmin", dim, input.ndim, _stacklevel), dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    return _SM.log_softmax(input, _implicit_dim("log_softmax", dim, input.ndim, _stacklevel), dtype=dtype)


__getattr__, __dir__ = _plugins.namespace(("lamina.functional",), __name__)

__all__ = ["relu", "relu_", "sigmoid", "tanh", "softmax", "softmin", "log_softmax"]
