"""Exporters for the core's reductions (sum, mean, prod, max/min, amax/amin, var, logsumexp, cumsum),
softmax/log_softmax, and matmul/einsum."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

import math

from .._call import Call
from .._graph import GraphBuilder
from ._common import axis_list, out, positive, reduce


def _reduction(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        """Reduce over ``args[1]`` (axes; None: all) with keepdim ``args[2]``."""
        x, y = call.inputs[0], out(call)
        name = g.cast(x.name, x.dtype, y.dtype)
        reduce(g, op_type, name, axis_list(call.args[1], x.rank), bool(call.args[2]), y.name)
    return export


def _amax(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    reduce(g, "ReduceMax" if call.args[3] else "ReduceMin", x.name, axis_list(call.args[1], x.rank),
           bool(call.args[2]), y.name)


def _max_min(g: GraphBuilder, call: Call) -> None:
    """max(x, dim) / min(x, dim): the values and the index of the first extreme (torch's rule)."""
    x = call.inputs[0]
    axis, keepdim, is_max = call.args[1], bool(call.args[2]), call.args[3]
    if axis is None:
        call.fail("max/min over all dims with indices is not supported")
    axis = positive(int(axis), x.rank)
    values, indices = call.outputs
    reduce(g, "ReduceMax" if is_max else "ReduceMin", x.name, [axis], keepdim, values.name)
    g.add_node("ArgMax" if is_max else "ArgMin", [x.name], [indices.name], axis=axis, keepdims=int(keepdim))


def _var(g: GraphBuilder, call: Call) -> None:
    """sum((x - mean)^2) / (n - correction) over the axes (their sizes must be static)."""
    x, y = call.inputs[0], out(call)
    axes = axis_list(call.args[1], x.rank) or list(range(x.rank))
    correction, keepdim = call.args[2], bool(call.args[3])
    if any(a in x.dynamic for a in axes):
        call.fail("var over a dim that follows a dynamic axis is not supported")
    n = math.prod(x.shape[a] for a in axes)
    mean = reduce(g, "ReduceMean", x.name, axes, True)
    d = g.add_node("Sub", [x.name, mean])[0]
    total = reduce(g, "ReduceSum", g.add_node("Mul", [d, d])[0], axes, keepdim)
    g.add_node("Div", [total, g.constant(max(n - correction, 0), y.dtype)], [y.name])


def _cumsum(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    g.add_node("CumSum", [g.cast(x.name, x.dtype, y.dtype), g.constant(positive(int(call.args[1]), x.rank))],
               [y.name])


def _softmax(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        x, y = call.inputs[0], out(call)
        g.add_node(op_type, [g.cast(x.name, x.dtype, y.dtype)], [y.name], axis=positive(int(call.args[1]), x.rank))
    return export


def _matmul(g: GraphBuilder, call: Call) -> None:
    y = out(call)
    a, b = call.inputs
    g.add_node("MatMul", [g.cast(a.name, a.dtype, y.dtype), g.cast(b.name, b.dtype, y.dtype)], [y.name])


def _einsum(g: GraphBuilder, call: Call) -> None:
    y = out(call)
    g.add_node("Einsum", [g.cast(v.name, v.dtype, y.dtype) for v in call.inputs], [y.name],
               equation=str(call.args[0]).replace(" ", ""))


EXPORTERS = {
    "lamina.ops.reduction.Sum": _reduction("ReduceSum"),
    "lamina.ops.reduction.Mean": _reduction("ReduceMean"),
    "lamina.ops.reduction.Prod": _reduction("ReduceProd"),
    "lamina.ops.reduction.LogSumExp": _reduction("ReduceLogSumExp"),
    "lamina.ops.reduction.Amax": _amax,
    "lamina.ops.reduction.MaxMin": _max_min,
    "lamina.ops.reduction.Var": _var,
    "lamina.ops.cumulative.Cumsum": _cumsum,
    "lamina.ops.softmax.Softmax": _softmax("Softmax"),
    "lamina.ops.softmax.LogSoftmax": _softmax("LogSoftmax"),
    "lamina.ops.linalg.MatMul": _matmul,
    "lamina.ops.linalg.Einsum": _einsum,
}
