"""``SparseCooTensor``: torch's sparse COO layout as a ``lamina.Tensor`` subclass.

State: ``_idx`` an int64 ``xp`` array (sparse_dim, nnz), ``_vals`` a lamina tensor (nnz, *dense_shape)
that carries all autograd history, ``_size`` the full shape, ``_coalesced`` torch's flag. A leaf
sparse tensor that requires grad keeps a leaf values tensor; its ``grad`` is rebuilt from the values'
gradient on the coalesced pattern (what torch gives for torch.sparse.mm, to_dense, sum, ...), plus,
where torch makes it dense (torch.mm / @ on a leaf), a dense (N, K) part collected by ``_sink``.
The dense storage slot holds a guard (see ``_guard``): dense core ops refuse a sparse tensor.
"""

from __future__ import annotations

import builtins
from typing import Any

import lamina
from lamina import Tensor
from lamina.ops.layouts import init_layout_tensor

from ._autograd import Coalesce, ToDense
from ._dispatch import ProductMethods, lamina_function
from ._guard import DenseStorageGuard, refuse_dense_methods
from ._index import coalesce_plan, first_occurrence, linearize
from .arith import ArithMethods

_Size = lamina.Size


def _backend_name(device: Any) -> str:
    return "SparseCUDA" if device.type == "cuda" else "SparseCPU"


def make_coo(indices: Any, values: Tensor, size: tuple[int, ...], coalesced: bool) -> SparseCooTensor:
    """A sparse tensor from raw (sparse_dim, nnz) int64 indices and a values tensor (nnz, *D)."""
    t = object.__new__(SparseCooTensor)
    init_layout_tensor(t, DenseStorageGuard(size, values.array.dtype, _backend_name(values.device)), values.device)
    t._idx = indices
    t._vals = values
    t._size = tuple(int(s) for s in size)
    t._coalesced = bool(coalesced) or int(indices.shape[1]) <= 1
    t._sink = None
    t._idx_t = None
    return t


class SparseCooTensor(ArithMethods, ProductMethods, Tensor):
    """A sparse COO tensor: ``indices`` (sparse_dim, nnz), ``values`` (nnz, *dense_shape), ``size``."""

    __slots__ = ("_idx", "_vals", "_size", "_coalesced", "_sink", "_idx_t")
    __lamina_function__ = classmethod(lamina_function)   # lamina.mm / matmul / addmm with a sparse operand

    def __new__(cls, *args: Any, **kwargs: Any) -> SparseCooTensor:
        raise TypeError("SparseCooTensor: build sparse tensors with lamina.sparse_coo_tensor or Tensor.to_sparse()")

    # --- metadata -------------------------------------------------------------------------------
    is_sparse = property(lambda self: True, doc="True: a sparse COO tensor.")
    is_sparse_csr = property(lambda self: False, doc="False: COO, not CSR.")
    layout = property(lambda self: lamina.sparse_coo, doc="lamina.sparse_coo.")  # type: ignore[assignment]

    @property
    def shape(self) -> lamina.Size:
        return _Size(self._size)

    def size(self, dim: int | None = None) -> Any:
        return _Size(self._size) if dim is None else self._size[dim]

    @property
    def dtype(self) -> lamina.dtype:
        return self._vals.dtype

    @property
    def ndim(self) -> int:
        return len(self._size)

    def dim(self) -> int:
        return len(self._size)

    ndimension = dim

    def numel(self) -> int:
        n = 1
        for s in self._size:
            n *= s
        return n

    nelement = numel

    def __len__(self) -> int:
        if not self._size:
            raise TypeError("len() of a 0-d tensor")
        return self._size[0]

    def element_size(self) -> int:
        return self._vals.element_size()

    def is_floating_point(self) -> builtins.bool:
        return self._vals.is_floating_point()

    def is_complex(self) -> builtins.bool:
        return self._vals.is_complex()

    def sparse_dim(self) -> int:
        return int(self._idx.shape[0])

    def dense_dim(self) -> int:
        return self._vals.ndim - 1

    def _nnz(self) -> int:
        return int(self._idx.shape[1])

    def is_coalesced(self) -> builtins.bool:
        return self._coalesced

    def type(self, dtype: Any = None, non_blocking: builtins.bool = False) -> Any:
        """``x.type()``: the legacy type name (``lamina.sparse.FloatTensor``); ``x.type(dtype)`` casts."""
        from .legacy import LEGACY_TYPES, sparse_type_name

        if dtype is None:
            return sparse_type_name(self)
        if isinstance(dtype, str):
            name = dtype.rsplit(".", 1)[-1]
            if ".sparse." not in dtype or name not in LEGACY_TYPES:
                raise ValueError(f"invalid type: '{dtype}'")
            dtype = LEGACY_TYPES[name]
        return self.to(getattr(dtype, "dtype", dtype))

    def _indices(self) -> Tensor:
        """The indices (sparse_dim, nnz) as stored, coalesced or not."""
        if self._idx_t is None:
            self._idx_t = lamina.as_tensor(self._idx, device=self.device)
        return self._idx_t

    def _values(self) -> Tensor:
        """The values (nnz, *dense_shape) as stored (an alias: writes reach the sparse tensor)."""
        v = self._vals
        return v.view_as(v) if v.requires_grad else v.detach()

    def indices(self) -> Tensor:
        self._check_coalesced("indices")
        return self._indices()

    def values(self) -> Tensor:
        self._check_coalesced("values")
        return self._values()

    def _check_coalesced(self, what: str) -> None:
        if not self._coalesced:
            raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call .coalesce() first")

    # --- autograd state (carried by the values) --------------------------------------------------
    @property
    def requires_grad(self) -> builtins.bool:
        return self._vals.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: builtins.bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: builtins.bool = True) -> SparseCooTensor:
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self) -> Any:
        return self._vals.grad_fn

    @property
    def is_leaf(self) -> builtins.bool:
        return self._vals.is_leaf

    @property
    def grad(self) -> Tensor | None:
        """Sparse on the coalesced pattern (values' gradient; sorted, but flagged uncoalesced as torch's
        masked gradients are), dense where a dense gradient reached the leaf (torch.mm, dsmm, ...)."""
        gv = self._vals.grad if self._vals.is_leaf else None
        gs = self._sink.grad if self._sink is not None else None
        sparse = None
        if gv is not None:
            xp = _xp(self)
            uniq, inverse = coalesce_plan(xp, self._idx, self._size[:self.sparse_dim()])
            first = first_occurrence(xp, inverse, int(uniq.shape[1]))
            sparse = make_coo(uniq, gv.detach()[lamina.as_tensor(first, device=self.device)], self._size, False)
        if gs is None:
            return sparse
        return gs if sparse is None else gs + sparse.to_dense()   # gs keeps its graph after create_graph=True

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            raise RuntimeError("grad: lamina-sparse supports only grad = None on a sparse tensor")
        self._vals.grad = None
        if self._sink is not None:
            self._sink.grad = None

    def _dense_grad_sink(self) -> Tensor | None:
        """For a leaf that requires grad: the zero dense stand-in that collects torch's dense gradient (a
        compressed tensor's COO view carries its owner's)."""
        if self._sink is not None and lamina.is_grad_enabled():
            return self._sink
        if not (self._vals.is_leaf and self._vals.requires_grad and lamina.is_grad_enabled()):
            return None
        if self._sink is None:
            xp = _xp(self)
            zero = xp.broadcast_to(xp.zeros((), dtype=self._vals.array.dtype), self._size)
            self._sink = lamina.as_tensor(zero, device=self.device).requires_grad_()
        return self._sink

    def zero_(self) -> SparseCooTensor:
        """In place: no entries left (nnz 0, coalesced), as torch's (``zero_grad(set_to_none=False)``)."""
        xp = _xp(self)
        self._idx = xp.zeros((self.sparse_dim(), 0), dtype=xp.int64)
        self._vals = lamina.zeros((0, *self._vals.shape[1:]), dtype=self._vals.dtype, device=self.device)
        self._coalesced, self._idx_t, self._sink = True, None, None
        return self

    def detach(self) -> SparseCooTensor:
        return make_coo(self._idx, self._vals.detach(), self._size, self._coalesced)

    def clone(self, *, memory_format: Any = None) -> SparseCooTensor:
        return make_coo(self._idx.copy(), self._vals.clone(), self._size, self._coalesced)

    # --- conversions ---------------------------------------------------------------------------
    def to(self, *args: Any, **kwargs: Any) -> SparseCooTensor:
        vals = self._vals.to(*args, **kwargs)
        if vals is self._vals:
            return self
        idx = self._idx
        if vals.device != self.device:
            idx = self._indices().to(vals.device).array
        return make_coo(idx, vals, self._size, self._coalesced)

    def double(self) -> SparseCooTensor:
        return self.to(lamina.float64)

    def float(self) -> SparseCooTensor:
        return self.to(lamina.float32)

    def half(self) -> SparseCooTensor:
        return self.to(lamina.float16)

    def int(self) -> SparseCooTensor:
        return self.to(lamina.int32)

    def long(self) -> SparseCooTensor:
        return self.to(lamina.int64)

    def bool(self) -> SparseCooTensor:
        return self.to(lamina.bool)

    def cpu(self) -> SparseCooTensor:
        return self.to("cpu")

    def coalesce(self) -> SparseCooTensor:
        """Sorted unique indices; values of repeated indices summed (differentiable)."""
        if self._coalesced:
            return self
        uniq, inverse = coalesce_plan(_xp(self), self._idx, self._size[:self.sparse_dim()])
        vals = Coalesce.apply(self._vals, inverse, int(uniq.shape[1]))
        return make_coo(uniq, vals, self._size, True)

    def to_dense(self, dtype: Any = None, *, masked_grad: builtins.bool | None = None) -> Tensor:
        """The strided tensor; duplicates summed. The gradient to a leaf is masked to its pattern unless
        ``masked_grad=False`` (then dense, as torch)."""
        sd = self.sparse_dim()
        sizes = self._size[:sd]
        n = 1
        for s in sizes:
            n *= s
        lin = linearize(_xp(self), self._idx, sizes)
        sink = self._dense_grad_sink() if masked_grad is False else None
        vals = self._vals.detach() if sink is not None else self._vals
        out = ToDense.apply(vals, lin, n, self._size)
        if sink is not None:
            out = out + sink
        return out if dtype is None else out.to(dtype)

    def to_sparse(self, *args: Any, **kwargs: Any) -> Tensor:
        from .creation import to_sparse

        return to_sparse(self, *args, **kwargs)

    def to_sparse_coo(self) -> SparseCooTensor:
        return self

    def to_sparse_csr(self, dense_dim: int | None = None) -> Tensor:
        from .csr import to_sparse_csr

        return to_sparse_csr(self, dense_dim)

    def __reduce_ex__(self, protocol: Any) -> Any:
        from .creation import sparse_coo_tensor

        return (sparse_coo_tensor, (self._indices(), self._vals.detach(), self._size))

    def __deepcopy__(self, memo: dict) -> SparseCooTensor:
        t = make_coo(self._idx.copy(), self._vals.detach().clone().requires_grad_(self.requires_grad), self._size,
                     self._coalesced)
        memo[id(self)] = t
        return t

    def __repr__(self) -> str:
        from .formatting import coo_repr

        return coo_repr(self)

    # --- ops (their families' modules hold the code) --------------------------------------------
    def t(self) -> SparseCooTensor:
        return self.transpose(0, 1) if self.ndim == 2 else self

    def transpose(self, dim0: int, dim1: int) -> SparseCooTensor:
        from .shape_ops import transpose

        return transpose(self, dim0, dim1)

    def sum(self, dim: Any = None, keepdim: builtins.bool = False, *, dtype: Any = None) -> Tensor:
        from .reductions import sum as sparse_sum

        if keepdim:
            raise NotImplementedError("sum: keepdim=True is not supported for sparse COO tensors")
        return sparse_sum(self, dim, dtype=dtype)

    def smm(self, mat: Tensor) -> SparseCooTensor:
        from .products import smm

        return smm(self, mat)

    def sspaddmm(self, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> SparseCooTensor:
        from .products import sspaddmm

        return sspaddmm(self, mat1, mat2, beta=beta, alpha=alpha)


def _xp(t: Tensor) -> Any:
    return t.device.backend.xp


refuse_dense_methods(SparseCooTensor, Tensor, "SparseCPU")
