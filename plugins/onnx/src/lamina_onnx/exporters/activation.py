"""Exporters for lamina-layers-basic's activation ops (every activation module of the plugin lowers to
one of these Functions, or to a core op: Relu, Sigmoid, Tanh, Softmax, LogSoftmax, Neg)."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

import math
from collections.abc import Callable

import numpy as np

from .._call import Call
from .._graph import GraphBuilder
from ._common import out, positive, unary

_ACT = "lamina_layers_basic._activation_ops"
_SMOOTH = "lamina_layers_basic.activation_smooth"


def _composite(build: Callable[[GraphBuilder, Call, str, np.dtype], str]):
    """An exporter from ``build(g, call, x, dtype) -> name``; an Identity names the call's output."""
    def export(g: GraphBuilder, call: Call) -> None:
        x, y = call.inputs[0], out(call)
        g.add_node("Identity", [build(g, call, g.cast(x.name, x.dtype, y.dtype), y.dtype)], [y.name])
    return export


def _const(g: GraphBuilder, value: float, dtype: np.dtype) -> str:
    return g.constant(value, dtype)


def _op(g: GraphBuilder, op_type: str, *inputs: str, **attrs) -> str:
    return g.add_node(op_type, list(inputs), **attrs)[0]


def _elu(g: GraphBuilder, call: Call, x: str, t: np.dtype) -> str:
    """scale * (x if x > 0 else alpha * expm1(x * input_scale)): Elu, Selu, Celu, or the formula."""
    alpha, scale, input_scale = (float(call.static(i)) for i in (1, 2, 3))
    if scale == 1.0 and input_scale == 1.0:
        return _op(g, "Elu", x, alpha=alpha)
    if input_scale == 1.0:
        return _op(g, "Selu", x, alpha=alpha, gamma=scale)
    if scale == 1.0 and math.isclose(input_scale * alpha, 1.0, rel_tol=1e-12):
        return _op(g, "Celu", x, alpha=alpha)
    neg = _op(g, "Mul", _op(g, "Sub", _op(g, "Exp", _op(g, "Mul", _op(g, "Min", x, _const(g, 0, t)),
                                                           _const(g, input_scale, t))), _const(g, 1, t)),
              _const(g, alpha * scale, t))
    return _op(g, "Where", _op(g, "Greater", x, _const(g, 0, t)), _op(g, "Mul", x, _const(g, scale, t)), neg)


def _gelu(g: GraphBuilder, call: Call, x: str, t: np.dtype) -> str:
    approximate = call.static(1)
    if g.opset >= 20:
        return _op(g, "Gelu", x, approximate=approximate)
    half = _op(g, "Mul", x, _const(g, 0.5, t))
    if approximate == "tanh":
        cube = _op(g, "Mul", _op(g, "Mul", x, x), x)
        inner = _op(g, "Mul", _op(g, "Add", x, _op(g, "Mul", cube, _const(g, 0.044715, t))),
                    _const(g, math.sqrt(2 / math.pi), t))
        return _op(g, "Mul", half, _op(g, "Add", _op(g, "Tanh", inner), _const(g, 1, t)))
    erf = _op(g, "Erf", _op(g, "Mul", x, _const(g, math.sqrt(0.5), t)))
    return _op(g, "Mul", half, _op(g, "Add", erf, _const(g, 1, t)))


def _softplus(g: GraphBuilder, call: Call, x: str, t: np.dtype) -> str:
    """log(1 + exp(beta x)) / beta, x itself where beta x > threshold (torch's rule)."""
    beta, threshold = float(call.static(1)), float(call.static(2))
    z = _op(g, "Mul", x, _const(g, beta, t)) if beta != 1.0 else x
    soft = _op(g, "Softplus", z)
    if beta != 1.0:
        soft = _op(g, "Div", soft, _const(g, beta, t))
    return _op(g, "Where", _op(g, "Greater", z, _const(g, threshold, t)), x, soft)


def _prelu(g: GraphBuilder, call: Call) -> None:
    """PRelu with the (C,) weight laid out as (C, 1, ..., 1) to broadcast over the channel dim."""
    x, w, y = call.inputs[0], call.inputs[1], out(call)
    slope = w.name
    if w.rank == 1 and w.shape[0] > 1 and x.rank > 2:
        slope = g.add_node("Reshape", [w.name, g.constant([w.shape[0]] + [1] * (x.rank - 2))])[0]
    g.add_node("PRelu", [x.name, g.cast(slope, w.dtype, y.dtype)], [y.name])


def _glu(g: GraphBuilder, call: Call, x: str, t: np.dtype) -> str:
    value = call.inputs[0]
    axis = positive(int(call.args[1]), value.rank)
    if axis in value.dynamic:
        call.fail("glu along a dim that follows a dynamic axis is not supported")
    half = value.shape[axis] // 2
    a, b = g.add_node("Split", [x, g.constant([half, half])], 2, axis=axis)
    return _op(g, "Mul", a, _op(g, "Sigmoid", b))


EXPORTERS = {
    f"{_ACT}.LeakyReluFn": lambda g, call: unary(g, call, "LeakyRelu", alpha=float(call.static(1))),
    f"{_ACT}.RReluFn": lambda g, call: unary(g, call, "LeakyRelu", alpha=float(call.static(1))),
    f"{_ACT}.PReluFn": _prelu,
    f"{_ACT}.EluFn": _composite(_elu),
    f"{_ACT}.GeluFn": _composite(_gelu),
    f"{_ACT}.SiluFn": _composite(lambda g, call, x, t: _op(g, "Mul", x, _op(g, "Sigmoid", x))),
    f"{_ACT}.MishFn": _composite(lambda g, call, x, t: _op(g, "Mul", x, _op(g, "Tanh", _op(g, "Softplus", x)))),
    f"{_ACT}.HardtanhFn": _composite(lambda g, call, x, t: _op(g, "Clip", x, _const(g, float(call.static(1)), t),
                                                               _const(g, float(call.static(2)), t))),
    f"{_ACT}.HardswishFn": lambda g, call: unary(g, call, "HardSwish"),
    f"{_ACT}.HardsigmoidFn": lambda g, call: unary(g, call, "HardSigmoid", alpha=1 / 6, beta=0.5),
    f"{_ACT}.ThresholdFn": _composite(lambda g, call, x, t: _op(
        g, "Where", _op(g, "Greater", x, _const(g, float(call.static(1)), t)), x,
        _op(g, "Expand", _const(g, float(call.static(2)), t), _op(g, "Shape", x)))),
    f"{_SMOOTH}.SoftplusFn": _composite(_softplus),
    f"{_SMOOTH}.SoftsignFn": lambda g, call: unary(g, call, "Softsign"),
    f"{_SMOOTH}.ShrinkFn": lambda g, call: unary(g, call, "Shrink", lambd=float(call.static(1)),
                                                 bias=float(call.static(1)) if call.static(2) else 0.0),
    f"{_SMOOTH}.TanhshrinkFn": _composite(lambda g, call, x, t: _op(g, "Sub", x, _op(g, "Tanh", x))),
    f"{_SMOOTH}.LogSigmoidFn": _composite(lambda g, call, x, t: _op(g, "Neg", _op(g, "Softplus", _op(g, "Neg", x)))),
    f"{_SMOOTH}.GluFn": _composite(_glu),
}
