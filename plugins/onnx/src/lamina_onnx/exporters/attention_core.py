"""Graph pieces the attention exporters share: arguments, masks, linear maps and the attention core.

The core mirrors lamina-layers-attention's ``attend``: Z = scale * q @ k^T (+ an additive mask, or
-inf where a bool mask says not to attend; -inf above the top-left aligned diagonal when causal),
P = softmax(Z) along the keys, out = P @ v. A row whose keys are all masked gives P = 0 (NaN for
MultiheadAttention's weight-returning path), as lamina does, not whatever the softmax kernel makes
of a row of -inf. Every size that can follow a dynamic axis is read with ``Shape`` at run time.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from lamina import Tensor
from onnx import TensorProto, numpy_helper

from lamina_onnx import Call, GraphBuilder

from ._common import reduce


@dataclass(frozen=True)
class Mask:
    """A mask value of the graph. Shape: ``ndim`` dims, e.g. (L, S), (N * H, L, S) or (N, S)."""

    name: str
    dtype: np.dtype
    ndim: int

    @property
    def is_bool(self) -> bool:
        return self.dtype == np.bool_


def node(g: GraphBuilder, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
    """One node with one output (a fresh name, or ``output``); returns the output's name."""
    return g.add_node(op_type, inputs, [output] if output else 1, **attrs)[0]


def axes(g: GraphBuilder, *dims: int) -> str:
    return g.constant(list(dims), "int64")


def host(t: Any) -> np.ndarray:
    """A parameter's values as a NumPy array."""
    return t.detach().cpu().numpy()


def host_optional(t: Any) -> np.ndarray | None:
    """An optional parameter (a bias) as a NumPy array, or None."""
    return None if t is None else host(t)


def arguments(call: Call) -> dict[str, Any]:
    """The module forward's arguments by name (defaults filled in); a non-tensor argument must be the same
    in both traces, since the graph bakes it in."""
    signature = inspect.signature(type(call.module).forward)
    first = signature.bind(call.module, *call.args, **call.kwargs)
    second = signature.bind(call.module, *call.alt_args, **call.alt_kwargs)
    first.apply_defaults()
    second.apply_defaults()
    for name, value in first.arguments.items():
        other = second.arguments.get(name)
        if name == "self" or value is None or isinstance(value, Tensor) or isinstance(other, Tensor):
            continue
        if type(value) is not type(other) or value != other:
            call.fail(f"argument {name!r} is {value!r} in one trace and {other!r} in the other: it depends on the "
                      "inputs, and the graph would bake it in")
    return dict(first.arguments)


def mask_of(call: Call, t: Any) -> Mask | None:
    if t is None:
        return None
    v = call.value(t)
    return Mask(v.name, v.dtype, v.rank)


def additive(g: GraphBuilder, mask: Mask | None, dtype: np.dtype) -> str | None:
    """A mask as values added to the scores: a bool mask (True = masked out) is -inf there and 0 elsewhere."""
    if mask is None:
        return None
    if mask.is_bool:
        return node(g, "Where", [mask.name, g.constant(-math.inf, dtype), g.constant(0.0, dtype)])
    return g.cast(mask.name, mask.dtype, dtype)


def linear(g: GraphBuilder, x: str, weight: np.ndarray, bias: np.ndarray | None, hint: str) -> str:
    """x @ weight.T + bias. Shape: x (*, in), weight (out, in), bias (out,) -> (*, out)"""
    y = node(g, "MatMul", [x, g.add_initializer(f"{hint}.weight_t", np.ascontiguousarray(weight.T))])
    if bias is not None:
        y = node(g, "Add", [y, g.add_initializer(f"{hint}.bias", bias)])
    return y


def causal_fill(g: GraphBuilder, z: str, dtype: np.dtype) -> str:
    """Scores z (..., L, S) with -inf where key j > query i (top-left aligned), sizes read at run time."""
    ones = node(g, "ConstantOfShape", [node(g, "Shape", [z], start=-2)],
                value=numpy_helper.from_array(np.ones(1, dtype)))        # (L, S)
    allowed = node(g, "Cast", [node(g, "Trilu", [ones], upper=0)], to=TensorProto.BOOL)
    return node(g, "Where", [allowed, z, g.constant(-math.inf, dtype)])


def attend(g: GraphBuilder, q: str, k: str, v: str, k_rank: int, scale: float, dtype: np.dtype, *,
           mask: str | None = None, attend_where: str | None = None, causal: bool = False,
           empty_rows_nan: bool = False) -> tuple[str, str]:
    """softmax(scale * q @ k^T + mask) @ v -> (out, P).

    Shape: q (..., L, E), k (..., S, E), v (..., S, Ev), mask broadcastable to (..., L, S)
           -> out (..., L, Ev), P (..., L, S)
    ``mask`` is added to the scores; ``attend_where`` is a bool mask (True = attend, SDPA's convention).
    """
    perm = list(range(k_rank - 2)) + [k_rank - 1, k_rank - 2]
    z = node(g, "MatMul", [q, node(g, "Transpose", [k], perm=perm)])
    z = node(g, "Mul", [z, g.constant(scale, dtype)])
    if attend_where is not None:
        z = node(g, "Where", [attend_where, z, g.constant(-math.inf, dtype)])
    if mask is not None:
        z = node(g, "Add", [z, mask])
    if causal:
        z = causal_fill(g, z, dtype)
    p = node(g, "Softmax", [z], axis=-1)
    if mask is not None or attend_where is not None:      # rows with every key masked: P = 0 (or NaN)
        dead = node(g, "IsInf", [reduce(g, "ReduceMax", z, [-1], True)], detect_positive=0)
        fill = g.constant(math.nan if empty_rows_nan else 0.0, dtype)
        p = node(g, "Where", [dead, fill, p])
    return node(g, "MatMul", [p, v]), p
