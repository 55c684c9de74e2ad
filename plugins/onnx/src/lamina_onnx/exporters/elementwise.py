"""Exporters for the core's elementwise ops (lamina.ops.elementwise / unary) and dtype/identity ops."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

import math

import numpy as np

from .._call import Call
from .._graph import GraphBuilder, onnx_dtype
from ._common import operand, out, unary

_BINARY = {"Mul": "Mul", "Div": "Div", "Pow": "Pow", "Maximum": "Max", "Minimum": "Min"}
_UNARY = {"Neg": "Neg", "Exp": "Exp", "Log": "Log", "Sqrt": "Sqrt", "Abs": "Abs", "Sin": "Sin", "Cos": "Cos",
          "Tan": "Tan", "Asin": "Asin", "Acos": "Acos", "Atan": "Atan", "Sinh": "Sinh", "Cosh": "Cosh",
          "Tanh": "Tanh", "Sigmoid": "Sigmoid", "Relu": "Relu", "Floor": "Floor", "Ceil": "Ceil", "Sign": "Sign",
          "Reciprocal": "Reciprocal"}


def _binary(g: GraphBuilder, call: Call, op_type: str) -> None:
    y = out(call)
    g.add_node(op_type, [operand(g, call, 0, y.dtype), operand(g, call, 1, y.dtype)], [y.name])


def _add_sub(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        """a + alpha * b (Add) or a - alpha * b (Sub)."""
        y = out(call)
        b = operand(g, call, 1, y.dtype)
        alpha = call.args[2] if len(call.args) > 2 else call.kwargs.get("alpha", 1)
        if alpha != 1:
            b = g.add_node("Mul", [b, g.constant(alpha, y.dtype)])[0]
        g.add_node(op_type, [operand(g, call, 0, y.dtype), b], [y.name])
    return export


def _table_binary(op_type: str):
    return lambda g, call: _binary(g, call, op_type)


def _table_unary(op_type: str):
    return lambda g, call: unary(g, call, op_type)


def _composite(build):
    """An exporter from ``build(g, x, dtype) -> name``; the last node is renamed to the call's output."""
    def export(g: GraphBuilder, call: Call) -> None:
        x, y = call.inputs[0], out(call)
        result = build(g, g.cast(x.name, x.dtype, y.dtype), y.dtype)
        g.add_node("Identity", [result], [y.name])
    return export


def _clamp(g: GraphBuilder, call: Call) -> None:
    """Clamp(x, lo, hi): Clip with scalar bounds, Max/Min with tensor bounds."""
    x, y = call.inputs[0], out(call)
    name = g.cast(x.name, x.dtype, y.dtype)
    bounds = [call.args[1] if len(call.args) > 1 else None, call.args[2] if len(call.args) > 2 else None]
    if all(b is None or np.ndim(b) == 0 for b in bounds):
        lo, hi = (("" if b is None else operand(g, call, i + 1, y.dtype)) for i, b in enumerate(bounds))
        g.add_node("Clip", [name, lo, hi], [y.name])
        return
    for i, (b, op_type) in enumerate(zip(bounds, ("Max", "Min"))):
        if b is not None:
            name = g.add_node(op_type, [name, operand(g, call, i + 1, y.dtype)])[0]
    g.add_node("Identity", [name], [y.name])


def _round(g: GraphBuilder, call: Call) -> None:
    decimals = call.args[1] if len(call.args) > 1 else call.kwargs.get("decimals", 0)
    if decimals:
        call.fail(f"round(decimals={decimals}) is not supported (ONNX Round has no decimals)")
    unary(g, call, "Round")


def _cast(g: GraphBuilder, call: Call) -> None:
    x, y = call.inputs[0], out(call)
    g.add_node("Cast", [x.name], [y.name], to=onnx_dtype(y.dtype))


def _identity(g: GraphBuilder, call: Call) -> None:
    for x, y in zip(call.inputs, call.outputs):
        g.add_node("Identity", [g.cast(x.name, x.dtype, y.dtype)], [y.name])


def _add1(g, x, dtype, op):
    return g.add_node(op, [x, g.constant(1, dtype)])[0]


EXPORTERS = {
    "lamina.ops.elementwise.Add": _add_sub("Add"),
    "lamina.ops.elementwise.Sub": _add_sub("Sub"),
    **{f"lamina.ops.elementwise.{k}": _table_binary(v) for k, v in _BINARY.items()},
    **{f"lamina.ops.unary.{k}": _table_unary(v) for k, v in _UNARY.items()},
    "lamina.ops.unary.Clamp": _clamp,
    "lamina.ops.unary.Round": _round,
    "lamina.ops.unary.Trunc": _composite(lambda g, x, t: g.add_node("Mul", [
        g.add_node("Sign", [x])[0], g.add_node("Floor", [g.add_node("Abs", [x])[0]])[0]])[0]),
    "lamina.ops.unary.Square": _composite(lambda g, x, t: g.add_node("Mul", [x, x])[0]),
    "lamina.ops.unary.Rsqrt": _composite(lambda g, x, t: g.add_node("Reciprocal", [g.add_node("Sqrt", [x])[0]])[0]),
    "lamina.ops.unary.Expm1": _composite(lambda g, x, t: _add1(g, g.add_node("Exp", [x])[0], t, "Sub")),
    "lamina.ops.unary.Log1p": _composite(lambda g, x, t: g.add_node("Log", [_add1(g, x, t, "Add")])[0]),
    "lamina.ops.unary.Log2": _composite(lambda g, x, t: g.add_node("Div", [
        g.add_node("Log", [x])[0], g.constant(math.log(2.0), t)])[0]),
    "lamina.ops.unary.Log10": _composite(lambda g, x, t: g.add_node("Div", [
        g.add_node("Log", [x])[0], g.constant(math.log(10.0), t)])[0]),
    "lamina_layers_basic._special.Erf": _table_unary("Erf"),
    "lamina.ops.conversion.Cast": _cast,
    "lamina.ops.conversion.Clone": _identity,
    "lamina.ops.conversion.ToDevice": _identity,
    "lamina.ops.shape.Contiguous": _identity,
    "lamina.nn._module_hooks._HookIdentity": _identity,
}
