"""In-place resizing of sparse COO tensors: ``sparse_resize_``, ``sparse_resize_and_clear_`` and
``resize_as_sparse_`` (torch's rules: a non-empty tensor keeps its numbers of sparse and dense dims and
may only grow; grown dense dims pad the values with zeros). Other layouts raise as torch does.

Shapes: size (*S, *D) with len(S) = sparse_dim, len(D) = dense_dim; values (nnz, *D).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

_HINT = " on a non-empty sparse tensor is not supported."


def _no_kernel(name: str, t: Tensor) -> NotImplementedError:
    backend = {"lamina.strided": "CPU"}.get(str(t.layout), "SparseCsrCPU")
    return NotImplementedError(f"Could not run 'aten::{name}' with arguments from the '{backend}' backend. "
                               f"lamina-sparse provides it for sparse COO tensors only")


def _set_state(t: Tensor, idx: Any, vals: Tensor, size: tuple[int, ...]) -> Tensor:
    t._idx, t._vals, t._size, t._idx_t = idx, vals, tuple(size), None
    t.array.shape = tuple(size)            # the storage guard answers the core's shape questions
    return t


def _check(name: str, t: Tensor, size: Any, sparse_dim: int, dense_dim: int) -> tuple[int, ...]:
    if not t.is_sparse:
        raise _no_kernel(name, t)
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + dense_dim:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                           f"sparse_dim = {sparse_dim}, dense_dim = {dense_dim}")
    if t._vals.is_leaf and t._vals.requires_grad and lamina.is_grad_enabled():
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    return size


def _cleared(t: Tensor, size: tuple[int, ...], sparse_dim: int) -> Tensor:
    xp = t.device.backend.xp
    vals = lamina.zeros((0,) + size[sparse_dim:], dtype=t.dtype, device=t.device)
    t._coalesced = True                    # no entries: coalesced, as torch flags it
    return _set_state(t, xp.zeros((sparse_dim, 0), dtype=xp.int64), vals, size)


def sparse_resize_(self: Tensor, size: Any, sparse_dim: int, dense_dim: int) -> Tensor:
    """Resize a COO tensor in place to ``size`` with ``sparse_dim`` sparse and ``dense_dim`` dense dims."""
    size = _check("sparse_resize_", self, size, sparse_dim, dense_dim)
    if self._nnz() == 0:
        return _cleared(self, size, sparse_dim)
    old_sd, old_dd = self.sparse_dim(), self.dense_dim()
    if sparse_dim != old_sd:
        raise RuntimeError(f"changing the number of sparse dimensions (from {old_sd} to {sparse_dim})" + _HINT)
    if dense_dim != old_dd:
        raise RuntimeError(f"changing the number of dense dimensions (from {old_dd} to {dense_dim})" + _HINT)
    old = self._size
    if any(n < o for n, o in zip(size[:sparse_dim], old[:sparse_dim])):
        raise RuntimeError(f"shrinking the size of sparse dimensions (from {list(old[:sparse_dim])} to "
                           f"{list(size[:sparse_dim])})" + _HINT)
    if any(n < o for n, o in zip(size[sparse_dim:], old[sparse_dim:])):
        raise RuntimeError(f"shrinking the size of dense dimensions (from {list(old[sparse_dim:])} to "
                           f"{list(size[sparse_dim:])})" + _HINT)
    vals = self._vals
    grow = [(0, 0)] + [(0, n - o) for n, o in zip(size[sparse_dim:], old[sparse_dim:])]
    if any(g for _, g in grow):                       # new dense entries are zeros
        pad = [p for pair in reversed(grow) for p in pair]
        vals = lamina.nn.functional.pad(vals, pad)
    return _set_state(self, self._idx, vals, size)


def sparse_resize_and_clear_(self: Tensor, size: Any, sparse_dim: int, dense_dim: int) -> Tensor:
    """Resize a COO tensor in place and remove all its entries."""
    size = _check("sparse_resize_and_clear_", self, size, sparse_dim, dense_dim)
    return _cleared(self, size, sparse_dim)


def resize_as_sparse_(self: Tensor, the_template: Tensor) -> Tensor:
    """``self.sparse_resize_`` to the template's size and numbers of sparse and dense dims."""
    if not self.is_sparse:
        raise _no_kernel("resize_as_sparse_", self)
    if not the_template.is_sparse:
        raise RuntimeError("resize_as_sparse_: expected 'the_template' to be a sparse COO tensor, got layout "
                           f"{the_template.layout}")
    return sparse_resize_(self, the_template.shape, the_template.sparse_dim(), the_template.dense_dim())
