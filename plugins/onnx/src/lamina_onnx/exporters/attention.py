"""Exporters for lamina-layers-attention: F.scaled_dot_product_attention and the attention core of
F.multi_head_attention_forward (ops), MultiheadAttention, TransformerEncoderLayer and
TransformerEncoder (modules exported as units).

The transformer modules are units rather than traced through because their forward turns bool
masks into float ones with ``zeros(mask.shape)``, a tensor made outside lamina's ops whose shape
follows the batch: traced, it would be baked into the graph as a constant. The graph pieces live
in ``attention_core`` (masks, the attention core), ``attention_mha`` and ``attention_transformer``.
"""

from __future__ import annotations

from lamina import Tensor

from lamina_onnx import Call, GraphBuilder

from .attention_core import attend, node
from .attention_mha import export_attention_core, export_multihead_attention
from .attention_transformer import export_transformer_encoder, export_transformer_encoder_layer

__lamina_plugin_api__ = "1.0"


def _repeat_heads(g: GraphBuilder, x: str, rank: int, groups: int, heads: int) -> str:
    """Grouped-query attention: each key/value head used by ``groups`` query heads in a row.

    Shape: x (..., Hk, S, E) -> (..., Hk * groups, S, E)
    """
    x5 = node(g, "Unsqueeze", [x, g.constant([rank - 2])])                  # (..., Hk, 1, S, E)
    reps = [1] * (rank + 1)
    reps[rank - 2] = groups
    x5 = node(g, "Expand", [x5, g.constant(reps)])
    parts = [g.constant([heads * groups]), node(g, "Shape", [x], start=rank - 2)]
    if rank > 3:
        parts.insert(0, node(g, "Shape", [x], end=rank - 3))
    return node(g, "Reshape", [x5, node(g, "Concat", parts, axis=0)])


def export_scaled_dot_product_attention(g: GraphBuilder, call: Call) -> None:
    """ScaledDotProductAttention(query, key, value, attn_mask, drop, scale, is_causal, groups).

    Shape: query (..., Hq, L, E), key (..., Hk, S, E), value (..., Hk, S, Ev), attn_mask bool (True =
           attend) or float, broadcastable to (..., L, S) -> (..., Hq, L, Ev)
    """
    query, key, value, mask = call.args[:4]
    if call.args[4] is not None:
        call.fail("dropout_p > 0 draws a random mask on every call; export with dropout_p=0.0 (dropout "
                  "belongs to training, and F.scaled_dot_product_attention has no eval switch)")
    scale, causal, groups = call.static(5), call.static(6), call.static(7)
    q, k, v = (call.value(t) for t in (query, key, value))
    kn, vn = k.name, v.name
    if groups > 1:
        kn = _repeat_heads(g, kn, k.rank, groups, k.shape[-3])
        vn = _repeat_heads(g, vn, v.rank, groups, v.shape[-3])
    added = attend_where = None
    if isinstance(mask, Tensor):
        m = call.value(mask)
        if m.dtype.kind == "b":
            attend_where = m.name
        else:
            added = g.cast(m.name, m.dtype, q.dtype)
    out, _ = attend(g, q.name, kn, vn, k.rank, float(scale), q.dtype, mask=added, attend_where=attend_where,
                    causal=bool(causal))
    node(g, "Identity", [out], call.output_names[0])


EXPORTERS = {
    "lamina_layers_attention.sdpa.ScaledDotProductAttention": export_scaled_dot_product_attention,
    "lamina_layers_attention.multihead.MultiheadAttention": export_multihead_attention,
    "lamina_layers_attention._heads.MultiHeadAttentionCore": export_attention_core,
    "lamina_layers_attention.transformer.TransformerEncoderLayer": export_transformer_encoder_layer,
    "lamina_layers_attention.transformer.TransformerEncoder": export_transformer_encoder,
}
