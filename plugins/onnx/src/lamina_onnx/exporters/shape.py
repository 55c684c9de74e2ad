"""Exporters for the core's shape and indexing ops: reshape/view/flatten/squeeze, permute/transpose,
expand, cat/stack, indexing with ints/slices/None/Ellipsis and one index tensor, index assignment
(``x[key] = v``), gather, where."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from typing import Any

import numpy as np
from lamina import Tensor

from .._call import Call
from .._graph import GraphBuilder
from ._common import INT64_MAX, dynamic_size, operand, out, positive, reshape_shape, unsqueeze


def _reshape(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    g.add_node("Reshape", [x.name, reshape_shape(g, call, x, y)], [y.name])


def _permute(g: GraphBuilder, call: Call) -> None:
    g.add_node("Transpose", [call.inputs[0].name], [out(call).name], perm=[int(a) for a in call.args[1]])


def _expand(g: GraphBuilder, call: Call) -> None:
    """Expand to the traced shape; a dim the input already has is written 1 (kept, so it may be dynamic);
    a dim broadcast to a size that follows dynamic axes is taken from the graph inputs' dims."""
    x, y = call.inputs[0], out(call)
    lead = y.rank - x.rank
    pieces: list[int | str] = []
    for j, size in enumerate(y.shape):
        i = j - lead
        if i >= 0 and x.shape[i] == size and x.alt_shape[i] == y.alt_shape[j]:
            pieces.append(1)
        elif j in y.dynamic:
            source = dynamic_size(g, size, y.alt_shape[j])
            if source is None:
                call.fail(f"expand {list(x.shape)} -> {list(y.shape)} broadcasts dim {j} to a size that follows "
                          "dynamic axes but matches no graph input's dim")
            pieces.append(source)
        else:
            pieces.append(size)
    if all(isinstance(p, int) for p in pieces):
        target = g.constant(pieces)
    else:
        target = g.add_node("Concat", [p if isinstance(p, str) else g.constant([p]) for p in pieces], axis=0)[0]
    g.add_node("Expand", [x.name, target], [y.name])


def _cat(g: GraphBuilder, call: Call) -> None:
    y = out(call)
    names = [g.cast(v.name, v.dtype, y.dtype) for v in call.inputs]
    g.add_node("Concat", names, [y.name], axis=positive(int(call.args[0]), y.rank))


def _stack(g: GraphBuilder, call: Call) -> None:
    y = out(call)
    axis = positive(int(call.args[0]), y.rank)
    names = [unsqueeze(g, g.cast(v.name, v.dtype, y.dtype), [axis]) for v in call.inputs]
    g.add_node("Concat", names, [y.name], axis=axis)


def _flip(g: GraphBuilder, call: Call) -> None:
    x = call.inputs[0]
    axes = [positive(int(a), x.rank) for a in call.args[1]]
    g.add_node("Slice", [x.name, g.constant([-1] * len(axes)), g.constant([-INT64_MAX - 1] * len(axes)),
                         g.constant(axes), g.constant([-1] * len(axes))], [out(call).name])


def _tile(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    reps = [int(r) for r in call.static(1)]
    reps = [1] * (x.rank - len(reps)) + reps
    name = x.name
    if len(reps) > x.rank:
        name = unsqueeze(g, name, list(range(len(reps) - x.rank)))
    g.add_node("Tile", [name, g.constant(reps)], [y.name])


def _slice_bounds(part: slice) -> tuple[int, int, int]:
    step = 1 if part.step is None else int(part.step)
    if step > 0:
        start = 0 if part.start is None else int(part.start)
        stop = INT64_MAX if part.stop is None else int(part.stop)
    else:
        start = INT64_MAX if part.start is None else int(part.start)
        stop = -INT64_MAX - 1 if part.stop is None else int(part.stop)
    return start, stop, step


def _getitem(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    g.add_node("Identity", [_select(g, call, x.name, x.rank)], [y.name])


def _select(g: GraphBuilder, call: Call, name: str, rank: int) -> str:
    """``name[key]`` for the call's key (argument 1) on a value of ``rank`` dims: ints and slices become
    one Slice (+ Squeeze), None an Unsqueeze, one index tensor a Gather."""
    key: tuple = call.args[1]
    advanced = [i for i, k in enumerate(key) if not (k is None or k is Ellipsis or isinstance(k, (int, slice)))]
    if not advanced:
        key = call.static(1)
    consuming = sum(1 for k in key if k is not None and k is not Ellipsis)
    if consuming > rank:
        call.fail(f"index {key!r} has more entries than the tensor's {rank} dims")
    if len(advanced) > 1:
        call.fail("indexing with more than one index tensor/list is not supported")
    starts, ends, axes, steps, squeeze, new_axes, gather = [], [], [], [], [], [], None
    d = 0  # the input dim the next key part indexes
    o = 0  # the output dim it lands on
    for part in key:
        if part is Ellipsis:
            skip = rank - consuming
            d, o = d + skip, o + skip
        elif part is None:
            new_axes.append(o)
            o += 1
        elif isinstance(part, int):
            starts.append(part)
            ends.append(part + 1 if part != -1 else INT64_MAX)
            axes.append(d)
            steps.append(1)
            squeeze.append(d)
            d += 1
        elif isinstance(part, slice):
            if part != slice(None):
                start, stop, step = _slice_bounds(part)
                starts.append(start)
                ends.append(stop)
                axes.append(d)
                steps.append(step)
            d, o = d + 1, o + 1
        else:
            gather = (d, part)
            d, o = d + 1, o + 1
    if starts:
        name = g.add_node("Slice", [name, g.constant(starts), g.constant(ends), g.constant(axes),
                                    g.constant(steps)])[0]
    if gather is not None:
        name = _gather_index(g, call, name, gather[0], gather[1], squeeze)
    if squeeze:
        name = g.add_node("Squeeze", [name, g.constant(squeeze)])[0]
    if new_axes:
        name = unsqueeze(g, name, new_axes)
    return name


def _gather_index(g: GraphBuilder, call: Call, name: str, dim: int, index: Any, squeeze: list[int]) -> str:
    if id(index) in call.refs:  # an index tensor's array (traced, or a constant)
        idx = call.value(index)
        idx_dtype, idx_name = idx.dtype, idx.name
    else:  # a list
        index = np.asarray(index)
        idx_dtype, idx_name = index.dtype, g.constant(index, "int64")
    if np.dtype(idx_dtype) == np.bool_:
        call.fail("indexing with a boolean mask is not supported (its result's size depends on the values)")
    if squeeze:
        call.fail("an integer index together with an index tensor is not supported")
    idx_name = g.cast(idx_name, idx_dtype, "int64")
    if np.ndim(index) == 0:
        squeeze.append(dim)  # a 0-d index drops the dim: gather with [i] then squeeze
        idx_name = unsqueeze(g, idx_name, [0])
    return g.add_node("Gather", [name, idx_name], axis=dim)[0]


def _index_put(g: GraphBuilder, call: Call) -> None:
    """x[key] = v (accumulate: +=). A bool mask over x's leading dims is a Where; any other key picks the
    flat positions it addresses from an iota of x's shape (the key applied as in x[key]), and a
    ScatterElements on the flattened x writes the broadcast values there (reduction add to accumulate)."""
    x, y = call.inputs[0], out(call)
    key: tuple = call.args[1]
    accumulate = bool(call.static(3)) if len(call.args) > 3 else bool(call.kwargs.get("accumulate", False))
    v = call.args[2]
    value = operand(g, call, 2, x.dtype)
    mask = key[0] if len(key) == 1 and id(key[0]) in call.refs else None
    if mask is not None and call.value(mask).dtype == np.bool_ and not accumulate:
        m = call.value(mask)
        v_shape = tuple(v.shape) if isinstance(v, Tensor) else np.shape(v)
        extra = v_shape[:max(len(v_shape) - (x.rank - m.rank), 0)]  # dims that meet the mask's Trues
        if any(d != 1 for d in extra) or len(v_shape) > x.rank:
            call.fail("x[mask] = v with v holding one row per True of the mask is not supported (its size depends "
                      "on the values); give v the shape of the dims after the mask's, or a scalar")
        cond = unsqueeze(g, m.name, list(range(m.rank, x.rank))) if m.rank < x.rank else m.name
        g.add_node("Where", [cond, value, x.name], [y.name])
        return
    shape = g.add_node("Shape", [x.name])[0]
    size = g.add_node("Size", [x.name])[0]
    iota = g.add_node("Reshape", [g.add_node("Range", [g.constant(0), size, g.constant(1)])[0], shape])[0]
    positions = _select(g, call, iota, x.rank)
    flat = g.constant([-1])
    values = g.add_node("Expand", [value, g.add_node("Shape", [positions])[0]])[0]
    written = g.add_node("ScatterElements", [g.add_node("Reshape", [x.name, flat])[0],
                                             g.add_node("Reshape", [positions, flat])[0],
                                             g.add_node("Reshape", [values, flat])[0]],
                         axis=0, reduction="add" if accumulate else None)[0]
    g.add_node("Reshape", [written, shape], [y.name])


def _index_select(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    index = call.value(call.args[2])
    g.add_node("Gather", [x.name, g.cast(index.name, index.dtype, "int64")], [y.name],
               axis=positive(int(call.args[1]), x.rank))


def _gather(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    index = call.value(call.args[2])
    g.add_node("GatherElements", [x.name, g.cast(index.name, index.dtype, "int64")], [y.name],
               axis=positive(int(call.args[1]), x.rank))


def _where(g: GraphBuilder, call: Call) -> None:
    y = out(call)
    cond = call.value(call.args[0])
    g.add_node("Where", [g.cast(cond.name, cond.dtype, np.bool_), operand(g, call, 1, y.dtype),
                         operand(g, call, 2, y.dtype)], [y.name])


EXPORTERS = {
    "lamina.ops.shape.Reshape": _reshape,
    "lamina.ops.shape.Permute": _permute,
    "lamina.ops.shape.Expand": _expand,
    "lamina.ops.combine.Cat": _cat,
    "lamina.ops.combine.Stack": _stack,
    "lamina.ops.combine.Flip": _flip,
    "lamina.ops.combine.Tile": _tile,
    "lamina.ops.indexing.GetItem": _getitem,
    "lamina.ops.indexing.IndexPut": _index_put,
    "lamina.ops.indexing.IndexSelect": _index_select,
    "lamina.ops.indexing.Gather": _gather,
    "lamina.ops.indexing.Where": _where,
}
