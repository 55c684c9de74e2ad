"""torch's sparse accessors as methods of every tensor: on a layout that lacks them (a dense tensor, or
``crow_indices`` of a CSC matrix) they raise torch's "<name> expected <layout> but got <Layout>" error;
``sparse_dim`` / ``dense_dim`` of a dense tensor are 0 and ``ndim``. Sparse classes define their own."""

from __future__ import annotations

from lamina import Tensor

from ._dispatch import layout_name

_COO = "sparse coordinate tensor layout"


def _refuse(name: str, expected: str, t: Tensor) -> RuntimeError:
    return RuntimeError(f"{name} expected {expected} but got {layout_name(t)}")


def coalesce(self: Tensor) -> Tensor:
    """Only sparse COO tensors coalesce."""
    raise _refuse("coalesce", _COO, self)


def indices(self: Tensor) -> Tensor:
    """Only sparse COO tensors have indices."""
    raise _refuse("indices", _COO, self)


def is_coalesced(self: Tensor) -> bool:
    """Only sparse COO tensors have the coalesced flag."""
    raise _refuse("is_coalesced", _COO, self)


def values(self: Tensor) -> Tensor:
    """Only sparse tensors have values."""
    raise _refuse("values", "sparse tensor layout", self)


def crow_indices(self: Tensor) -> Tensor:
    raise _refuse("crow_indices", "sparse row compressed tensor layout", self)


def col_indices(self: Tensor) -> Tensor:
    raise _refuse("col_indices", "sparse row compressed tensor layout", self)


def ccol_indices(self: Tensor) -> Tensor:
    raise _refuse("ccol_indices", "sparse column compressed tensor layout", self)


def row_indices(self: Tensor) -> Tensor:
    raise _refuse("row_indices", "sparse column compressed tensor layout", self)


def sparse_dim(self: Tensor) -> int:
    """A dense tensor has no sparse dims."""
    return 0


def dense_dim(self: Tensor) -> int:
    """Every dim of a dense tensor is dense."""
    return self.ndim


def smm(self: Tensor, mat: Tensor) -> Tensor:
    """Sparse-only: ``self`` must be a sparse COO matrix."""
    raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")


def sspaddmm(self: Tensor, mat1: Tensor, mat2: Tensor, *, beta: float = 1, alpha: float = 1) -> Tensor:
    """Sparse-only: ``self`` must be a sparse COO matrix."""
    raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")
