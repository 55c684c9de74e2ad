"""Sparse COO gradients in the engine (``nn.Embedding(sparse=True)`` and friends).

A Function's backward may return, for an input, a sparse COO tensor (a layout tensor a plugin
provides, made with the public ``lamina.sparse_coo_tensor``; the core never imports the plugin).
The engine then keeps it as is: no shape/dtype conforming, and it reaches a leaf's ``.grad``
sparse, as torch's. Sums follow torch's sparse add: sparse + sparse concatenates the two entry
lists (uncoalesced), except that when both value tensors are contiguous torch merges them (equal
heads summed: the plugin's ``+``); sparse + dense is dense. The engine sums new + old for one
backward pass (torch's input buffer), old + new into ``.grad``. A sparse gradient flowing into a
non-leaf node is made dense first (the core's backward formulas compute on strided arrays).

Gradients here are arrays (dense, first order) or Tensors (sparse, or any under ``create_graph``).
"""

from __future__ import annotations

from typing import Any

from .._tensor import Tensor


def is_sparse(g: Any) -> bool:
    """Whether ``g`` (an array or a Tensor) is a sparse layout tensor."""
    return isinstance(g, Tensor) and g.is_sparse


def dense(g: Tensor, create_graph: bool) -> Any:
    """The strided form of the sparse ``g``: a Tensor under ``create_graph``, else its array."""
    d = g.to_dense()
    return d if create_graph else d._data


def add(a: Any, b: Any, create_graph: bool) -> Any:
    """``a + b`` where either may be sparse: both sparse -> the layout's own sum, which merges the entries
    (torch concatenates them instead when a values tensor is not contiguous: same values, another nnz; an
    empty side gives the other as is); one dense -> dense (an array unless ``create_graph``)."""
    sa, sb = is_sparse(a), is_sparse(b)
    if sa and sb:
        if not b._nnz():
            return a
        if not a._nnz():
            return b
        return a + b
    if sa:
        a = dense(a, create_graph)
    if sb:
        b = dense(b, create_graph)
    if create_graph:
        a = a if isinstance(a, Tensor) else Tensor._make(a, b._device)
    return a + b


def accumulate(t: Tensor, g: Any, create_graph: bool) -> None:
    """``t.grad += g`` where ``g`` or the existing ``t.grad`` is sparse (torch's AccumulateGrad): None ->
    ``g``; old sparse + ``g`` -> ``add(old, g)``; a dense ``.grad`` takes a sparse ``g`` in place."""
    old = t._grad
    if old is None:
        t._grad = g if isinstance(g, Tensor) else Tensor._make(g, t._device)
    elif not is_sparse(old) and not old._requires_grad and not create_graph:
        old._data += dense(g, False)
        old._vc.v += 1
    else:
        s = add(old, g, create_graph)
        t._grad = s if isinstance(s, Tensor) else Tensor._make(s, t._device)
