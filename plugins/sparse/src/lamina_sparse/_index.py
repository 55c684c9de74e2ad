"""Index arithmetic on raw ``xp`` arrays: linear indices, coalescing plans, scatter-add, sorted merges.

Indices are int64 arrays of shape (sparse_dim, nnz); a linear index flattens them row-major over the
sparse sizes (what torch sorts by when it coalesces).
"""

from __future__ import annotations

from typing import Any


def linearize(xp: Any, indices: Any, sizes: tuple[int, ...]) -> Any:
    """(sparse_dim, nnz) -> (nnz,) row-major linear index over ``sizes``."""
    lin = xp.zeros(indices.shape[1], dtype=xp.int64)
    for d, s in enumerate(sizes):
        lin = lin * s + indices[d]
    return lin


def unravel(xp: Any, lin: Any, sizes: tuple[int, ...]) -> Any:
    """(n,) linear index -> (len(sizes), n) indices."""
    out = xp.zeros((len(sizes), lin.shape[0]), dtype=xp.int64)
    rest = lin
    for d in range(len(sizes) - 1, -1, -1):
        out[d] = rest % sizes[d] if sizes[d] else 0
        rest = rest // sizes[d] if sizes[d] else rest
    return out


def coalesce_plan(xp: Any, indices: Any, sizes: tuple[int, ...]) -> tuple[Any, Any]:
    """Sorted unique indices (sparse_dim, n_unique) and, per entry, the slot it is summed into (nnz,)."""
    lin = linearize(xp, indices, sizes)
    uniq, inverse = xp.unique(lin, return_inverse=True)
    return unravel(xp, uniq, sizes), inverse.reshape(-1)


def first_occurrence(xp: Any, inverse: Any, n: int) -> Any:
    """For each slot 0..n-1, the position of its first entry in ``inverse``."""
    first = xp.full(n, inverse.shape[0], dtype=xp.int64)
    xp.minimum.at(first, inverse, xp.arange(inverse.shape[0], dtype=xp.int64))
    return first


def scatter_add(xp: Any, index: Any, n: int, values: Any) -> Any:
    """out[index[k]] += values[k]: values (nnz, *D) -> (n, *D)."""
    out = xp.zeros((n,) + tuple(values.shape[1:]), dtype=values.dtype)
    xp.add.at(out, index, values)
    return out


def merge_sorted(xp: Any, lin_a: Any, lin_b: Any) -> tuple[Any, Any, Any]:
    """torch's merge of two entry lists read as sorted by linear index: walk both, take the smaller head,
    and sum the heads when equal. Returns the output slot of each entry of a and of b, and the slot count."""
    na, nb = int(lin_a.shape[0]), int(lin_b.shape[0])
    a, b = lin_a.tolist(), lin_b.tolist()
    slot_a, slot_b = [0] * na, [0] * nb
    i = j = k = 0
    while i < na and j < nb:
        if a[i] < b[j]:
            slot_a[i] = k
            i += 1
        elif a[i] > b[j]:
            slot_b[j] = k
            j += 1
        else:
            slot_a[i] = slot_b[j] = k
            i += 1
            j += 1
        k += 1
    for rest in range(i, na):
        slot_a[rest] = k
        k += 1
    for rest in range(j, nb):
        slot_b[rest] = k
        k += 1
    return xp.asarray(slot_a, dtype=xp.int64), xp.asarray(slot_b, dtype=xp.int64), k


def pair_join(xp: Any, keys_a: Any, keys_b: Any) -> tuple[Any, Any]:
    """All pairs (p, q) with keys_a[p] == keys_b[q] (the inner join of a sparse-sparse product)."""
    order = xp.argsort(keys_b, kind="stable")
    sorted_b = keys_b[order]
    start = xp.searchsorted(sorted_b, keys_a, side="left")
    stop = xp.searchsorted(sorted_b, keys_a, side="right")
    counts = stop - start
    p = xp.repeat(xp.arange(keys_a.shape[0], dtype=xp.int64), counts)
    offsets = xp.cumsum(counts) - counts
    within = xp.arange(int(counts.sum()), dtype=xp.int64) - xp.repeat(offsets, counts)
    q = order[xp.repeat(start, counts) + within]
    return p, q
