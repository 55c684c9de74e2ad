"""Exporters for lamina-norms' layers, as units (eval mode): BatchNorm1d/2d/3d, LayerNorm, GroupNorm,
RMSNorm and InstanceNorm1d/2d/3d; and for its Normalize op, which the functional forms (F.layer_norm,
F.batch_norm, F.group_norm, ...) and the other norm layers apply."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

import numpy as np

from .._call import Call, Value
from .._graph import GraphBuilder
from ._common import out, reduce, reshape_shape

_N = "lamina_norms"


def _affine(g: GraphBuilder, call: Call, shape: tuple[int, ...], dtype: np.dtype) -> tuple[str, str]:
    """The module's weight and bias initializers (ones / zeros where it has none)."""
    m = call.module
    weight = g.param(m.weight) if getattr(m, "weight", None) is not None else \
        g.add_initializer(f"{call.path}.weight", np.ones(shape, dtype))
    bias = g.param(m.bias) if getattr(m, "bias", None) is not None else \
        g.add_initializer(f"{call.path}.bias", np.zeros(shape, dtype))
    return weight, bias


def _batch_norm(g: GraphBuilder, call: Call) -> None:
    m, x, y = call.module, call.inputs[0], out(call)
    if m.running_mean is None or m.running_var is None:
        call.fail("BatchNorm without running statistics (track_running_stats=False) normalises with the batch's "
                  "statistics even in eval mode; not supported")
    weight, bias = _affine(g, call, (m.num_features,), y.dtype)
    g.add_node("BatchNormalization", [x.name, weight, bias, g.param(m.running_mean), g.param(m.running_var)],
               [y.name], epsilon=float(m.eps))


def _layer_norm(g: GraphBuilder, call: Call) -> None:
    m, x, y = call.module, call.inputs[0], out(call)
    shape = tuple(m.normalized_shape)
    weight, bias = _affine(g, call, shape, y.dtype)
    g.add_node("LayerNormalization", [x.name, weight, bias], [y.name], axis=-len(shape), epsilon=float(m.eps))


def _normalize(g: GraphBuilder, x: str, axes: list[int], eps: float, dtype: np.dtype) -> str:
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance)."""
    d = g.add_node("Sub", [x, reduce(g, "ReduceMean", x, axes, True)])[0]
    var = reduce(g, "ReduceMean", g.add_node("Mul", [d, d])[0], axes, True)
    std = g.add_node("Sqrt", [g.add_node("Add", [var, g.constant(eps, dtype)])[0]])[0]
    return g.add_node("Div", [d, std])[0]


def _channel_affine(g: GraphBuilder, call: Call, name: str, rank: int, channels: int, dtype: np.dtype) -> str:
    """y * weight + bias with (C,) parameters laid out as (C, 1, ..., 1) (folded)."""
    m = call.module
    shape = g.constant([channels] + [1] * (rank - 2))
    if getattr(m, "weight", None) is not None:
        name = g.add_node("Mul", [name, g.add_node("Reshape", [g.param(m.weight), shape])[0]])[0]
    if getattr(m, "bias", None) is not None:
        name = g.add_node("Add", [name, g.add_node("Reshape", [g.param(m.bias), shape])[0]])[0]
    return name


def _group_norm(g: GraphBuilder, call: Call) -> None:
    """Normalise each of num_groups channel groups: reshape (N, G, -1), normalise, reshape back, affine."""
    m, x, y = call.module, call.inputs[0], out(call)
    if 1 in x.dynamic:
        call.fail("GroupNorm with a dynamic channel dim is not supported")
    grouped = g.add_node("Reshape", [x.name, g.constant([0, int(m.num_groups), -1])])[0]
    normed = _normalize(g, grouped, [2], float(m.eps), y.dtype)
    back = g.add_node("Reshape", [normed, g.add_node("Shape", [x.name])[0]])[0]
    g.add_node("Identity", [_channel_affine(g, call, back, x.rank, int(m.num_channels), y.dtype)], [y.name])


def _instance_norm(g: GraphBuilder, call: Call) -> None:
    m, x, y = call.module, call.inputs[0], out(call)
    if m.track_running_stats:
        call.fail("InstanceNorm with track_running_stats=True is not supported")
    spatial = m._spatial
    if x.rank == spatial + 1:
        call.fail("unbatched InstanceNorm input is not supported")
    normed = _normalize(g, x.name, list(range(2, x.rank)), float(m.eps), y.dtype)
    g.add_node("Identity", [_channel_affine(g, call, normed, x.rank, int(x.shape[1]), y.dtype)], [y.name])


def _rms_norm(g: GraphBuilder, call: Call) -> None:
    """x / sqrt(mean(x^2) + eps) * weight over the normalized dims; eps None is the dtype's epsilon."""
    m, x, y = call.module, call.inputs[0], out(call)
    axes = list(range(x.rank - len(m.normalized_shape), x.rank))
    eps = float(np.finfo(y.dtype).eps) if m.eps is None else float(m.eps)
    ms = reduce(g, "ReduceMean", g.add_node("Mul", [x.name, x.name])[0], axes, True)
    inv = g.add_node("Reciprocal", [g.add_node("Sqrt", [g.add_node("Add", [ms, g.constant(eps, y.dtype)])[0]])[0]])
    name = g.add_node("Mul", [x.name, inv[0]])[0]
    if getattr(m, "weight", None) is not None:
        name = g.add_node("Mul", [name, g.param(m.weight)])[0]
    g.add_node("Identity", [name], [y.name])


def _normalize_op(g: GraphBuilder, call: Call) -> None:
    """Normalize(x, weight, bias, mean, var, spec): x viewed as spec.view, statistics over spec.axes
    (given running ones, or the batch's: then the batch mean and variance are outputs too)."""
    x, y = call.inputs[0], call.outputs[0]
    spec, alt = call.args[5], call.alt_args[5]
    view = reshape_shape(g, call, x, Value("", tuple(spec.view), tuple(alt.view), y.dtype))
    xv = g.add_node("Reshape", [x.name, view])[0]
    pshape = g.constant(list(spec.pshape))

    def param(arg) -> str | None:
        return None if arg is None else g.add_node("Reshape", [call.value(arg).name, pshape])[0]

    weight, bias, mean, var = (param(call.args[i]) for i in (1, 2, 3, 4))
    eps = g.constant(float(spec.eps), y.dtype)
    axes = list(spec.axes)
    if mean is not None and var is not None:
        xc = g.add_node("Sub", [xv, mean])[0]
    elif spec.center:
        mean = reduce(g, "ReduceMean", xv, axes, True, call.outputs[1].name if len(call.outputs) > 1 else None)
        xc = g.add_node("Sub", [xv, mean])[0]
        var = reduce(g, "ReduceMean", g.add_node("Mul", [xc, xc])[0], axes, True,
                     call.outputs[2].name if len(call.outputs) > 2 else None)
    else:  # RMS: no centring, the mean square in place of the variance
        xc = xv
        var = reduce(g, "ReduceMean", g.add_node("Mul", [xv, xv])[0], axes, True,
                     call.outputs[2].name if len(call.outputs) > 2 else None)
    name = g.add_node("Div", [xc, g.add_node("Sqrt", [g.add_node("Add", [var, eps])[0]])[0]])[0]
    if weight is not None:
        name = g.add_node("Mul", [name, weight])[0]
    if bias is not None:
        name = g.add_node("Add", [name, bias])[0]
    g.add_node("Reshape", [name, g.add_node("Shape", [x.name])[0]], [y.name])


EXPORTERS = {
    f"{_N}._kernel.Normalize": _normalize_op,
    f"{_N}.batchnorm._BatchNorm": _batch_norm,
    f"{_N}.layernorm.LayerNorm": _layer_norm,
    f"{_N}.layernorm.GroupNorm": _group_norm,
    f"{_N}.layernorm.RMSNorm": _rms_norm,
    f"{_N}.instancenorm._InstanceNorm": _instance_norm,
}
