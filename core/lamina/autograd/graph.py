"""A differentiable stand-in for ``xp`` used while ``create_graph=True``.

Backward formulas are written with operators and ``ctx.xp`` functions. For double backward the
engine hands them Tensors and this namespace, whose functions are lamina's differentiable ops (a
table the ``Tensor`` class declares as ``_graph_ops``), so the same formula records a graph.
Functions without a differentiable counterpart raise, naming the function, rather than silently
cutting the graph.
"""

from __future__ import annotations

from typing import Any


def increment_version(tensor: Any) -> None:
    """Count a write into ``tensor``'s storage made behind autograd's back (e.g. ``t.array[...] = v``).

    Graphs that saved the old values then refuse to backward through them, as for an in-place op.
    Core in-place ops, ``copy_``, ``load_state_dict`` and optimizer steps count their writes already.
    """
    tensor._vc.v += 1


class GraphNamespace:
    """``ctx.xp`` during double backward: differentiable ops under NumPy's names."""

    def __init__(self, real_xp: Any, ops: dict[str, Any]) -> None:
        self._real = real_xp
        self.__dict__.update(ops)

    def __getattr__(self, name: str) -> Any:
        if name in ("float32", "float64", "int64", "bool_", "newaxis", "pi", "inf", "nan", "e"):
            return getattr(self._real, name)
        raise NotImplementedError(
            f"double backward: this op's backward uses xp.{name}, which has no differentiable counterpart; "
            "create_graph=True is not supported through it")


_CACHE: dict[int, GraphNamespace] = {}


def graph_namespace(real_xp: Any, ops: Any) -> GraphNamespace:
    """The namespace for ``real_xp``; ``ops()`` gives the differentiable table (declared by ``Tensor``)."""
    ns = _CACHE.get(id(real_xp))
    if ns is None:
        ns = _CACHE[id(real_xp)] = GraphNamespace(real_xp, ops())
    return ns
