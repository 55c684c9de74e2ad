"""``SparseCsrTensor``: torch's sparse CSR layout for 2-D matrices (no batch or dense dims), as far as it
follows from COO: construction, ``crow_indices`` / ``col_indices`` / ``values``, ``to_dense``,
conversions both ways and ``csr @ dense`` (gradients reach the values, as torch).

State: ``_crow`` (N + 1,), ``_col`` (nnz,) int64 ``xp`` arrays, ``_vals`` (nnz,), ``_size`` (N, M).
"""

from __future__ import annotations

import builtins
from typing import Any

import lamina
from lamina import Tensor

from ._autograd import SparseCooTensorWithDimsAndTensors
from ._guard import DenseStorageGuard, refuse_dense_methods


def make_csr(crow: Any, col: Any, values: Tensor, size: tuple[int, int]) -> SparseCsrTensor:
    t = object.__new__(SparseCsrTensor)
    Tensor.__init__(t, 0, dtype=values.dtype, device=values.device)
    t._data = DenseStorageGuard(size, values.array.dtype, "SparseCsrCPU")
    t._crow, t._col, t._vals, t._size = crow, col, values, tuple(int(s) for s in size)
    return t


class SparseCsrTensor(Tensor):
    """A 2-D sparse CSR matrix."""

    __slots__ = ("_crow", "_col", "_vals", "_size")

    def __new__(cls, *args: Any, **kwargs: Any) -> SparseCsrTensor:
        raise TypeError("SparseCsrTensor: build CSR tensors with lamina.sparse_csr_tensor or Tensor.to_sparse_csr()")

    is_sparse = property(lambda self: False, doc="False: CSR is not the COO layout.")
    is_sparse_csr = property(lambda self: True, doc="True.")
    layout = property(lambda self: lamina.sparse_csr, doc="lamina.sparse_csr.")  # type: ignore[assignment]
    shape = property(lambda self: lamina.Size(self._size))
    dtype = property(lambda self: self._vals.dtype)
    ndim = property(lambda self: 2)
    requires_grad = property(lambda self: self._vals.requires_grad)
    grad_fn = property(lambda self: self._vals.grad_fn)
    is_leaf = property(lambda self: self._vals.is_leaf)

    def size(self, dim: int | None = None) -> Any:
        return lamina.Size(self._size) if dim is None else self._size[dim]

    def dim(self) -> int:
        return 2

    def numel(self) -> int:
        return self._size[0] * self._size[1]

    def _nnz(self) -> int:
        return int(self._col.shape[0])

    def crow_indices(self) -> Tensor:
        return lamina.as_tensor(self._crow, device=self.device)

    def col_indices(self) -> Tensor:
        return lamina.as_tensor(self._col, device=self.device)

    def values(self) -> Tensor:
        v = self._vals
        return v.view_as(v) if v.requires_grad else v.detach()

    def is_floating_point(self) -> builtins.bool:
        return self._vals.is_floating_point()

    def to_sparse_coo(self) -> Tensor:
        from ._coo import make_coo

        xp = self.device.backend.xp
        rows = xp.repeat(xp.arange(self._size[0], dtype=xp.int64), xp.diff(self._crow))
        idx = xp.stack([rows, self._col])
        sorted_cols = bool(xp.all((xp.diff(self._col) > 0) | (xp.diff(rows) > 0))) if self._nnz() > 1 else True
        return make_coo(idx, self._vals, self._size, sorted_cols)

    def to_sparse(self, *args: Any, **kwargs: Any) -> Tensor:
        from .creation import to_sparse

        return to_sparse(self, *args, **kwargs)

    def to_sparse_csr(self, dense_dim: int | None = None) -> SparseCsrTensor:
        return self

    def to_dense(self, dtype: Any = None, *, masked_grad: builtins.bool | None = None) -> Tensor:
        return self.to_sparse_coo().to_dense(dtype, masked_grad=masked_grad)

    def matmul(self, other: Tensor) -> Tensor:
        from .products import sparse_mm

        return sparse_mm(self.to_sparse_coo(), other)

    mm = __matmul__ = matmul

    def detach(self) -> SparseCsrTensor:
        return make_csr(self._crow, self._col, self._vals.detach(), self._size)

    def __repr__(self) -> str:
        from .formatting import csr_repr

        return csr_repr(self)


refuse_dense_methods(SparseCsrTensor, Tensor, "SparseCsrCPU")


def coo_to_csr(s: Tensor, dense_dim: int | None = None) -> SparseCsrTensor:
    """A 2-D COO tensor (coalesced first) as CSR."""
    if dense_dim:
        raise NotImplementedError("to_sparse_csr: dense_dim is not supported by lamina-sparse")
    if s.ndim != 2 or s.sparse_dim() != 2:
        raise RuntimeError(f"to_sparse_csr: expected a 2-D sparse tensor with 2 sparse dims, got size "
                           f"{list(s.shape)}")
    c = s.coalesce()
    xp = c.device.backend.xp
    crow = xp.zeros(c.shape[0] + 1, dtype=xp.int64)
    crow[1:] = xp.cumsum(xp.bincount(c._idx[0], minlength=c.shape[0]))
    return make_csr(crow, c._idx[1].copy(), c._vals, tuple(c.shape))


def to_sparse_csr(self: Tensor, dense_dim: int | None = None) -> Tensor:
    """The CSR form of a dense or COO 2-D matrix."""
    if getattr(self, "is_sparse_csr", False):
        return self
    if not self.is_sparse:
        if self.ndim != 2:
            raise RuntimeError(f"to_sparse_csr: expected a 2-D tensor, got {self.ndim}-D (batched CSR is not "
                               f"supported by lamina-sparse)")
        self = self.to_sparse()
    return coo_to_csr(self, dense_dim)


def sparse_csr_tensor(crow_indices: Any, col_indices: Any, values: Any, size: Any = None, *, dtype: Any = None,
                      device: Any = None, pin_memory: bool = False, requires_grad: bool = False,
                      check_invariants: bool | None = None) -> SparseCsrTensor:
    """A 2-D CSR matrix. crow_indices (N + 1,), col_indices (nnz,), values (nnz,) -> (N, M)."""
    if pin_memory:
        raise NotImplementedError("sparse_csr_tensor: pin_memory=True is not supported by lamina")
    vals = values if isinstance(values, Tensor) else lamina.as_tensor(values, dtype=dtype, device=device)
    if dtype is not None or device is not None:
        vals = vals.to(device=device if device is not None else vals.device, dtype=dtype or vals.dtype)
    crow = lamina.as_tensor(crow_indices, device=vals.device).detach().to(lamina.int64).array
    col = lamina.as_tensor(col_indices, device=vals.device).detach().to(lamina.int64).array
    if crow.ndim != 1 or col.ndim != 1 or vals.ndim != 1:
        raise NotImplementedError("sparse_csr_tensor: lamina-sparse supports 2-D CSR without batch or dense dims")
    if col.shape[0] != vals.shape[0]:
        raise RuntimeError(f"col_indices and values must have the same number of elements, but got "
                           f"{col.shape[0]} and {vals.shape[0]}")
    if size is None:
        size = (int(crow.shape[0]) - 1, int(col.max()) + 1 if col.shape[0] else 0)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise NotImplementedError(f"sparse_csr_tensor: expected a 2-D size, got {list(size)}")
    if check_invariants:
        if crow.shape[0] != size[0] + 1:
            raise RuntimeError(f"crow_indices.size(-1) must be equal to size[-2] + 1 (that is {size[0] + 1}), but "
                               f"got: {crow.shape[0]}")
        if col.shape[0] and (int(col.max()) >= size[1] or int(col.min()) < 0):
            raise RuntimeError(f"col_indices must be in [0, {size[1]}) (the number of columns)")
    if requires_grad:
        vals = vals.detach().requires_grad_(True)
    elif vals.requires_grad:
        vals = SparseCooTensorWithDimsAndTensors.apply(vals)
    else:
        vals = vals.detach()
    return make_csr(crow, col, vals, size)
