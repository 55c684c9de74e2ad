"""Attention masks: bool (True = masked out, PyTorch's MultiheadAttention convention) or float (added)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import lamina
from lamina import Tensor
from lamina.errors import DTypeError


def additive_mask(mask: Any, mask_name: str, other: Any, other_name: str, like: Tensor, owner: str) -> Any:
    """None, or a float mask in ``like``'s dtype: a bool mask becomes -inf where True and 0 elsewhere."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = lamina.as_tensor(mask, device=like.device)
    is_bool = mask.dtype == lamina.bool
    if not is_bool and not mask.is_floating_point():
        raise DTypeError(f"{owner}: only bool and floating types of {mask_name} are supported, got {mask.dtype}")
    if other is not None and isinstance(other, Tensor) and other.dtype != mask.dtype:
        warnings.warn(f"{owner}: support for mismatched {mask_name} and {other_name} is deprecated; use the same "
                      "type for both instead", UserWarning, stacklevel=4)
    if is_bool:
        return lamina.zeros(*mask.shape, dtype=like.dtype, device=like.device).masked_fill(mask, -math.inf)
    return mask if mask.dtype == like.dtype else mask.to(like.dtype)


def pad_last(mask: Tensor | None) -> Tensor | None:
    """Append one zero (attend) column along the last dim (for bias_k/bias_v and add_zero_attn)."""
    if mask is None:
        return None
    z = lamina.zeros(*(tuple(mask.shape[:-1]) + (1,)), dtype=mask.dtype, device=mask.device)
    return lamina.cat([mask, z], -1)


def causal_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
    """(sz, sz) float mask: -inf above the diagonal, 0 elsewhere."""
    i = lamina.arange(sz, device=device)
    above = i.reshape(1, sz) > i.reshape(sz, 1)
    return lamina.zeros(sz, sz, dtype=dtype, device=device).masked_fill(above, -math.inf)
