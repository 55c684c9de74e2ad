"""TransformerEncoderLayer and TransformerEncoder as ONNX nodes (eval: every Dropout is the identity).

A layer is self-attention (``mha_block``) and a feed-forward block, each with a residual
connection and a LayerNormalization, before the block (``norm_first``) or after the residual.
"""

from __future__ import annotations

import math
from typing import Any

import lamina
import lamina.nn.functional as F
import numpy as np

from lamina_onnx import Call, GraphBuilder

from .attention_core import Mask, arguments, host, host_optional, linear, mask_of, node
from .attention_mha import mha_block


def _prefix(path: str) -> str:
    return f"{path}." if path else ""


def layer_norm(g: GraphBuilder, call: Call, norm: Any, x: str, dtype: np.dtype, hint: str) -> str:
    """LayerNorm over the last len(normalized_shape) dims -> LayerNormalization."""
    if type(norm).forward is not lamina.nn.LayerNorm.forward:
        call.fail(f"{hint.rstrip('.') or 'norm'} is a {type(norm).__name__}; only LayerNorm is exported here")
    shape = tuple(norm.normalized_shape)
    weight = host_optional(norm.weight)
    scale = g.add_initializer(f"{hint}weight", np.ones(shape, dtype) if weight is None else weight)
    inputs = [x, scale]
    bias = host_optional(getattr(norm, "bias", None))
    if bias is not None:
        inputs.append(g.add_initializer(f"{hint}bias", bias))
    return node(g, "LayerNormalization", inputs, axis=-len(shape), epsilon=float(norm.eps))


def _gelu(g: GraphBuilder, x: str, dtype: np.dtype, approximate: str) -> str:
    if g.opset >= 20:
        return node(g, "Gelu", [x], approximate=approximate)
    c = lambda value: g.constant(value, dtype)  # noqa: E731
    if approximate == "tanh":             # 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        cube = node(g, "Mul", [node(g, "Mul", [x, x]), x])
        inner = node(g, "Add", [x, node(g, "Mul", [cube, c(0.044715)])])
        t = node(g, "Tanh", [node(g, "Mul", [inner, c(math.sqrt(2.0 / math.pi))])])
    else:                                 # 0.5 x (1 + erf(x / sqrt(2)))
        t = node(g, "Erf", [node(g, "Mul", [x, c(1.0 / math.sqrt(2.0))])])
    return node(g, "Mul", [node(g, "Mul", [x, c(0.5)]), node(g, "Add", [t, c(1.0)])])


def activation(g: GraphBuilder, call: Call, fn: Any, x: str, dtype: np.dtype) -> str:
    if fn is F.relu or isinstance(fn, lamina.nn.ReLU):
        return node(g, "Relu", [x])
    if fn is F.gelu:
        return _gelu(g, x, dtype, "none")
    if isinstance(fn, lamina.nn.GELU):
        return _gelu(g, x, dtype, fn.approximate)
    call.fail(f"activation {getattr(fn, '__name__', type(fn).__name__)!r}: only relu and gelu (the functions "
              "or the ReLU/GELU modules) are exported")


def encoder_layer(g: GraphBuilder, call: Call, layer: Any, x: str, hint: str, *, rank: int, dtype: np.dtype,
                  mask: Mask | None, key_padding_mask: Mask | None, is_causal: bool) -> str:
    """One TransformerEncoderLayer on a graph value. Shape: x (S, N, E), (N, S, E) or (S, E) -> like x"""
    if type(layer).forward is not lamina.nn.TransformerEncoderLayer.forward:
        call.fail(f"{hint.rstrip('.')} is a {type(layer).__name__} with its own forward; only "
                  "TransformerEncoderLayer is exported here")
    attn = layer.self_attn

    def self_attention(h: str) -> str:
        return mha_block(g, f"{hint}self_attn.", attn, h, h, h, rank=rank, batch_first=attn.batch_first and rank == 3,
                         dtype=dtype, attn_mask=mask, key_padding_mask=key_padding_mask, need_weights=False,
                         average_attn_weights=True, is_causal=is_causal)[0]

    def feed_forward(h: str) -> str:
        h = linear(g, h, host(layer.linear1.weight), host_optional(layer.linear1.bias), f"{hint}linear1")
        h = activation(g, call, layer.activation, h, dtype)
        return linear(g, h, host(layer.linear2.weight), host_optional(layer.linear2.bias), f"{hint}linear2")

    def norm(k: int, h: str) -> str:
        return layer_norm(g, call, getattr(layer, f"norm{k}"), h, dtype, f"{hint}norm{k}.")

    if layer.norm_first:
        x = node(g, "Add", [x, self_attention(norm(1, x))])
        return node(g, "Add", [x, feed_forward(norm(2, x))])
    x = norm(1, node(g, "Add", [x, self_attention(x)]))
    return norm(2, node(g, "Add", [x, feed_forward(x)]))


def export_transformer_encoder_layer(g: GraphBuilder, call: Call) -> None:
    """TransformerEncoderLayer(src, src_mask, src_key_padding_mask, is_causal) -> output like src."""
    a = arguments(call)
    src = call.value(a["src"])
    y = encoder_layer(g, call, call.module, src.name, _prefix(call.path), rank=src.rank, dtype=src.dtype,
                      mask=mask_of(call, a["src_mask"]), key_padding_mask=mask_of(call, a["src_key_padding_mask"]),
                      is_causal=bool(a["is_causal"]))
    node(g, "Identity", [y], call.output_names[0])


def export_transformer_encoder(g: GraphBuilder, call: Call) -> None:
    """TransformerEncoder(src, mask, src_key_padding_mask, is_causal): its layers, then its norm.

    ``is_causal=None`` uses the mask as given: where lamina detects a causal mask and switches to the
    causal flag, both give the same result.
    """
    m = call.module
    a = arguments(call)
    src = call.value(a["src"])
    mask, kpm = mask_of(call, a["mask"]), mask_of(call, a["src_key_padding_mask"])
    prefix = _prefix(call.path)
    y = src.name
    for k, layer in enumerate(m.layers):
        y = encoder_layer(g, call, layer, y, f"{prefix}layers.{k}.", rank=src.rank, dtype=src.dtype, mask=mask,
                          key_padding_mask=kpm, is_causal=bool(a["is_causal"]))
    if m.norm is not None:
        y = layer_norm(g, call, m.norm, y, src.dtype, f"{prefix}norm.")
    node(g, "Identity", [y], call.output_names[0])
