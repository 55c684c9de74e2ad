"""Flattening of nested arguments and results (tuples, lists, dicts, namedtuples) into leaves.

The function transforms map over the tensors inside whatever structure a function takes and
returns; a ``Spec`` records that structure so results can be rebuilt in the same shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Spec:
    """The structure of a flattened value: ``kind`` is ``leaf``, ``tuple``, ``list``, ``dict`` or ``namedtuple``."""

    kind: str
    children: tuple[Spec, ...] = ()
    context: Any = None  # dict keys, or the namedtuple class

    @property
    def num_leaves(self) -> int:
        return 1 if self.kind == "leaf" else sum(c.num_leaves for c in self.children)


LEAF = Spec("leaf")


def tree_flatten(obj: Any) -> tuple[list[Any], Spec]:
    """Leaves of ``obj`` in order, and its structure."""
    leaves: list[Any] = []
    return leaves, _flatten(obj, leaves)


def _flatten(obj: Any, leaves: list[Any]) -> Spec:
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return Spec("namedtuple", tuple(_flatten(v, leaves) for v in obj), type(obj))
    if isinstance(obj, (tuple, list)):
        return Spec(type(obj).__name__, tuple(_flatten(v, leaves) for v in obj))
    if isinstance(obj, dict):
        keys = tuple(obj)
        return Spec("dict", tuple(_flatten(obj[k], leaves) for k in keys), keys)
    leaves.append(obj)
    return LEAF


def tree_unflatten(leaves: list[Any], spec: Spec) -> Any:
    """Rebuild the value ``spec`` describes from ``leaves`` (the inverse of :func:`tree_flatten`)."""
    it = iter(leaves)
    return _unflatten(it, spec)


def _unflatten(it: Any, spec: Spec) -> Any:
    if spec.kind == "leaf":
        return next(it)
    values = [_unflatten(it, c) for c in spec.children]
    if spec.kind == "tuple":
        return tuple(values)
    if spec.kind == "list":
        return values
    if spec.kind == "dict":
        return dict(zip(spec.context, values))
    return spec.context(*values)


def tree_map(fn: Callable[[Any], Any], obj: Any) -> Any:
    """``obj`` with every leaf replaced by ``fn(leaf)``."""
    leaves, spec = tree_flatten(obj)
    return tree_unflatten([fn(v) for v in leaves], spec)


def broadcast_prefix(prefix: Any, obj: Any, what: str) -> list[Any]:
    """One entry of ``prefix`` per leaf of ``obj``: a leaf of ``prefix`` covers the whole subtree under it.

    ``in_dims=(0, None)`` for ``f(x, (a, b))`` gives ``[0, None, None]``.
    """
    out: list[Any] = []
    _broadcast(prefix, obj, out, what)
    return out


def _broadcast(prefix: Any, obj: Any, out: list[Any], what: str) -> None:
    if not isinstance(prefix, (tuple, list, dict)):
        out.extend([prefix] * tree_flatten(obj)[1].num_leaves)
        return
    if isinstance(prefix, dict):
        if not isinstance(obj, dict) or set(prefix) != set(obj):
            raise ValueError(f"{what} has a dict whose keys do not match the input's: {sorted(map(str, prefix))} "
                             f"vs {sorted(map(str, obj)) if isinstance(obj, dict) else type(obj).__name__}")
        for k in obj:
            _broadcast(prefix[k], obj[k], out, what)
        return
    if not isinstance(obj, (tuple, list)) or len(prefix) != len(obj):
        got = f"{type(obj).__name__} of {len(obj)}" if isinstance(obj, (tuple, list)) else type(obj).__name__
        raise ValueError(f"{what} has a {type(prefix).__name__} of {len(prefix)} entries where the input is a {got}")
    for p, o in zip(prefix, obj):
        _broadcast(p, o, out, what)
