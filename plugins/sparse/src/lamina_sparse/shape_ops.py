"""Shape ops that keep the COO layout: transpose / t (swapping two sparse dims)."""

from __future__ import annotations

from lamina import Tensor


def transpose(self: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two sparse dims (index rows swapped; the result is uncoalesced, as torch)."""
    from ._coo import make_coo

    n = self.ndim
    for d in (dim0, dim1):
        if not -max(n, 1) <= d < max(n, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of [{-max(n, 1)}, {max(n, 1) - 1}], "
                             f"but got {d})")
    d0, d1 = dim0 % max(n, 1), dim1 % max(n, 1)
    vals = self._vals.view_as(self._vals) if self._vals.requires_grad else self._vals
    size = list(self._size)
    size[d0], size[d1] = size[d1], size[d0]
    sd = self.sparse_dim()
    if d0 == d1:
        return make_coo(self._idx, vals, self._size, self._coalesced)
    if d0 < sd and d1 < sd:
        idx = self._idx.copy()
        idx[[d0, d1]] = idx[[d1, d0]]
        return make_coo(idx, vals, tuple(size), False)
    raise RuntimeError(f"sparse transpose: transposed dimensions must be sparse Got sparse_dim: {sd}, d0: {d0}, "
                       f"d1: {d1}")
