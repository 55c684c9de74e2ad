"""Making sparse tensors: ``sparse_coo_tensor`` (torch's checks and messages), ``Tensor.to_sparse`` /
``to_sparse_coo`` (differentiable: the values are gathered from the dense tensor), ``sparse_mask`` and
the dense ``to_dense`` (returns the tensor itself, as torch)."""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

from ._autograd import SparseCooTensorWithDimsAndTensors
from ._coo import SparseCooTensor, make_coo


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, *, dtype: Any = None, device: Any = None,
                      pin_memory: bool = False, requires_grad: bool = False, check_invariants: bool | None = None,
                      is_coalesced: bool | None = None) -> SparseCooTensor:
    """A sparse COO tensor. indices (sparse_dim, nnz) integer, values (nnz, *dense_shape) -> ``size``
    (inferred from the largest index per sparse dim when None)."""
    if pin_memory:
        raise NotImplementedError("sparse_coo_tensor: pin_memory=True is not supported by lamina")
    vals = values if isinstance(values, Tensor) else lamina.as_tensor(values, dtype=dtype, device=device)
    if vals.is_sparse:
        raise TypeError("sparse_coo_tensor(): argument 'values' must be a strided tensor, got a sparse one")
    if dtype is not None or device is not None:
        vals = vals.to(device=device if device is not None else vals.device, dtype=dtype or vals.dtype)
    idx_t = indices if isinstance(indices, Tensor) else lamina.as_tensor(indices, device=vals.device)
    if idx_t.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx_t.shape)}")
    idx = idx_t.detach().to(device=vals.device, dtype=lamina.int64).array
    sparse_dim, nnz = int(idx.shape[0]), int(idx.shape[1])
    if vals.ndim == 0 or int(vals.shape[0]) != nnz:
        got = vals.shape[0] if vals.ndim else 1
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, "
                           f"nnz from values: {got}")
    dense_shape = tuple(vals.shape[1:])
    if size is None:
        xp = vals.device.backend.xp
        size = tuple(int(m) + 1 for m in idx.max(axis=1).tolist()) if nnz else (0,) * sparse_dim
        size = size + dense_shape
        _check_bounds(xp, idx, size, negative_only=True)
    else:
        size = tuple(int(s) for s in (size if not isinstance(size, int) else (size,)))
        if len(size) != sparse_dim + len(dense_shape):
            raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                               f"sparse_dim = {sparse_dim}, dense_dim = {len(dense_shape)}")
        if tuple(size[sparse_dim:]) != dense_shape:
            raise RuntimeError(f"values has incorrect size, expected {[nnz, *size[sparse_dim:]]}, got "
                               f"{[nnz, *dense_shape]}")
        if check_invariants:
            _check_bounds(vals.device.backend.xp, idx, size)
    if requires_grad and not (vals.is_floating_point() or vals.is_complex()):
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
    if requires_grad:
        vals = vals.detach().requires_grad_(True)       # a leaf sparse tensor: its values are the leaf
    elif vals.requires_grad:
        vals = SparseCooTensorWithDimsAndTensors.apply(vals)
    else:
        vals = vals.detach()                            # shares storage, not autograd state
    return make_coo(idx, vals, size, bool(is_coalesced))


def _check_bounds(xp: Any, idx: Any, size: tuple[int, ...], negative_only: bool = False) -> None:
    if idx.shape[1] == 0:
        return
    lo, hi = idx.min(axis=1).tolist(), idx.max(axis=1).tolist()
    for d in range(idx.shape[0]):
        if lo[d] < 0:
            raise RuntimeError(f"found negative index {lo[d]} for dim {d}")
        if not negative_only and hi[d] >= size[d]:
            raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found index "
                               f"{hi[d]}")


def to_sparse(self: Tensor, sparseDims: int | None = None, *, layout: Any = None, blocksize: Any = None,  # noqa: N803
              dense_dim: int | None = None) -> Tensor:
    """A sparse copy: COO by default (its ``sparseDims`` leading dims sparse), CSR with layout=sparse_csr."""
    if layout is not None and layout is not lamina.sparse_coo:
        from .compressed import LAYOUTS
        from .compressed_convert import to_compressed

        key = str(layout).split(".")[-1]
        if key not in LAYOUTS:
            raise NotImplementedError(f"to_sparse: layout {layout!r} is not supported by lamina-sparse "
                                      f"(lamina.sparse_coo, sparse_csr, sparse_csc, sparse_bsr, sparse_bsc)")
        return to_compressed(self, layout, blocksize, dense_dim, f"to_{key}")
    if blocksize is not None:
        raise RuntimeError("to_sparse: blocksize is only for the block layouts (layout=lamina.sparse_bsr or "
                           "sparse_bsc)")
    if sparseDims is not None and dense_dim is not None:
        raise RuntimeError("to_sparse: sparseDims and dense_dim cannot be given together")
    if self.is_sparse:
        if sparseDims is not None and sparseDims != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with a different sparse_dim is not "
                               "supported")
        return self
    if str(self.layout) != "lamina.strided":            # a compressed layout
        return self.to_sparse_coo()
    sd = self.ndim - (dense_dim or 0) if sparseDims is None else int(sparseDims)
    if not 0 <= sd <= self.ndim:
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{self.ndim}] range, but {sd} is given")
    if sd == 0 and self.ndim > 0:
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when self.dim()>0")
    return _dense_to_coo(self, sd)


def to_sparse_coo(self: Tensor) -> Tensor:
    """The COO form (of a dense or CSR tensor); a COO tensor is returned as is."""
    return to_sparse(self)


def _dense_to_coo(x: Tensor, sparse_dim: int) -> SparseCooTensor:
    xp = x.device.backend.xp
    if sparse_dim == 0:                                  # a 0-d tensor: one entry, or none for a zero
        n = int(bool(x.array != 0))
        return make_coo(xp.zeros((0, n), dtype=xp.int64), x.reshape(1)[:n], (), True)
    a = x.array
    lead = a.reshape(a.shape[:sparse_dim] + (-1,)) if sparse_dim < a.ndim else a[..., None]
    nz = xp.nonzero(xp.any(lead != 0, axis=-1))           # row-major order: already coalesced
    idx = xp.stack([xp.asarray(n, dtype=xp.int64) for n in nz])
    vals = x[tuple(lamina.as_tensor(r, device=x.device) for r in idx)]
    return make_coo(idx, vals, tuple(x.shape), True)


def sparse_mask(self: Tensor, mask: Tensor) -> Tensor:
    """The entries of the dense ``self`` at ``mask``'s indices, as a sparse tensor with mask's pattern."""
    if not getattr(mask, "is_sparse", False):
        raise RuntimeError("sparse_mask: expected mask to be a sparse COO tensor, got a strided tensor")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size {list(self.shape)} "
                           f"but mask has size {list(mask.shape)}")
    if self.is_sparse:
        return sparse_mask(self.to_dense(), mask)
    vals = self[tuple(mask._indices())]
    return make_coo(mask._idx, vals, mask._size, mask.is_coalesced())


def to_dense(self: Tensor, dtype: Any = None, *, masked_grad: bool | None = None) -> Tensor:
    """A strided tensor's ``to_dense``: the tensor itself (or a copy in ``dtype``)."""
    return self if dtype is None else self.to(dtype)
