"""Structured schemes: ``eye_``, ``dirac_``, ``orthogonal_``, ``sparse_``.

Each builds its values with the tensor's array namespace ``xp`` on the tensor's device, then
copies them in with one in-place ``copy_`` under ``no_grad`` (version bumped, no history).
"""

from __future__ import annotations

import math
from typing import Any

import lamina
from lamina import Tensor

from .basic import _check_tensor

__lamina_plugin_api__ = "1.0"


def _fill_from(tensor: Tensor, values: Any) -> Tensor:
    """Copy the backend array ``values`` (tensor's device) into ``tensor`` in place, without history."""
    src = lamina.empty(*tensor.shape, dtype=tensor.dtype, device=tensor.device)
    src.array[...] = values.reshape(tuple(tensor.shape))
    with lamina.no_grad():
        return tensor.copy_(src)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (2-D tensors only; rectangular allowed)."""
    _check_tensor("eye_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only tensors with 2 dimensions are supported, got {tensor.ndim} dimensions")
    with lamina.no_grad():
        return tensor.copy_(lamina.eye(*tensor.shape, dtype=tensor.dtype, device=tensor.device))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The Dirac delta of a convolution kernel: output channel d of each group passes input channel d.

    Shape: tensor (C_out, C_in, *k) with 1 to 3 kernel dims; C_out divisible by ``groups``
    """
    _check_tensor("dirac_", tensor)
    if tensor.ndim not in (3, 4, 5):
        raise ValueError(f"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got {tensor.ndim} "
                         "dimensions")
    shape = tuple(tensor.shape)
    if not isinstance(groups, int) or groups < 1 or shape[0] % groups:
        raise ValueError(f"dirac_: groups must be a positive divisor of dim 0 ({shape[0]}), got {groups}")
    per_group = shape[0] // groups
    n = min(per_group, shape[1])
    xp = tensor.device.backend.xp
    values = xp.zeros(shape, dtype=tensor.array.dtype)
    d = xp.arange(n)
    out_idx = (xp.arange(groups)[:, None] * per_group + d[None, :]).reshape(-1)
    in_idx = xp.tile(d, groups)
    values[(out_idx, in_idx, *(s // 2 for s in shape[2:]))] = 1
    return _fill_from(tensor, values)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: lamina.Generator | None = None) -> Tensor:
    """A (semi-)orthogonal matrix from the QR decomposition of a Gaussian one, signs fixed so that the
    distribution is uniform (Haar); dims after the first are flattened. Scaled by ``gain``.
    """
    _check_tensor("orthogonal_", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, got "
                         f"{tensor.ndim} dimensions")
    if tensor.numel() == 0:
        return tensor
    rows = int(tensor.shape[0])
    cols = tensor.numel() // rows
    xp = tensor.device.backend.xp
    g = lamina.randn(rows, cols, generator=generator, dtype=tensor.dtype, device=tensor.device)
    a = g.array.astype(xp.float64)  # QR in float64: orthogonal to round-off of the target dtype
    if rows < cols:
        a = a.T
    q, r = xp.linalg.qr(a)
    sign = xp.sign(xp.diagonal(r))
    q = q * xp.where(sign == 0, 1.0, sign)[None, :]
    if rows < cols:
        q = q.T
    return _fill_from(tensor, q * float(gain))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: lamina.Generator | None = None) -> Tensor:
    """N(0, std^2) entries with ceil(sparsity * rows) zeros at random rows of every column (2-D only)."""
    _check_tensor("sparse_", tensor)
    if tensor.ndim != 2:
        raise ValueError(f"sparse_: only tensors with 2 dimensions are supported, got {tensor.ndim} dimensions")
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float)) or not 0 <= sparsity <= 1:
        raise ValueError(f"sparse_: sparsity must be a number in [0, 1], got {sparsity!r}")
    if isinstance(std, bool) or not isinstance(std, (int, float)) or not std >= 0:
        raise ValueError(f"sparse_: std must be a number >= 0, got {std!r}")
    rows, cols = (int(s) for s in tensor.shape)
    num_zeros = int(math.ceil(sparsity * rows))
    xp = tensor.device.backend.xp
    values = lamina.randn(rows, cols, generator=generator, dtype=tensor.dtype, device=tensor.device).array * std
    if num_zeros and cols:
        # an independent uniform permutation of the rows per column: argsort of uniform keys
        keys = lamina.rand(rows, cols, generator=generator, dtype=lamina.float64, device=tensor.device).array
        zero_rows = xp.argsort(keys, axis=0)[:num_zeros]
        values[zero_rows, xp.arange(cols)[None, :]] = 0
    return _fill_from(tensor, values)


__all__ = ["eye_", "dirac_", "orthogonal_", "sparse_"]
