"""The tensor layer: the state of a tensor (``TensorBase``), ``Size``, the version counter, repr.

Above the backends layer; below autograd and the op families, which add the methods.
"""

from __future__ import annotations

from .base import Size, Tensor, TensorBase, _init_from, _rebuild, zero_grads

__all__ = ["Size", "Tensor", "TensorBase", "_init_from", "_rebuild", "zero_grads"]
