"""Making compressed tensors: ``sparse_compressed_tensor`` and its CSR/CSC/BSR/BSC forms (torch's checks and
messages), and conversions from dense, COO and the other compressed layouts (differentiable: the values
are gathered from the source).

Shapes: a 2-D (N, M) matrix; blocked layouts split it into (N / R, M / C) blocks of (R, C).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

from ._autograd import SparseCooTensorWithDimsAndTensors
from ._dispatch import layout_name
from .compressed import LAYOUTS, SparseCompressedTensor, layout_key, make_compressed


def _compress(xp: Any, comp: Any, n: int) -> Any:
    """Sorted compressed-dim positions (nnz,) -> compressed indices (n + 1,)."""
    out = xp.zeros(n + 1, dtype=xp.int64)
    out[1:] = xp.cumsum(xp.bincount(comp, minlength=n)) if comp.shape[0] else 0
    return out


def _blocksize(blocksize: Any) -> tuple[int, int]:
    if isinstance(blocksize, int):
        return (blocksize, blocksize)
    r, c = (int(b) for b in blocksize)
    return (r, c)


def to_compressed(x: Tensor, layout: Any, blocksize: Any, dense_dim: int | None, name: str) -> Tensor:
    """``x`` (dense, COO or compressed, 2-D) in the compressed ``layout``."""
    key = layout_key(layout)
    row, blocked, _, _, _ = LAYOUTS[key]
    if dense_dim:
        raise NotImplementedError(f"{name}: dense_dim is not supported by lamina-sparse")
    if blocked and blocksize is None:
        raise RuntimeError(f"dense_to_sparse: conversion from {layout_name(x)} to {layout_name(layout)} without "
                           f"blocksize argument given is not supported")
    if isinstance(x, SparseCompressedTensor):
        if x._layout_key == key and (not blocked or tuple(x._vals.shape[1:]) == _blocksize(blocksize)):
            return x
        if LAYOUTS[x._layout_key][1] and not blocked:
            raise RuntimeError(f"sparse_compressed_to_sparse_{key[7:]}: expected SparseCsr or SparseCsc layout but "
                               f"got {layout_name(x)}")
        x = x.to_sparse_coo() if not blocked else x.to_dense()
    if x.is_sparse:
        if blocked:
            x = x.to_dense()
        elif x.ndim != 2 or x.sparse_dim() != 2:
            raise RuntimeError(f"{name}: expected a 2-D sparse tensor with 2 sparse dims, got size {list(x.shape)}")
        else:
            c = (x if row else x.t()).coalesce()
            n = x.shape[0] if row else x.shape[1]
            return make_compressed(layout, _compress(c.device.backend.xp, c._idx[0], n), c._idx[1].copy(), c._vals,
                                   tuple(x.shape))
    if x.ndim != 2:
        raise NotImplementedError(f"{name}: expected a 2-D tensor, got {x.ndim}-D (batched compressed layouts are "
                                  f"not supported by lamina-sparse)")
    if not blocked:
        return to_compressed(x.to_sparse(), layout, None, None, name)
    return _dense_to_blocked(x, layout, _blocksize(blocksize), row)


def _dense_to_blocked(x: Tensor, layout: Any, block: tuple[int, int], row: bool) -> Tensor:
    (n, m), (r, c) = tuple(x.shape), block
    if r <= 0 or c <= 0 or n % r or m % c:
        raise RuntimeError(f"dense_to_sparse_{layout_key(layout)[7:]}: tensor sparse size ({n},{m}) must be divisible "
                           f"by given blocksize ({r},{c})")
    blocks = x.reshape(n // r, r, m // c, c).permute((0, 2, 1, 3) if row else (2, 0, 1, 3))  # (comp, plain, R, C)
    xp = x.device.backend.xp
    ci, pi = xp.nonzero(xp.any(blocks.detach().array != 0, axis=(2, 3)))
    ci, pi = ci.astype(xp.int64), pi.astype(xp.int64)
    vals = blocks[lamina.as_tensor(ci, device=x.device), lamina.as_tensor(pi, device=x.device)]   # (nnz, R, C)
    return make_compressed(layout, _compress(xp, ci, int(blocks.shape[0])), pi, vals, (n, m))


def to_sparse_csc(self: Tensor, dense_dim: int | None = None) -> Tensor:
    """The CSC form of a 2-D dense, COO or compressed tensor."""
    return to_compressed(self, lamina.sparse_csc, None, dense_dim, "to_sparse_csc")


def to_sparse_bsr(self: Tensor, blocksize: Any, dense_dim: int | None = None) -> Tensor:
    """The BSR form (blocks of ``blocksize`` (R, C)) of a 2-D tensor."""
    return to_compressed(self, lamina.sparse_bsr, blocksize, dense_dim, "to_sparse_bsr")


def to_sparse_bsc(self: Tensor, blocksize: Any, dense_dim: int | None = None) -> Tensor:
    """The BSC form (blocks of ``blocksize`` (R, C)) of a 2-D tensor."""
    return to_compressed(self, lamina.sparse_bsc, blocksize, dense_dim, "to_sparse_bsc")


def sparse_compressed_tensor(compressed_indices: Any, plain_indices: Any, values: Any, size: Any = None, *,
                             dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool = False,
                             requires_grad: bool = False, check_invariants: bool | None = None) -> Tensor:
    """A 2-D matrix in a compressed ``layout``. compressed_indices (n + 1,), plain_indices (nnz,), values (nnz,)
    or, blocked, (nnz, R, C) -> (N, M)."""
    key = "none" if layout is None else layout_key(layout)
    if key not in LAYOUTS:
        got = "none" if layout is None else layout_name(layout)
        raise RuntimeError(f"sparse_compressed_tensor expected sparse compressed tensor layout but got {got}")
    if pin_memory:
        raise NotImplementedError("sparse_compressed_tensor: pin_memory=True is not supported by lamina")
    row, blocked, cname, pname, _ = LAYOUTS[key]
    vals = values if isinstance(values, Tensor) else lamina.as_tensor(values, dtype=dtype, device=device)
    if dtype is not None or device is not None:
        vals = vals.to(device=device if device is not None else vals.device, dtype=dtype or vals.dtype)
    cidx = lamina.as_tensor(compressed_indices, device=vals.device).detach().to(lamina.int64).array
    pidx = lamina.as_tensor(plain_indices, device=vals.device).detach().to(lamina.int64).array
    if cidx.ndim != 1 or pidx.ndim != 1 or vals.ndim != (3 if blocked else 1):
        raise NotImplementedError(f"sparse_compressed_tensor: lamina-sparse supports 2-D {key[7:].upper()} without "
                                  f"batch or dense dims")
    if pidx.shape[0] != vals.shape[0]:
        raise RuntimeError(f"{pname} and values must have the same number of elements, but got {pidx.shape[0]} and "
                           f"{vals.shape[0]}")
    r, c = (int(vals.shape[1]), int(vals.shape[2])) if blocked else (1, 1)
    if size is None:
        n_comp, n_plain = int(cidx.shape[0]) - 1, int(pidx.max()) + 1 if pidx.shape[0] else 0
        size = (n_comp * r, n_plain * c) if row else (n_plain * r, n_comp * c)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise NotImplementedError(f"sparse_compressed_tensor: expected a 2-D size, got {list(size)}")
    if check_invariants:
        n_comp = size[0] // r if row else size[1] // c
        n_plain = size[1] // c if row else size[0] // r
        if cidx.shape[0] != n_comp + 1:
            raise RuntimeError(f"{cname}.size(-1) must be equal to size[{-2 if row else -1}] + 1 (that is "
                               f"{n_comp + 1}), but got: {cidx.shape[0]}")
        if pidx.shape[0] and (int(pidx.max()) >= n_plain or int(pidx.min()) < 0):
            raise RuntimeError(f"{pname} must be in [0, {n_plain})")
    if requires_grad:
        vals = vals.detach().requires_grad_(True)
    elif vals.requires_grad:
        vals = SparseCooTensorWithDimsAndTensors.apply(vals)
    else:
        vals = vals.detach()
    return make_compressed(getattr(lamina, key), cidx, pidx, vals, size)


def _make(layout: str, args: tuple, kw: dict) -> Tensor:
    return sparse_compressed_tensor(*args, layout=getattr(lamina, layout), **kw)


def sparse_csr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None) -> Tensor:
    """A 2-D CSR matrix. crow_indices (N + 1,), col_indices (nnz,), values (nnz,) -> (N, M)."""
    return _make("sparse_csr", (crow_indices, col_indices, values, size), dict(
        dtype=dtype, device=device, pin_memory=pin_memory, requires_grad=requires_grad,
        check_invariants=check_invariants))


def sparse_csc_tensor(ccol_indices: Any, row_indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None) -> Tensor:
    """A 2-D CSC matrix. ccol_indices (M + 1,), row_indices (nnz,), values (nnz,) -> (N, M)."""
    return _make("sparse_csc", (ccol_indices, row_indices, values, size), dict(
        dtype=dtype, device=device, pin_memory=pin_memory, requires_grad=requires_grad,
        check_invariants=check_invariants))


def sparse_bsr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None) -> Tensor:
    """A 2-D BSR matrix. crow_indices (N / R + 1,), col_indices (nnz,), values (nnz, R, C) -> (N, M)."""
    return _make("sparse_bsr", (crow_indices, col_indices, values, size), dict(
        dtype=dtype, device=device, pin_memory=pin_memory, requires_grad=requires_grad,
        check_invariants=check_invariants))


def sparse_bsc_tensor(ccol_indices: Any, row_indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None) -> Tensor:
    """A 2-D BSC matrix. ccol_indices (M / C + 1,), row_indices (nnz,), values (nnz, R, C) -> (N, M)."""
    return _make("sparse_bsc", (ccol_indices, row_indices, values, size), dict(
        dtype=dtype, device=device, pin_memory=pin_memory, requires_grad=requires_grad,
        check_invariants=check_invariants))
