"""Exporters for lamina-layers-basic's layer ops: linear, convolution (1d/2d/3d), transposed
convolution, max/avg pooling, adaptive pooling, padding, embedding and interpolation (Upsample)."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

import math

from lamina import Tensor

from .._call import Call, Value
from .._graph import GraphBuilder
from ._common import out, reduce

_LB = "lamina_layers_basic"


def _linear(g: GraphBuilder, call: Call) -> None:
    """y = x @ w.T + b: Gemm for 2-D x, else MatMul with the transposed weight (folded) and Add."""
    x, y = call.inputs[0], out(call)
    w = call.value(call.args[1])
    b = call.value(call.args[2]) if isinstance(call.args[2], Tensor) else None
    if x.rank == 2:
        g.add_node("Gemm", [x.name, w.name] + ([b.name] if b else []), [y.name], transB=1)
        return
    wt = g.add_node("Transpose", [w.name], perm=[1, 0])[0]
    if b is None:
        g.add_node("MatMul", [x.name, wt], [y.name])
        return
    g.add_node("Add", [g.add_node("MatMul", [x.name, wt])[0], b.name], [y.name])


def _conv(g: GraphBuilder, call: Call) -> None:
    """ConvNd(x, w, b, stride, ((lo, hi), ...), dilation, groups)."""
    x, y = call.inputs[0], out(call)
    w = call.value(call.args[1])
    b = call.value(call.args[2]) if isinstance(call.args[2], Tensor) else None
    stride, pairs, dilation, groups = (call.static(i) for i in (3, 4, 5, 6))
    g.add_node("Conv", [x.name, w.name] + ([b.name] if b else []), [y.name], kernel_shape=list(w.shape[2:]),
               strides=list(stride), pads=[p[0] for p in pairs] + [p[1] for p in pairs],
               dilations=list(dilation), group=int(groups))


def _conv_transpose(g: GraphBuilder, call: Call) -> None:
    """ConvTransposeNd(x, w, b, stride, padding, output_padding, dilation, groups)."""
    x, y = call.inputs[0], out(call)
    w = call.value(call.args[1])
    b = call.value(call.args[2]) if isinstance(call.args[2], Tensor) else None
    stride, padding, output_padding, dilation, groups = (call.static(i) for i in (3, 4, 5, 6, 7))
    g.add_node("ConvTranspose", [x.name, w.name] + ([b.name] if b else []), [y.name],
               kernel_shape=list(w.shape[2:]), strides=list(stride), pads=list(padding) * 2,
               output_padding=list(output_padding), dilations=list(dilation), group=int(groups))


def _ceil_mode(call: Call, x: Value, kernel, stride, pad, dilation, out_size) -> int:
    """Pool ops receive the output size; ONNX wants ceil_mode: 1 where the size is the ceil formula's."""
    mode = 0
    for s, k, st, p, d, o in zip(x.shape[2:], kernel, stride, pad, dilation, out_size):
        span = s + 2 * p - d * (k - 1) - 1
        if o == span // st + 1:
            continue
        if o == math.ceil(span / st) + 1:
            mode = 1
            continue
        call.fail(f"pooling output size {list(out_size)} matches neither floor nor ceil mode")
    return mode


def _max_pool(g: GraphBuilder, call: Call) -> None:
    """MaxPool; with return_indices its Indices output, which counts over all of (N, C, *S), taken modulo
    the plane size prod(S) (read from x's shape, so it stays right for dynamic sizes): torch's index
    into each plane. Ties keep the first max, as lamina and torch."""
    x = call.inputs[0]
    kernel, stride, pad, dilation, out_size, return_indices = (call.args[i] for i in range(1, 7))
    outputs = [out(call).name] if not return_indices else [out(call).name, g.fresh(f"{g.scope(call)}Indices")]
    g.add_node("MaxPool", [x.name], outputs, kernel_shape=list(kernel), strides=list(stride),
               pads=list(pad) * 2, dilations=list(dilation),
               ceil_mode=_ceil_mode(call, x, kernel, stride, pad, dilation, out_size))
    if return_indices:
        spatial = g.add_node("Slice", [g.add_node("Shape", [x.name])[0], g.constant([2]), g.constant([x.rank])])[0]
        plane = reduce(g, "ReduceProd", spatial, None, True)
        g.add_node("Mod", [outputs[1], plane], [out(call, 1).name])


def _avg_pool(g: GraphBuilder, call: Call) -> None:
    x = call.inputs[0]
    kernel, stride, pad, out_size, count_include_pad, divisor = (call.args[i] for i in range(1, 7))
    if divisor:
        call.fail("avg pooling with divisor_override is not supported")
    ceil = _ceil_mode(call, x, kernel, stride, pad, (1,) * len(kernel), out_size)
    if ceil and any(pad):
        call.fail("avg pooling with ceil_mode=True and padding is not supported (the divisors differ)")
    g.add_node("AveragePool", [x.name], [out(call).name], kernel_shape=list(kernel), strides=list(stride),
               pads=list(pad) * 2, count_include_pad=int(bool(count_include_pad)), ceil_mode=ceil)


def _adaptive(op_type: str):
    def export(g: GraphBuilder, call: Call) -> None:
        """Output size 1: Global*Pool; equal to the input: Identity; a divisor of a static input: *Pool."""
        x = call.inputs[0]
        out_size = [int(o) for o in call.args[1]]
        spatial = x.shape[2:]
        names = call.output_names[:1]
        if all(o == 1 for o in out_size):
            g.add_node(f"Global{op_type}", [x.name], names)
        elif list(spatial) == out_size and not (x.dynamic & set(range(2, x.rank))):
            g.add_node("Identity", [x.name], names)
        elif all(s % o == 0 for s, o in zip(spatial, out_size)) and not (x.dynamic & set(range(2, x.rank))):
            k = [s // o for s, o in zip(spatial, out_size)]
            g.add_node(op_type, [x.name], names, kernel_shape=k, strides=k)
        else:
            call.fail(f"adaptive pooling of {list(spatial)} to {out_size} is only exported for output size 1 or "
                      "an exact divisor of a static input size")
    return export


def _pad(g: GraphBuilder, call: Call) -> None:
    """Pad(x, ((lo, hi) per last dim, first first), mode, value)."""
    x, y = call.inputs[0], out(call)
    pairs, mode, value = call.static(1), call.static(2), call.static(3)
    lead = x.rank - len(pairs)
    pads = [0] * lead + [p[0] for p in pairs] + [0] * lead + [p[1] for p in pairs]
    modes = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
    if mode not in modes or (mode == "circular" and g.opset < 19):
        call.fail(f"padding mode {mode!r} is not supported at opset {g.opset}")
    inputs = [x.name, g.constant(pads)]
    if mode == "constant":
        inputs.append(g.constant(value, y.dtype))
    g.add_node("Pad", inputs, [y.name], mode=modes[mode])


def _embedding_fn(g: GraphBuilder, call: Call) -> None:
    w, idx = call.value(call.args[0]), call.value(call.args[1])
    g.add_node("Gather", [w.name, g.cast(idx.name, idx.dtype, "int64")], [out(call).name], axis=0)


def _embedding(g: GraphBuilder, call: Call) -> None:
    """nn.Embedding as a unit: Gather(weight, input) (max_norm rescales the weight at run time: refused)."""
    m = call.module
    if m.max_norm is not None:
        call.fail("Embedding with max_norm is not supported (it rewrites the weight in forward)")
    idx = call.inputs[0]
    g.add_node("Gather", [g.param(m.weight), g.cast(idx.name, idx.dtype, "int64")], [out(call).name], axis=0)


def _interpolate(g: GraphBuilder, call: Call) -> None:
    """Interpolate(x, out, scales, mode, align_corners) as Resize: the given scale factors when there are
    any (torch's coordinate rule then uses them), else the output sizes after x's own (N, C)."""
    x, y = call.inputs[0], out(call)
    out_size, scales, mode, align_corners = (call.static(i) for i in (1, 2, 3, 4))
    if mode in ("nearest", "nearest-exact"):
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
        if mode == "nearest-exact":
            attrs.update(coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")
    else:
        attrs = {"mode": "linear",
                 "coordinate_transformation_mode": "align_corners" if align_corners else "pytorch_half_pixel"}
    if all(sc is not None for sc in scales) and not align_corners:
        g.add_node("Resize", [x.name, "", g.constant([1.0, 1.0, *scales], "float32")], [y.name], **attrs)
        return
    if x.dynamic & set(range(2, x.rank)):
        call.fail("interpolation to a fixed size of spatial dims that follow dynamic axes is not supported")
    lead = g.add_node("Slice", [g.add_node("Shape", [x.name])[0], g.constant([0]), g.constant([2])])[0]
    sizes = g.add_node("Concat", [lead, g.constant(list(out_size))], axis=0)[0]
    g.add_node("Resize", [x.name, "", "", sizes], [y.name], **attrs)


def _training_dropout(g: GraphBuilder, call: Call) -> None:
    """Dropout that ran in forward (training=True, p > 0): its mask is a new random draw on every call."""
    call.fail("dropout with training=True and p > 0 in forward (F.dropout, F.alpha_dropout, F.dropout2d, ...) draws "
              "a new random mask on every call, which one graph cannot bake in; models are exported in eval mode: "
              "use nn.Dropout, or pass training=self.training")


EXPORTERS = {
    f"{_LB}.upsample.Interpolate": _interpolate,
    f"{_LB}.dropout.MaskAffineFn": _training_dropout,
    f"{_LB}.linear.Linear_": _linear,
    f"{_LB}.conv.ConvNd": _conv,
    f"{_LB}.conv_transpose.ConvTransposeNd": _conv_transpose,
    f"{_LB}._pool_core.MaxPoolNd": _max_pool,
    f"{_LB}._pool_core.AvgPoolNd": _avg_pool,
    f"{_LB}.adaptive_pool.AdaptiveAvgPoolNd": _adaptive("AveragePool"),
    f"{_LB}.adaptive_pool.AdaptiveMaxPoolNd": _adaptive("MaxPool"),
    f"{_LB}.padding.Pad": _pad,
    f"{_LB}.embedding.EmbeddingFn": _embedding_fn,
    f"{_LB}.embedding.Embedding": _embedding,
}
