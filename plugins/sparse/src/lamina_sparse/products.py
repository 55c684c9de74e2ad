"""Matrix products with sparse COO operands.

Gradients, as torch: the values (so any tensor they came from) always receive the gradient on their
pattern. A LEAF sparse tensor gets a sparse gradient on its coalesced pattern from torch.sparse.mm /
sparse.addmm / dsmm, and a dense one from torch.mm / spmm / matmul / ``@`` (torch's dense mm backward).

Shapes: sparse (N, K) with 2 sparse dims and no dense dim; dense (K, P) -> (N, P).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

from ._autograd import Coalesce, SparseDenseMM
from ._index import pair_join

_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble", "int64": "Long", "int32": "Int"}


def _sp(x: Any) -> bool:
    return isinstance(x, Tensor) and x.is_sparse


def _coo(x: Any) -> Any:
    """A compressed (CSR/CSC/BSR/BSC) operand as its element-level COO view; anything else as is."""
    from .compressed import SparseCompressedTensor

    return x._coo_view() if isinstance(x, SparseCompressedTensor) else x


def _type_name(dt: Any) -> str:
    return _TYPE_NAMES.get(str(dt).split(".")[-1], str(dt))


def _check(name: str, s: Tensor, d: Tensor) -> None:
    if s.ndim != 2 or s.sparse_dim() != 2:
        raise RuntimeError(f"{name}: expected a 2-D sparse matrix with 2 sparse dims, got size {list(s.shape)} "
                           f"with sparse_dim {s.sparse_dim()}")
    if d.ndim != 2:
        raise IndexError(f"Dimension out of range (expected to be in range of [-{max(d.ndim, 1)}, "
                         f"{max(d.ndim, 1) - 1}], but got {-2 if d.ndim == 1 else 1})")
    if int(d.shape[0]) != s.shape[1]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {s.shape[1]}, got {d.shape[0]}")
    if d.dtype != s.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(s.dtype)} but found {_type_name(d.dtype)}")


def _sparse_dense(name: str, s: Tensor, d: Tensor, dense_grad: bool) -> Tensor:
    _check(name, s, d)
    sink = s._dense_grad_sink() if dense_grad else None
    vals = s._vals.detach() if sink is not None else s._vals
    return SparseDenseMM.apply(vals, d, sink, s._idx[0], s._idx[1], s.shape[0])


def _sparse_sparse(a: Tensor, b: Tensor) -> Tensor:
    """(N, K) sparse @ (K, P) sparse -> (N, P) sparse, coalesced; differentiable in both values."""
    from ._coo import make_coo

    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: expected (N, K) @ (K, P) sparse matrices, got {list(a.shape)} and {list(b.shape)}")
    xp = a.device.backend.xp
    p, q = pair_join(xp, a._idx[1], b._idx[0])
    dev = a.device
    prod = a._vals[lamina.as_tensor(p, device=dev)] * b._vals[lamina.as_tensor(q, device=dev)]
    lin = a._idx[0][p] * b.shape[1] + b._idx[1][q]
    uniq, inverse = xp.unique(lin, return_inverse=True)
    vals = Coalesce.apply(prod, inverse.reshape(-1), int(uniq.shape[0]))
    idx = xp.stack([uniq // max(b.shape[1], 1), uniq % max(b.shape[1], 1)]).astype(xp.int64)
    return make_coo(idx, vals, (a.shape[0], b.shape[1]), True)


def _dense_sparse(d: Tensor, s: Tensor, dense_grad: bool) -> Tensor:
    """(N, K) dense @ (K, P) sparse = (s^T @ d^T)^T. A leaf's dense gradient (torch.mm's, d^T @ dy) reaches
    it through ``d @ sink`` (the sink is zero: the value is unchanged)."""
    sink = s._dense_grad_sink() if dense_grad else None
    if sink is None:
        return _sparse_dense("mm", s.t(), d.t(), dense_grad=False).t()
    return _sparse_dense("mm", s.detach().t(), d.t(), dense_grad=False).t() + lamina.mm(d, sink)


def sparse_mm(mat1: Tensor, mat2: Tensor, reduce: str | None = None) -> Tensor:
    """``torch.sparse.mm``: sparse @ dense -> dense, sparse @ sparse -> sparse; leaf gradients sparse."""
    if reduce is not None:
        raise NotImplementedError("sparse.mm: reduce= (for CSR inputs) is not supported by lamina-sparse")
    mat1, mat2 = _coo(mat1), _coo(mat2)
    if _sp(mat1) and _sp(mat2):
        return _sparse_sparse(mat1, mat2)
    if _sp(mat1):
        return _sparse_dense("sparse.mm", mat1, mat2, dense_grad=False)
    if _sp(mat2):
        return _dense_sparse(mat1, mat2, dense_grad=False)
    return lamina.mm(mat1, mat2)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """``torch.mm`` with a sparse operand: a leaf sparse input gets torch's dense gradient."""
    input, mat2 = _coo(input), _coo(mat2)
    if _sp(input) and _sp(mat2):
        return _sparse_sparse(input, mat2)
    if _sp(input):
        return _sparse_dense("mm", input, mat2, dense_grad=True)
    if _sp(mat2):
        return _dense_sparse(input, mat2, dense_grad=True)
    return lamina.mm(input, mat2)


spmm = mm


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """``torch.matmul`` with a sparse 2-D operand: matrix (or matrix-vector) product."""
    input, other = _coo(input), _coo(other)
    if _sp(input) and not _sp(other) and other.ndim == 1:
        return mm(input, other.reshape(-1, 1)).reshape(-1)
    if _sp(other) and not _sp(input) and input.ndim == 1:
        return mm(input.reshape(1, -1), other).reshape(-1)
    return mm(input, other)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    """``torch.mv``: sparse (N, K) @ dense (K,) -> dense (N,); a leaf sparse input gets torch's dense gradient."""
    input = _coo(input)
    if not _sp(input) or _sp(vec) or input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"mv: two tensor dim should be 2 and 1, but got {'Sparse' if _sp(input) else ''}Tensor "
                           f"Dim: {input.ndim}{'Sparse' if _sp(vec) else ''}Tensor Dim: {vec.ndim}")
    if int(vec.shape[0]) != input.shape[1]:
        raise RuntimeError("mv: expected self.size(-1) == vec.size(-1)")
    return mm(input, vec.reshape(-1, 1)).reshape(-1)


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1.0, alpha: Any = 1.0) -> Tensor:
    """``torch.sparse.addmm``: beta * mat + alpha * (mat1 @ mat2), mat1 sparse (N, K), mat2 dense (K, P)."""
    prod = sparse_mm(mat1, mat2)
    out = prod if alpha == 1 else prod * alpha
    if beta == 0:
        return out
    return out + (mat if beta == 1 else mat * beta)


def dsmm(input: Tensor, mat: Tensor) -> Tensor:
    """Dense result of sparse (N, K) @ dense (K, P) (torch.dsmm: torch.mm's gradients)."""
    return mm(input, mat)


def hspmm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """Hybrid sparse result (N, P) with 1 sparse dim: the product's rows where mat1 has entries."""
    from ._coo import make_coo

    prod = _sparse_dense("hspmm", mat1, mat2, dense_grad=False)
    xp = mat1.device.backend.xp
    rows = xp.unique(mat1._idx[0])
    return make_coo(rows[None, :].astype(xp.int64), prod[lamina.as_tensor(rows, device=mat1.device)],
                    tuple(prod.shape), False)


hsmm = hspmm


def smm(input: Tensor, mat: Tensor) -> Tensor:
    """Sparse (N, P) result of sparse (N, K) @ dense (K, P): every column of each row where input has entries."""
    from ._coo import make_coo

    h = hspmm(input, mat)
    xp = input.device.backend.xp
    rows, p = h._idx[0], int(mat.shape[1])
    idx = xp.stack([xp.repeat(rows, p), xp.tile(xp.arange(p, dtype=xp.int64), rows.shape[0])])
    return make_coo(idx, h._vals.reshape(-1), (input.shape[0], p), False)


def sspaddmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """Sparse beta * input + alpha * (mat1 @ mat2): input's entries, then the product's rows (uncoalesced)."""
    from ._coo import make_coo

    if not _sp(input):
        raise RuntimeError("sspaddmm: expected 'input' to be a sparse COO tensor")
    prod = smm(mat1, mat2)
    if tuple(input.shape) != tuple(prod.shape):
        raise RuntimeError(f"sspaddmm: Argument #1 (t): Expected dim 0 size {prod.shape[0]}, got {input.shape[0]}"
                           if input.shape[0] != prod.shape[0] else
                           f"sspaddmm: Argument #1 (t): Expected dim 1 size {prod.shape[1]}, got {input.shape[1]}")
    xp = input.device.backend.xp
    vals = lamina.cat([input._vals * beta, prod._vals * alpha])
    return make_coo(xp.concatenate([input._idx, prod._idx], axis=1), vals, tuple(input.shape), False)


saddmm = sspaddmm
