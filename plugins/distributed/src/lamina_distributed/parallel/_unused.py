"""Unused-parameter detection for ``find_unused_parameters=True``.

After forward, the autograd graphs of the output's tensors (``grad_fn.next_functions``, down to the
leaves' ``AccumulateGrad`` stand-ins and their ``variable``) show which parameters can get a gradient;
the others are ready at once. When the output holds several tensors, they pass through ``Sink``, an
identity Function whose backward runs first and sees which outputs got no gradient (the loss left
them out): parameters reachable only from those are ready then, before the rest of backward.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from lamina import Tensor
from lamina.autograd import Function


def find_tensors(obj: Any) -> Iterator[Tensor]:
    """Tensors in a forward's output: nested tuples, lists, dicts and dataclasses."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from find_tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from find_tensors(o)
    elif dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        for f in dataclasses.fields(obj):
            if f.init:  # what replace_tensors can rebuild
                yield from find_tensors(getattr(obj, f.name))


def replace_tensors(obj: Any, new: dict[int, Tensor]) -> Any:
    """``obj`` with each tensor whose id is in ``new`` replaced (the containers ``find_tensors`` walks)."""
    if isinstance(obj, Tensor):
        return new.get(id(obj), obj)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(replace_tensors(o, new) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(replace_tensors(o, new) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, replace_tensors(v, new)) for k, v in obj.items())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **{f.name: replace_tensors(getattr(obj, f.name), new)
                                           for f in dataclasses.fields(obj) if f.init})
    return obj


def reachable_leaves(outputs: Sequence[Tensor]) -> set[int]:
    """ids of the leaf tensors that the autograd graphs of ``outputs`` lead to (``grad_fn.next_functions``)."""
    leaves: set[int] = set()
    seen: set[int] = set()  # graph nodes live as long as the graph, so their ids are stable here
    stack = []
    for t in outputs:
        if t.grad_fn is None:
            if t.requires_grad:
                leaves.add(id(t))
        elif id(t.grad_fn) not in seen:
            seen.add(id(t.grad_fn))
            stack.append(t.grad_fn)
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is None:
                continue
            var = getattr(nxt, "variable", None)  # a leaf's AccumulateGrad stand-in, made afresh per call
            if var is not None:
                leaves.add(id(var))
            elif id(nxt) not in seen:
                seen.add(id(nxt))
                stack.append(nxt)
    return leaves


class Sink(Function):
    """Identity on several outputs; its backward tells ``on_backward`` which of them got a gradient.

    Shape: outputs (*) -> copies of the same shapes (copies, so that in-place use of an output cannot
    reach the module's own tensors through the sink)
    """

    @staticmethod
    def forward(ctx, on_backward, *outputs):
        ctx.set_materialize_grads(False)
        ctx.on_backward = on_backward
        return tuple(o.copy() for o in outputs)

    @staticmethod
    def backward(ctx, *grads):
        ctx.on_backward([g is not None for g in grads])
        return (None, *grads)


def detect(output: Any, params: Sequence[Tensor], mark_late: Callable[[list[int]], None]) -> tuple[Any, list[int]]:
    """(the output to return, indices of ``params`` that no output reaches).

    With several differentiable outputs, the returned output goes through :class:`Sink`, which calls
    ``mark_late(indices)`` at the start of backward with the parameters reached only from outputs
    that got no gradient.
    """
    tensors = list(find_tensors(output))
    reached = reachable_leaves(tensors)
    unused = [i for i, p in enumerate(params) if id(p) not in reached]
    through = [t for t in tensors if t.grad_fn is not None]
    if len(through) < 2:
        return output, unused
    per_output = [reachable_leaves([t]) for t in through]
    candidates = [i for i, p in enumerate(params) if id(p) in reached]

    def on_backward(has_grad: list[bool]) -> None:
        used: set[int] = set()
        for got, leaves in zip(has_grad, per_output):
            if got:
                used |= leaves
        late = [i for i in candidates if id(params[i]) not in used]
        if late:
            mark_late(late)

    sunk = Sink.apply(on_backward, *through)
    return replace_tensors(output, {id(t): s for t, s in zip(through, sunk)}), unused
