"""MultiheadAttention as ONNX nodes: in-projections, heads, the attention core, the out-projection.

The graph works in the batch-first layout (N, L, E): a (L, N, E) input is transposed in and out,
an unbatched (L, E) one gets a batch dim of 1. Masks follow lamina's ``_mha``: bool masks become
additive (-inf where True), a 3-D attn_mask (N * H, L, S) is read as (N, H, L, S), the key padding
mask (N, S) as (N, 1, 1, S); ``is_causal`` replaces attn_mask by the causal mask exactly where
lamina does (no key padding mask and no weights asked for).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lamina_onnx import Call, GraphBuilder

from ._common import reduce
from .attention_core import Mask, additive, arguments, attend, axes, host, host_optional, linear, mask_of, node


def _pad_last(g: GraphBuilder, mask: str | None, rank: int) -> str | None:
    """One more (zero: attend) column along the last dim, for bias_k/bias_v and add_zero_attn."""
    if mask is None:
        return None
    pads = [0] * (2 * rank)
    pads[-1] = 1
    return node(g, "Pad", [mask, g.constant(pads)])


def _projection_weights(m: Any) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(weight, bias) of the q, k and v in-projections."""
    E = m.embed_dim
    if m._qkv_same_embed_dim:
        w = host(m.in_proj_weight)
        weights = [w[:E], w[E:2 * E], w[2 * E:]]
    else:
        weights = [host(m.q_proj_weight), host(m.k_proj_weight), host(m.v_proj_weight)]
    b = host_optional(m.in_proj_bias)
    biases = [None] * 3 if b is None else [b[:E], b[E:2 * E], b[2 * E:]]
    return list(zip(weights, biases))


def _append_row(g: GraphBuilder, x: str, row: np.ndarray, hint: str) -> str:
    """x (N, S, E) with ``row`` (1, 1, E) appended to every sequence -> (N, S + 1, E)."""
    batch = node(g, "Shape", [x], end=1)
    target = node(g, "Concat", [batch, g.constant([1, row.shape[-1]])], axis=0)
    tail = node(g, "Expand", [g.add_initializer(hint, row), target])
    return node(g, "Concat", [x, tail], axis=1)


def mha_block(g: GraphBuilder, hint: str, m: Any, query: str, key: str, value: str, *, rank: int,
              batch_first: bool, dtype: np.dtype, attn_mask: Mask | None, key_padding_mask: Mask | None,
              need_weights: bool, average_attn_weights: bool, is_causal: bool) -> tuple[str, str | None]:
    """One MultiheadAttention call on graph values -> (attn_output, attn_weights or None).

    Shape: query (L, N, E) / (N, L, E) with batch_first / (L, E) (``rank`` 2), key (S, N, kdim),
           value (S, N, vdim) -> attn_output like query, weights (N, L, S) averaged or (N, H, L, S)
    ``hint`` prefixes the initializers' names (the module's path and a dot).
    """
    E, H = m.embed_dim, m.num_heads
    d = E // H
    seen: dict[str, str] = {}

    def to_batch_first(x: str) -> str:
        if x not in seen:
            if rank == 2:
                seen[x] = node(g, "Unsqueeze", [x, axes(g, 0)])
            else:
                seen[x] = x if batch_first else node(g, "Transpose", [x], perm=[1, 0, 2])
        return seen[x]

    kpm = additive(g, key_padding_mask, dtype)
    if kpm is not None and key_padding_mask is not None and key_padding_mask.ndim == 1:
        kpm = node(g, "Unsqueeze", [kpm, axes(g, 0)])
    if is_causal and kpm is None and not need_weights:
        mask = None                        # lamina uses the causal flag alone here
    else:
        mask = additive(g, attn_mask, dtype)
        if kpm is not None:
            is_causal = False
    (wq, bq), (wk, bk), (wv, bv) = _projection_weights(m)
    q = linear(g, to_batch_first(query), wq, bq, f"{hint}q_proj")
    k = linear(g, to_batch_first(key), wk, bk, f"{hint}k_proj")
    v = linear(g, to_batch_first(value), wv, bv, f"{hint}v_proj")
    mask_rank = attn_mask.ndim if attn_mask is not None else 0
    if m.bias_k is not None:
        k = _append_row(g, k, host(m.bias_k), f"{hint}bias_k")
        v = _append_row(g, v, host(m.bias_v), f"{hint}bias_v")
        mask, kpm = _pad_last(g, mask, mask_rank), _pad_last(g, kpm, 2)
    if m.add_zero_attn:
        k, v = (node(g, "Pad", [x, g.constant([0, 0, 0, 0, 1, 0])]) for x in (k, v))
        mask, kpm = _pad_last(g, mask, mask_rank), _pad_last(g, kpm, 2)
    heads = g.constant([0, 0, H, d])
    qh, kh, vh = (node(g, "Transpose", [node(g, "Reshape", [x, heads])], perm=[0, 2, 1, 3]) for x in (q, k, v))
    if mask is not None and mask_rank == 3:                         # (N * H, L, S) -> (N, H, L, S)
        target = node(g, "Concat", [g.constant([-1, H]), node(g, "Shape", [mask], start=1)], axis=0)
        mask = node(g, "Reshape", [mask, target])
    if kpm is not None:                                             # (N, S) -> (N, 1, 1, S)
        kpm = node(g, "Unsqueeze", [kpm, axes(g, 1, 2)])
        mask = kpm if mask is None else node(g, "Add", [mask, kpm])
    out, p = attend(g, qh, kh, vh, 4, 1.0 / math.sqrt(d), dtype, mask=mask, causal=is_causal,
                    empty_rows_nan=need_weights)
    y = node(g, "Reshape", [node(g, "Transpose", [out], perm=[0, 2, 1, 3]), g.constant([0, 0, E])])
    y = linear(g, y, host(m.out_proj.weight), host_optional(m.out_proj.bias), f"{hint}out_proj")
    if rank == 2:
        y = node(g, "Squeeze", [y, axes(g, 0)])
    elif not batch_first:
        y = node(g, "Transpose", [y], perm=[1, 0, 2])
    if not need_weights:
        return y, None
    weights = reduce(g, "ReduceMean", p, [1], False) if average_attn_weights else p
    if rank == 2:
        weights = node(g, "Squeeze", [weights, axes(g, 0)])
    return y, weights


def export_multihead_attention(g: GraphBuilder, call: Call) -> None:
    """MultiheadAttention(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights,
    is_causal) -> attn_output [, attn_weights] (see ``mha_block``)."""
    m = call.module
    a = arguments(call)
    q, k, v = (call.value(a[name]) for name in ("query", "key", "value"))
    y, weights = mha_block(
        g, f"{call.path}." if call.path else "", m, q.name, k.name, v.name, rank=q.rank,
        batch_first=m.batch_first and q.rank == 3, dtype=q.dtype, attn_mask=mask_of(call, a["attn_mask"]),
        key_padding_mask=mask_of(call, a["key_padding_mask"]), need_weights=bool(a["need_weights"]),
        average_attn_weights=bool(a["average_attn_weights"]), is_causal=bool(a["is_causal"]))
    outputs = call.output_names
    node(g, "Identity", [y], outputs[0])
    if weights is not None:
        node(g, "Identity", [weights], outputs[1])


def _split_heads(g: GraphBuilder, x: str, H: int, batch_first: bool) -> str:
    """(L, N, E) or (N, L, E) -> (N, H, L, E // H)."""
    x = node(g, "Reshape", [x, g.constant([0, 0, H, -1])])
    return node(g, "Transpose", [x], perm=[0, 2, 1, 3] if batch_first else [1, 2, 0, 3])


def export_attention_core(g: GraphBuilder, call: Call) -> None:
    """MultiHeadAttentionCore(q, k, v, mask, drop, heads, scale, causal, batch_first, need_weights): the
    attention of projected inputs (F.multi_head_attention_forward traced op by op).

    Shape: q (L, N, E) or (N, L, E) (with k and v None: the packed (.., 3E) projection), k (S, N, E),
           v (S, N, Ev), mask additive, broadcastable to (N, H, L, S) -> (L, N, Ev) [, weights (N, H, L, S)]
    """
    q, k, v, mask = call.args[:4]
    if call.args[4] is not None:
        call.fail("attention dropout in training mode draws a random mask; call it with training=False")
    H, scale, causal = call.static(5), call.static(6), call.static(7)
    batch_first, need_weights = call.static(8), call.static(9)
    qv = call.value(q)
    if k is None:
        e = qv.shape[-1] // 3
        names = g.add_node("Split", [qv.name, g.constant([e, e, e])], 3, axis=-1)
    else:
        names = [qv.name, call.value(k).name, call.value(v).name]
    qh, kh, vh = (_split_heads(g, x, H, batch_first) for x in names)
    added = None
    if mask is not None:
        mv = call.value(mask)
        added = g.cast(mv.name, mv.dtype, qv.dtype)
    out, p = attend(g, qh, kh, vh, 4, float(scale), qv.dtype, mask=added, causal=bool(causal),
                    empty_rows_nan=bool(need_weights))
    y = node(g, "Transpose", [out], perm=[0, 2, 1, 3] if batch_first else [2, 0, 1, 3])
    outputs = call.output_names
    node(g, "Reshape", [y, g.constant([0, 0, -1])], outputs[0])
    if need_weights:
        node(g, "Identity", [p], outputs[1])
