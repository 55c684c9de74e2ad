"""Reductions over a sparse COO tensor's pattern: ``torch.sparse.sum`` and ``softmax`` / ``log_softmax``
(the implicit zeros are absent entries, not zeros: a softmax is taken over the stored entries only).

Shapes: input size (*S, *D) with sparse dims S and dense dims D; values (nnz, *D).
"""

from __future__ import annotations

from typing import Any

from lamina import Tensor

from ._autograd import Coalesce, GroupSoftmax
from ._index import linearize


def _dims(dim: Any, ndim: int) -> tuple[int, ...]:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    n = max(ndim, 1)
    out = []
    for d in dims:
        if not -n <= d < n:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
        out.append(d % n)
    return tuple(sorted(set(out)))


def sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A001  (torch.sparse.sum)
    """All entries (a dense 0-d tensor), or over ``dim``: dense when every sparse dim is summed, else a
    coalesced sparse tensor over the remaining dims."""
    from ._coo import make_coo

    vals = input._vals if dtype is None else input._vals.to(dtype)
    if dim is None:
        return vals.sum()
    dims = _dims(dim, input.ndim)
    sd = input.sparse_dim()
    dense_dims = tuple(d - sd + 1 for d in dims if d >= sd)
    if dense_dims:
        vals = vals.sum(dense_dims)
    keep = [d for d in range(sd) if d not in dims]
    if not keep:
        return vals.sum(0)
    xp = input.device.backend.xp
    sizes = tuple(input._size[d] for d in keep)
    uniq, inverse = xp.unique(linearize(xp, input._idx[keep], sizes), return_inverse=True)
    out = Coalesce.apply(vals, inverse.reshape(-1), int(uniq.shape[0]))
    from ._index import unravel

    size = sizes + tuple(s for d, s in enumerate(input._size) if d >= sd and d not in dims)
    return make_coo(unravel(xp, uniq, sizes), out, size, True)


def _softmax(name: str, input: Tensor, dim: int, dtype: Any, log: bool) -> Tensor:
    from ._coo import make_coo

    if not input.is_sparse:
        raise RuntimeError(f"{name}: expected a sparse COO tensor, got a strided one")
    n = max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    dim %= n
    c = input.coalesce()
    vals = c._vals if dtype is None else c._vals.to(dtype)
    if not vals.is_floating_point():
        kind = {"int64": "Long", "int32": "Int", "bool": "Bool"}.get(str(vals.dtype).split(".")[-1], str(vals.dtype))
        raise NotImplementedError(f'"{name}" not implemented for \'{kind}\'')
    sd = c.sparse_dim()
    if dim >= sd:                                   # a dense dim: an ordinary softmax of each entry's values
        axis = dim - sd + 1
        out = vals.log_softmax(axis) if log else vals.softmax(axis)
        return make_coo(c._idx, out, c._size, True)
    xp = c.device.backend.xp
    others = [d for d in range(sd) if d != dim]
    sizes = tuple(c._size[d] for d in others)
    groups, group = xp.unique(linearize(xp, c._idx[others], sizes), return_inverse=True)
    out = GroupSoftmax.apply(vals, group.reshape(-1), int(groups.shape[0]), log)
    return make_coo(c._idx, out, c._size, True)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Softmax along ``dim`` over the stored entries (absent entries count as -inf, not 0). Same pattern."""
    return _softmax("softmax", input, dim, dtype, log=False)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Log-softmax along ``dim`` over the stored entries. Same pattern."""
    return _softmax("log_softmax", input, dim, dtype, log=True)
