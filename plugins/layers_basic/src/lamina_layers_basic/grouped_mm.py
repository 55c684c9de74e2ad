"""``F.grouped_mm`` (torch 2.13 prototype): per-group matrix products for Mixture-of-Experts layers.

Groups come from ``offs`` (int32, increasing ends of each group along the jagged dim of a 2-D operand) or,
with two 3-D operands, from their first dim:

- a (M, K), b (G, K, N): rows offs[i-1]:offs[i] of a times b[i] -> (M, N)
- a (G, M, K), b (G, K, N): a batched product -> (G, M, N)
- a (M, K), b (K, N): a[:, K_i] @ b[K_i, :] for the K ranges of offs -> (G, M, N)
- a (G, M, K), b (K, N): a[i] @ b[:, N_i] for the N ranges of offs, side by side -> (M, N)

Composed of slicing, matmul and concatenation, so autograd (and double backward) follow. Rows or columns past
offs[-1] are zero (PyTorch leaves them unwritten). PyTorch's kernel-layout limits (16-byte strides) do not apply.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

from . import __lamina_plugin_api__  # noqa: F401

_FLOATS = ("float32", "bfloat16", "float16")


def _name(dtype: Any) -> str:
    return {"float32": "Float32", "float64": "Double", "bfloat16": "BFloat16", "float16": "Half"}.get(
        dtype.name, dtype.name)


def _grouped(a: Tensor, b: Tensor, ends: list[int] | None) -> Tensor:
    """The products, dtype-agnostic (float64 for gradcheck); ``ends`` are the offsets as Python ints."""
    if ends is None:
        return a @ b
    starts = [0] + ends[:-1]
    if a.ndim == 2 and b.ndim == 3:
        parts = [a[s:e] @ b[i] for i, (s, e) in enumerate(zip(starts, ends))]
        rest = a.shape[0] - ends[-1]
        if rest:
            parts.append(lamina.zeros(rest, b.shape[-1], dtype=a.dtype, device=a.device))
        return lamina.cat(parts, 0)
    if a.ndim == 2 and b.ndim == 2:
        return lamina.stack([a[:, s:e] @ b[s:e] for s, e in zip(starts, ends)])
    parts = [a[i] @ b[:, s:e] for i, (s, e) in enumerate(zip(starts, ends))]      # a 3-D, b 2-D
    rest = b.shape[-1] - ends[-1]
    if rest:
        parts.append(lamina.zeros(a.shape[1], rest, dtype=a.dtype, device=a.device))
    return lamina.cat(parts, 1)


def grouped_mm(mat_a: Tensor, mat_b: Tensor, *, offs: Tensor | None = None, bias: Tensor | None = None,
               out_dtype: Any = None) -> Tensor:
    """Grouped matrix products (see the module docstring for the four layouts). Shape: as listed there."""
    for name, m in (("mat_a", mat_a), ("mat_b", mat_b)):
        if m.ndim not in (2, 3):
            raise RuntimeError(f"{name} has to be 2 or 3d")
        if m.dtype.name not in _FLOATS:
            raise RuntimeError(f"Expected {name} to be Float32, BFloat16 or Float16 matrix, got {_name(m.dtype)}")
    if (offs is None) != (mat_a.ndim == 3 and mat_b.ndim == 3):
        raise RuntimeError("Have to provide offsets if there is a 2d matrix, or no offset if both matrices are 3d")
    if mat_a.shape[-1] != mat_b.shape[-2]:
        raise RuntimeError("contraction dimension of mat_a and mat_b must match")
    if offs is not None and offs.dtype is not lamina.int32:
        raise RuntimeError("Offsets have to be int32")
    if bias is not None:
        raise RuntimeError("Bias not supported yet")
    if out_dtype is not None and out_dtype is not mat_a.dtype:
        raise RuntimeError("Grouped gemm output dtype must match `mat_a` dtype")
    ends = None if offs is None else [int(v) for v in offs.tolist()]
    if ends is not None:
        groups = mat_b.shape[0] if mat_b.ndim == 3 else mat_a.shape[0] if mat_a.ndim == 3 else len(ends)
        if offs.ndim != 1 or len(ends) != groups:
            raise RuntimeError(f"matrix batch sizes have to match offs: expected {groups} offsets, got "
                               f"{tuple(offs.shape)}")
        limit = {(2, 3): mat_a.shape[0], (2, 2): mat_a.shape[1], (3, 2): mat_b.shape[1]}[(mat_a.ndim, mat_b.ndim)]
        if any(e < s for s, e in zip([0] + ends[:-1], ends)) or (ends and ends[-1] > limit):
            raise RuntimeError(f"offs must be non-decreasing and at most {limit}, got {ends}")
    elif mat_a.shape[0] != mat_b.shape[0]:
        raise RuntimeError("batch sizes of mat_a and mat_b must match")
    return _grouped(mat_a, mat_b, ends)
