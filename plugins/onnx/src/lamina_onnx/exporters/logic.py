"""Exporters for the core's non-differentiable ops: comparisons, logical and bitwise ops, the
predicates (isnan, isinf, ...), argmax/argmin and any/all.

They are not ``Function``s: the core tells the tracer about them through ``notify_observers``, and
their key is the op function's path (``"lamina.ops.comparison.gt"``). The arguments are as the
function got them: ``(input, other)``, ``(input,)``, or ``(input, dim, keepdim)`` for the reductions.
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

import numbers

import numpy as np
from lamina import Tensor

from .._call import Call
from .._graph import GraphBuilder, onnx_dtype
from ._common import axis_list, out, positive, reduce

_CMP = "lamina.ops.comparison"
_RED = "lamina.ops.reduction"
_BOOL = np.dtype(np.bool_)
_ORDERED = {"lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual"}


def _common(a: np.dtype, b: np.dtype) -> np.dtype:
    """The dtype both operands are compared in, as lamina promotes them (a float beats an integer or bool)."""
    if a == b:
        return a
    if (a.kind in "fc") != (b.kind in "fc"):
        return a if a.kind in "fc" else b
    return np.promote_types(a, b)


def _operands(g: GraphBuilder, call: Call) -> tuple[str, str, np.dtype]:
    """``input`` and ``other`` (a tensor or a Python number baked in) in one dtype, and that dtype."""
    x, other = call.value(call.args[0]), call.args[1]
    if isinstance(other, Tensor):
        o = call.value(other)
        dtype = _common(x.dtype, o.dtype)
        return g.cast(x.name, x.dtype, dtype), g.cast(o.name, o.dtype, dtype), dtype
    value = call.static(1)
    if not isinstance(value, numbers.Number):
        call.fail(f"expected the other operand to be a tensor or a number, got {type(value).__name__}")
    dtype = x.dtype
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        value = bool(value)
    elif isinstance(value, numbers.Integral):
        dtype = np.dtype(np.int64) if x.dtype == _BOOL else dtype
    elif x.dtype.kind in "biu":  # an integer tensor compared with a float: lamina compares in the default float
        dtype = np.dtype(np.float32)
    return g.cast(x.name, x.dtype, dtype), g.constant(value, dtype), dtype


def _compare(op_type: str, negate: bool = False):
    def export(g: GraphBuilder, call: Call) -> None:
        """y = input <op> other, a bool tensor; ne is Not(Equal)."""
        a, b, dtype = _operands(g, call)
        if dtype == _BOOL and op_type != "Equal":  # ONNX orders numbers only
            a, b = g.cast(a, dtype, np.int32), g.cast(b, dtype, np.int32)
        y = out(call).name
        if negate:
            g.add_node("Not", [g.add_node(op_type, [a, b])[0]], [y])
        else:
            g.add_node(op_type, [a, b], [y])
    return export


def _as_bool(g: GraphBuilder, call: Call, index: int) -> str:
    """Argument ``index`` as a bool value (nonzero is True), a tensor or a number baked in."""
    arg = call.args[index]
    if isinstance(arg, Tensor):
        v = call.value(arg)
        return g.cast(v.name, v.dtype, _BOOL)
    return g.constant(bool(call.static(index)), _BOOL)


def _logical(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        """y = bool(input) <op> bool(other)."""
        g.add_node(op_type, [_as_bool(g, call, 0), _as_bool(g, call, 1)], [out(call).name])
    return export


def _logical_not(g: GraphBuilder, call: Call) -> None:
    g.add_node("Not", [_as_bool(g, call, 0)], [out(call).name])


def _bitwise(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        """And/Or/Xor on bool tensors; BitwiseAnd/Or/Xor on integers (opset 18)."""
        a, b, dtype = _operands(g, call)
        if dtype == _BOOL:
            g.add_node(op_type, [a, b], [out(call).name])
            return
        if g.opset < 18:
            call.fail(f"bitwise ops on {dtype} tensors need opset 18 (ONNX Bitwise{op_type}), got {g.opset}")
        g.add_node(f"Bitwise{op_type}", [a, b], [out(call).name])
    return export


def _bitwise_not(g: GraphBuilder, call: Call) -> None:
    """~x: Not on bool tensors; BitwiseNot on integers (opset 18)."""
    x = call.inputs[0]
    if x.dtype == _BOOL:
        g.add_node("Not", [x.name], [out(call).name])
        return
    if g.opset < 18:
        call.fail(f"~ on {x.dtype} tensors needs opset 18 (ONNX BitwiseNot), got {g.opset}")
    g.add_node("BitwiseNot", [x.name], [out(call).name])


def _as_float(g: GraphBuilder, call: Call) -> str:
    """The input in a dtype IsNaN/IsInf take at every opset (float32 unless float32/float64 already)."""
    x = call.inputs[0]
    return x.name if x.dtype in (np.float32, np.float64) else g.cast(x.name, x.dtype, np.float32)


def _is_inf(positive_inf: int, negative_inf: int):
    def export(g: GraphBuilder, call: Call) -> None:
        g.add_node("IsInf", [_as_float(g, call)], [out(call).name], detect_positive=positive_inf,
                   detect_negative=negative_inf)
    return export


def _is_nan(g: GraphBuilder, call: Call) -> None:
    g.add_node("IsNaN", [_as_float(g, call)], [out(call).name])


def _is_finite(g: GraphBuilder, call: Call) -> None:
    x = _as_float(g, call)
    bad = g.add_node("Or", [g.add_node("IsNaN", [x])[0], g.add_node("IsInf", [x])[0]])[0]
    g.add_node("Not", [bad], [out(call).name])


def _arg_extreme(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        """ArgMax/ArgMin over ``dim`` (the first of equal values, as torch: select_last_index=0); dim None:
        over the flattened input, a 0-d index."""
        x, y = call.inputs[0], out(call)
        dim, keepdim = call.static(1), bool(call.static(2))
        name = x.name if x.dtype != _BOOL else g.cast(x.name, x.dtype, np.int32)
        if dim is None or x.rank == 0:
            name, axis, keepdim = g.add_node("Reshape", [name, g.constant([-1])])[0], 0, False
        else:
            axis = positive(dim, x.rank)
        g.add_node(op_type, [name], [y.name], axis=axis, keepdims=int(keepdim), select_last_index=0)
    return export


def _truth(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        """any/all: ReduceMax/ReduceMin of the input as 0/1 (int32: ONNX reduces no bools before opset 20)."""
        x, y = call.inputs[0], out(call)
        dims, keepdim = call.static(1), bool(call.static(2))
        axes = axis_list(dims, x.rank) if x.rank else None
        ones = g.cast(g.cast(x.name, x.dtype, _BOOL), _BOOL, np.int32)
        reduced = reduce(g, op_type, ones, axes or None, keepdim)
        g.add_node("Cast", [reduced], [y.name], to=onnx_dtype(_BOOL))
    return export


EXPORTERS = {
    f"{_CMP}.eq": _compare("Equal"),
    f"{_CMP}.ne": _compare("Equal", negate=True),
    **{f"{_CMP}.{name}": _compare(op_type) for name, op_type in _ORDERED.items()},
    f"{_CMP}.logical_and": _logical("And"),
    f"{_CMP}.logical_or": _logical("Or"),
    f"{_CMP}.logical_xor": _logical("Xor"),
    f"{_CMP}.logical_not": _logical_not,
    f"{_CMP}.bitwise_and": _bitwise("And"),
    f"{_CMP}.bitwise_or": _bitwise("Or"),
    f"{_CMP}.bitwise_xor": _bitwise("Xor"),
    f"{_CMP}.bitwise_not": _bitwise_not,
    f"{_CMP}.isnan": _is_nan,
    f"{_CMP}.isinf": _is_inf(1, 1),
    f"{_CMP}.isposinf": _is_inf(1, 0),
    f"{_CMP}.isneginf": _is_inf(0, 1),
    f"{_CMP}.isfinite": _is_finite,
    f"{_RED}.argmax": _arg_extreme("ArgMax"),
    f"{_RED}.argmin": _arg_extreme("ArgMin"),
    f"{_RED}.any": _truth("ReduceMax"),
    f"{_RED}.all": _truth("ReduceMin"),
}
