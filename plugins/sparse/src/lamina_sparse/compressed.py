"""Compressed sparse layouts: torch's CSR, CSC, BSR and BSC for 2-D matrices (no batch or dense dims).

One class per layout over a shared base. State: ``_cidx`` (n_compressed + 1,) and ``_pidx`` (nnz,) int64
``xp`` arrays (for the row layouts: crow/col over rows or block rows; for the column layouts:
ccol/row over columns or block columns), ``_vals`` (nnz,) or, blocked, (nnz, R, C), ``_size`` (N, M).
Products and ``to_dense`` go through an element-level COO view that shares the values (so a leaf keeps
its leaf values); torch's dense gradient of ``torch.mm`` / ``@`` on a leaf is collected by ``_sink``.
"""

from __future__ import annotations

import builtins
from typing import Any

import lamina
from lamina import Tensor
from lamina.ops.layouts import init_layout_tensor

from ._dispatch import ProductMethods, lamina_function
from ._guard import DenseStorageGuard, refuse_dense_methods

#: layout name -> (row layout?, blocked?, compressed-indices name, plain-indices name, torch's backend name)
LAYOUTS = {
    "sparse_csr": (True, False, "crow_indices", "col_indices", "SparseCsrCPU"),
    "sparse_csc": (False, False, "ccol_indices", "row_indices", "SparseCsrCPU"),
    "sparse_bsr": (True, True, "crow_indices", "col_indices", "SparseCsrCPU"),
    "sparse_bsc": (False, True, "ccol_indices", "row_indices", "SparseCsrCPU"),
}


def layout_key(layout: Any) -> str:
    return str(layout).split(".")[-1]


def make_compressed(layout: Any, cidx: Any, pidx: Any, values: Tensor, size: tuple[int, int]) -> Tensor:
    """A compressed tensor of ``layout`` from raw int64 index arrays and a values tensor."""
    key = layout_key(layout)
    cls = _CLASSES[key]
    t = object.__new__(cls)
    init_layout_tensor(t, DenseStorageGuard(size, values.array.dtype, LAYOUTS[key][4]), values.device)
    t._cidx, t._pidx, t._vals, t._size, t._sink = cidx, pidx, values, tuple(int(s) for s in size), None
    return t


class SparseCompressedTensor(ProductMethods, Tensor):
    """A 2-D sparse matrix in a compressed layout (CSR, CSC, BSR, BSC)."""

    __slots__ = ("_cidx", "_pidx", "_vals", "_size", "_sink")
    _layout_key = ""
    __lamina_function__ = classmethod(lamina_function)

    def __new__(cls, *args: Any, **kwargs: Any) -> SparseCompressedTensor:
        raise TypeError(f"{cls.__name__}: build compressed tensors with lamina.sparse_compressed_tensor or "
                        f"Tensor.to_sparse(layout=...)")

    is_sparse = property(lambda self: False, doc="False: a compressed layout is not COO.")
    is_sparse_csr = property(lambda self: self._layout_key == "sparse_csr", doc="True for CSR.")
    layout = property(lambda self: getattr(lamina, self._layout_key))  # type: ignore[assignment]
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

    ndimension = dim

    def numel(self) -> int:
        return self._size[0] * self._size[1]

    nelement = numel

    def sparse_dim(self) -> int:
        return 2

    def dense_dim(self) -> int:
        return 0

    def _nnz(self) -> int:
        return int(self._pidx.shape[0])

    def is_floating_point(self) -> builtins.bool:
        return self._vals.is_floating_point()

    def is_complex(self) -> builtins.bool:
        return self._vals.is_complex()

    def requires_grad_(self, requires_grad: builtins.bool = True) -> SparseCompressedTensor:
        self._vals.requires_grad_(requires_grad)
        return self

    # --- index and value accessors (torch names them per layout) -------------------------------
    def _indices_of(self, name: str) -> Tensor:
        _, _, cname, pname, _ = LAYOUTS[self._layout_key]
        if name not in (cname, pname):
            kind = "row" if name in ("crow_indices", "col_indices") else "column"
            from ._dispatch import layout_name

            raise RuntimeError(f"{name} expected sparse {kind} compressed tensor layout but got {layout_name(self)}")
        return lamina.as_tensor(self._cidx if name == cname else self._pidx, device=self.device)

    def crow_indices(self) -> Tensor:
        return self._indices_of("crow_indices")

    def col_indices(self) -> Tensor:
        return self._indices_of("col_indices")

    def ccol_indices(self) -> Tensor:
        return self._indices_of("ccol_indices")

    def row_indices(self) -> Tensor:
        return self._indices_of("row_indices")

    def values(self) -> Tensor:
        v = self._vals
        return v.view_as(v) if v.requires_grad else v.detach()

    # --- autograd -------------------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        """Dense where torch.mm / @ reached the leaf; else the values' gradient in this layout."""
        gv = self._vals.grad if self._vals.is_leaf else None
        gs = self._sink.grad if self._sink is not None else None
        sparse = None if gv is None else make_compressed(self.layout, self._cidx, self._pidx, gv.detach(),
                                                         self._size)
        if gs is None:
            return sparse
        return gs.detach() if sparse is None else gs.detach() + sparse.to_dense()

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            raise RuntimeError("grad: lamina-sparse supports only grad = None on a sparse tensor")
        self._vals.grad = None
        if self._sink is not None:
            self._sink.grad = None

    def _coo_view(self) -> Tensor:
        """The element-level COO form in this layout's entry order (uncoalesced unless CSR-sorted); for
        CSR/CSC it shares the values tensor; a leaf's dense gradient sink is shared in every layout."""
        from ._coo import make_coo

        xp = self.device.backend.xp
        row, blocked, _, _, _ = LAYOUTS[self._layout_key]
        comp = xp.repeat(xp.arange(int(self._cidx.shape[0]) - 1, dtype=xp.int64), xp.diff(self._cidx))
        rows, cols = (comp, self._pidx) if row else (self._pidx, comp)
        vals = self._vals
        if blocked:                                 # every element of each (R, C) block
            n, r, c = (int(s) for s in vals.shape)
            rows = xp.broadcast_to(rows[:, None, None] * r + xp.arange(r, dtype=xp.int64)[None, :, None], (n, r, c))
            cols = xp.broadcast_to(cols[:, None, None] * c + xp.arange(c, dtype=xp.int64)[None, None, :], (n, r, c))
            rows, cols, vals = rows.reshape(-1), cols.reshape(-1), vals.reshape(-1)
        n = int(rows.shape[0])                      # torch flags only a CSR's sorted entries as coalesced
        ordered = self._layout_key == "sparse_csr" and (n <= 1 or bool(
            xp.all((xp.diff(rows) > 0) | ((xp.diff(rows) == 0) & (xp.diff(cols) > 0)))))
        coo = make_coo(xp.stack([rows, cols]).astype(xp.int64), vals, self._size, ordered)
        if self._vals.is_leaf and self._vals.requires_grad and lamina.is_grad_enabled():
            if self._sink is None:                  # zero (N, M) stand-in for torch.mm's dense leaf gradient
                zero = xp.broadcast_to(xp.zeros((), dtype=vals.array.dtype), self._size)
                self._sink = lamina.as_tensor(zero, device=self.device).requires_grad_()
            coo._sink = self._sink
        return coo

    def detach(self) -> SparseCompressedTensor:
        return make_compressed(self.layout, self._cidx, self._pidx, self._vals.detach(), self._size)

    def clone(self, *, memory_format: Any = None) -> SparseCompressedTensor:
        return make_compressed(self.layout, self._cidx.copy(), self._pidx.copy(), self._vals.clone(), self._size)

    def to(self, *args: Any, **kwargs: Any) -> SparseCompressedTensor:
        vals = self._vals.to(*args, **kwargs)
        return self if vals is self._vals else make_compressed(self.layout, self._cidx, self._pidx, vals, self._size)

    # --- conversions (compressed_convert holds the code) ---------------------------------------
    def to_dense(self, dtype: Any = None, *, masked_grad: builtins.bool | None = None) -> Tensor:
        return self._coo_view().to_dense(dtype, masked_grad=masked_grad)

    def to_sparse_coo(self) -> Tensor:
        """COO in this layout's entry order (blocks element by element, row-major), as torch."""
        return self._coo_view()

    def to_sparse(self, *args: Any, **kwargs: Any) -> Tensor:
        from .creation import to_sparse

        return to_sparse(self, *args, **kwargs)

    def to_sparse_csr(self, dense_dim: int | None = None) -> Tensor:
        from .compressed_convert import to_compressed

        return to_compressed(self, lamina.sparse_csr, None, dense_dim, "to_sparse_csr")

    def to_sparse_csc(self, dense_dim: int | None = None) -> Tensor:
        from .compressed_convert import to_compressed

        return to_compressed(self, lamina.sparse_csc, None, dense_dim, "to_sparse_csc")

    def to_sparse_bsr(self, blocksize: Any, dense_dim: int | None = None) -> Tensor:
        from .compressed_convert import to_compressed

        return to_compressed(self, lamina.sparse_bsr, blocksize, dense_dim, "to_sparse_bsr")

    def to_sparse_bsc(self, blocksize: Any, dense_dim: int | None = None) -> Tensor:
        from .compressed_convert import to_compressed

        return to_compressed(self, lamina.sparse_bsc, blocksize, dense_dim, "to_sparse_bsc")

    def __repr__(self) -> str:
        from .formatting import compressed_repr

        return compressed_repr(self)


class SparseCsrTensor(SparseCompressedTensor):
    """A 2-D sparse CSR matrix."""

    __slots__ = ()
    _layout_key = "sparse_csr"


class SparseCscTensor(SparseCompressedTensor):
    """A 2-D sparse CSC matrix."""

    __slots__ = ()
    _layout_key = "sparse_csc"


class SparseBsrTensor(SparseCompressedTensor):
    """A 2-D block-sparse-row matrix: values (nnz, R, C)."""

    __slots__ = ()
    _layout_key = "sparse_bsr"


class SparseBscTensor(SparseCompressedTensor):
    """A 2-D block-sparse-column matrix: values (nnz, R, C)."""

    __slots__ = ()
    _layout_key = "sparse_bsc"


_CLASSES = {"sparse_csr": SparseCsrTensor, "sparse_csc": SparseCscTensor, "sparse_bsr": SparseBsrTensor,
            "sparse_bsc": SparseBscTensor}

refuse_dense_methods(SparseCompressedTensor, Tensor, "SparseCsrCPU")
