"""Helpers the exporter tables share: operands, axes inputs across opsets, reshape targets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from lamina import Tensor

from .._call import Call, Value
from .._graph import GraphBuilder
from ..errors import UnsupportedOperatorError

INT64_MAX = np.iinfo(np.int64).max


def operand(g: GraphBuilder, call: Call, index: int, dtype: Any) -> str:
    """Argument ``index`` of the call as a value of ``dtype``: a traced tensor (cast when needed) or a
    Python number baked in as a constant (it must be the same in both traces)."""
    arg = call.args[index]
    if isinstance(arg, Tensor):
        v = call.value(arg)
        return g.cast(v.name, v.dtype, dtype)
    return g.constant(call.static(index), dtype)


def out(call: Call, k: int = 0) -> Value:
    return call.outputs[k]


def unary(g: GraphBuilder, call: Call, op_type: str, **attrs: Any) -> None:
    """``y = op_type(x)`` for the call's first tensor input, written to the call's output."""
    x = call.inputs[0]
    g.add_node(op_type, [g.cast(x.name, x.dtype, out(call).dtype)], [out(call).name], **attrs)


def axes_input(g: GraphBuilder, axes: Sequence[int]) -> str:
    return g.constant(list(axes), "int64")


def reduce(g: GraphBuilder, op_type: str, x: str, axes: Sequence[int] | None, keepdims: bool,
           output: str | None = None) -> str:
    """``Reduce*`` over ``axes`` (None: all); axes are an input from opset 18 (ReduceSum: 13), else an attribute."""
    outputs = [output] if output else 1
    as_input = op_type == "ReduceSum" or g.opset >= 18
    if axes is None:
        return g.add_node(op_type, [x], outputs, keepdims=int(keepdims))[0]
    if as_input:
        return g.add_node(op_type, [x, axes_input(g, axes)], outputs, keepdims=int(keepdims))[0]
    return g.add_node(op_type, [x], outputs, axes=list(axes), keepdims=int(keepdims))[0]


def unsqueeze(g: GraphBuilder, x: str, axes: Sequence[int]) -> str:
    return g.add_node("Unsqueeze", [x, axes_input(g, axes)])[0]


def reshape_target(call: Call, x: Value, y: Value) -> list[int]:
    """A Reshape target that stays right for other sizes of the dynamic axes.

    A static output dim is written as its size; a dynamic one that equals the input's dim at the same
    position in both traces as 0 (copy); at most one other dynamic dim as -1 (inferred).
    """
    target: list[int] = []
    inferred = 0
    for d, size in enumerate(y.shape):
        if d not in y.dynamic:
            target.append(size)
        elif d < x.rank and x.shape[d] == size and x.alt_shape[d] == y.alt_shape[d]:
            target.append(0)
        else:
            target.append(-1)
            inferred += 1
    if inferred > 1:
        call.fail(f"reshape {list(x.shape)} -> {list(y.shape)} has {inferred} output dims that follow dynamic "
                  "axes and are not copied from the input at the same position; one Reshape cannot express it")
    if 0 in target and 0 in y.shape:
        call.fail("reshape to a shape with a 0-sized dim together with a dynamic dim is not supported")
    return target


def dynamic_size(g: GraphBuilder, size: int, alt: int, *, multiples: bool = True) -> str | None:
    """A 1-element int64 value equal, in every run, to a dim of ``size`` (first trace) and ``alt``
    (second), made from the graph inputs' dynamic dims: one of them, the product of two, or (with
    ``multiples``) ``k`` times either. Exact matches are tried first. None: no match.

    The dynamic axes grow by a different step per symbol in the second trace, so dims that follow
    different axes have different (size, alt) pairs.
    """
    dims = [(v.name, d, v.shape[d], v.alt_shape[d]) for v in g.inputs for d in sorted(v.dynamic)]
    candidates: list[tuple[tuple[tuple[str, int], ...], int, int]] = [(((n, d),), p, q) for n, d, p, q in dims]
    for i, (n1, d1, p1, q1) in enumerate(dims):
        candidates += [(((n1, d1), (n2, d2)), p1 * p2, q1 * q2) for n2, d2, p2, q2 in dims[i + 1:]]
    exact = [c for c in candidates if (c[1], c[2]) == (size, alt)]
    scaled = [c for c in candidates if multiples and c[1] and c[2] and size % c[1] == 0 and alt % c[2] == 0
              and size // c[1] == alt // c[2]]
    for sources, p, _ in exact + scaled:
        name = None
        for value, d in sources:
            part = g.add_node("Gather", [g.add_node("Shape", [value])[0], g.constant([d])])[0]
            name = part if name is None else g.add_node("Mul", [name, part])[0]
        k = size // p
        assert name is not None  # every candidate has one source or two
        return name if k == 1 else g.add_node("Mul", [name, g.constant([k])])[0]
    return None


def reshape_shape(g: GraphBuilder, call: Call, x: Value, y: Value) -> str:
    """The shape input of a Reshape from ``x`` to ``y`` that stays right for other sizes of the dynamic
    axes: ``reshape_target``'s constant when it can express it; else a dim that follows dynamic axes
    is copied from a dim of ``x`` of the same sizes, or made from the graph inputs' dims (exact
    matches first), and one that is left is -1."""
    try:
        return g.constant(reshape_target(call, x, y))
    except UnsupportedOperatorError:
        pass
    pieces: list[str | None] = []
    shape = None
    for d, size in enumerate(y.shape):
        if d not in y.dynamic:
            pieces.append(g.constant([size]))
            continue
        same = [i for i in x.dynamic if (x.shape[i], x.alt_shape[i]) == (size, y.alt_shape[d])]
        if same:
            shape = shape or g.add_node("Shape", [x.name])[0]
            pieces.append(g.add_node("Gather", [shape, g.constant([same[0]])])[0])
        else:
            pieces.append(None)
    for multiples in (False, True):
        left = [d for d, p in enumerate(pieces) if p is None]
        if len(left) <= 1:
            break
        for d in left:
            pieces[d] = dynamic_size(g, y.shape[d], y.alt_shape[d], multiples=multiples)
    left = [d for d, p in enumerate(pieces) if p is None]
    if len(left) > 1:
        call.fail(f"reshape {list(x.shape)} -> {list(y.shape)}: {len(left)} output dims follow dynamic axes in a "
                  "way that neither the input's dims nor the graph inputs' dims explain")
    return g.add_node("Concat", [g.constant([-1]) if p is None else p for p in pieces], axis=0)[0]


def positive(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def axis_list(axes: Any, rank: int) -> list[int] | None:
    """Axes argument of a reduction as a sorted list of non-negative axes (None: all)."""
    if axes is None:
        return None
    if isinstance(axes, int):
        axes = (axes,)
    return sorted(positive(a, rank) for a in axes)
