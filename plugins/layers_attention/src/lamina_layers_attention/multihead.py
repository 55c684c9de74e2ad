"""MultiheadAttention and F.multi_head_attention_forward (PyTorch's signatures, masks and outputs).

Self-attention with packed weights is one (N*L, E) @ (E, 3E) GEMM for the in-projection, one fused
attention Function (heads as reshape views + batched matmuls, ``_heads.py``) and one GEMM for the
out-projection. ``batch_first`` inputs are used in place (no transposes around the layer).
"""

from __future__ import annotations

import math
from typing import Any

import lamina
from lamina import Tensor
from lamina.errors import ShapeError
from lamina.nn import Module, Parameter

from ._heads import MultiHeadAttentionCore
from ._masks import additive_mask, pad_last
from .sdpa import dropout_keep

__lamina_plugin_api__ = "1.0"


def _linear(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    return lamina.nn.functional.linear(x, w, b)


def _check_shapes(name: str, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any, attn_mask: Any,
                  num_heads: int) -> bool:
    """PyTorch's shape rules; returns whether the input is batched."""
    if query.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected query of 2 dims (L, E) (unbatched) or 3 dims (batched), got "
                         f"{query.ndim}-D query of shape {tuple(query.shape)}")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{name}: expected key and value with {query.ndim} dims like query, got {key.ndim}-D and "
                         f"{value.ndim}-D tensors")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ShapeError(f"{name}: expected key_padding_mask with {query.ndim - 1} dims for a {query.ndim}-D query, "
                         f"got {key_padding_mask.ndim}-D tensor")
    if attn_mask is not None and attn_mask.ndim not in (2, 3):
        raise ShapeError(f"{name}: expected attn_mask of 2 dims (L, S) or 3 dims (N * num_heads, L, S), got "
                         f"{attn_mask.ndim}-D tensor")
    if not batched and attn_mask is not None and attn_mask.ndim == 3:
        want = (num_heads, query.shape[0], key.shape[0])
        if tuple(attn_mask.shape) != want:
            raise ShapeError(f"{name}: expected attn_mask of shape {want}, got {tuple(attn_mask.shape)}")
    return batched


def _heads_to_layout(t: Tensor, n: int, heads: int, batch_first: bool) -> Tensor:
    """static_k / static_v (N * H, S, d) -> (S, N, E) or (N, S, E)."""
    s, d = t.shape[1], t.shape[2]
    t = t.reshape(n, heads, s, d)
    return (t.permute(0, 2, 1, 3) if batch_first else t.permute(2, 0, 1, 3)).reshape(
        (n, s, heads * d) if batch_first else (s, n, heads * d))


def _mha(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
         add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
         attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k, static_v,
         average_attn_weights, is_causal, batch_first, name):
    batched = _check_shapes(name, query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:
        batch_first = False
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    seq_ax = 1 if batch_first else 0
    bsz = query.shape[1 - seq_ax]
    tgt_len, src_len, embed_dim = query.shape[seq_ax], key.shape[seq_ax], query.shape[2]
    key_padding_mask = additive_mask(key_padding_mask, "key_padding_mask", attn_mask, "attn_mask", query, name)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{name}: need attn_mask if specifying the is_causal hint; "
                           "Transformer.generate_square_subsequent_mask creates one")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None                                     # the causal flag alone, as PyTorch's SDPA path
    else:
        attn_mask = additive_mask(attn_mask, "attn_mask", None, "", query, name)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise ShapeError(f"{name}: expected query with embed_dim {embed_dim_to_check} features, got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise ShapeError(f"{name}: expected embed_dim divisible by num_heads, got {embed_dim} and {num_heads}")
    kv_batch = (key.shape[1 - seq_ax], key.shape[seq_ax])
    if use_separate_proj_weight:
        if (key.shape[1 - seq_ax], key.shape[seq_ax]) != (value.shape[1 - seq_ax], value.shape[seq_ax]):
            raise ShapeError(f"{name}: expected key and value with the same sequence and batch dims, got key "
                             f"{tuple(key.shape)} and value {tuple(value.shape)}")
    elif tuple(key.shape) != tuple(value.shape):
        raise ShapeError(f"{name}: expected key and value of the same shape, got {tuple(key.shape)} and "
                         f"{tuple(value.shape)}")
    if kv_batch[0] != bsz:
        raise ShapeError(f"{name}: expected key and value with batch size {bsz} (query's), got {kv_batch[0]}")

    packed = (not use_separate_proj_weight and query is key and key is value and bias_k is None
              and bias_v is None and static_k is None and static_v is None and not add_zero_attn)
    if packed:
        q, k, v = _linear(query, in_proj_weight, in_proj_bias), None, None     # one GEMM: (.., 3E)
    else:
        E = embed_dim
        if use_separate_proj_weight:
            wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
        else:
            wq, wk, wv = in_proj_weight[:E], in_proj_weight[E:2 * E], in_proj_weight[2 * E:]
        bq = bk = bv = None
        if in_proj_bias is not None:
            bq, bk, bv = in_proj_bias[:E], in_proj_bias[E:2 * E], in_proj_bias[2 * E:]
        q, k, v = _linear(query, wq, bq), _linear(key, wk, bk), _linear(value, wv, bv)
        if (bias_k is None) != (bias_v is None):
            raise ValueError(f"{name}: bias_k and bias_v must be given together")
        if bias_k is not None:
            if static_k is not None or static_v is not None:
                raise ValueError(f"{name}: bias_k/bias_v cannot be added to a static key/value")
            shape = (bsz, 1, E) if batch_first else (1, bsz, E)
            k = lamina.cat([k, bias_k.reshape(1, 1, E).expand(*shape)], seq_ax)
            v = lamina.cat([v, bias_v.reshape(1, 1, E).expand(*shape)], seq_ax)
            attn_mask, key_padding_mask = pad_last(attn_mask), pad_last(key_padding_mask)
        for what, st in (("static_k", static_k), ("static_v", static_v)):
            if st is not None and (st.shape[0] != bsz * num_heads or st.shape[2] != head_dim):
                raise ShapeError(f"{name}: expected {what} of shape ({bsz * num_heads}, S, {head_dim}) "
                                 f"(N * num_heads, S, head_dim), got {tuple(st.shape)}")
        if static_k is not None:
            k = _heads_to_layout(static_k, bsz, num_heads, batch_first)
        if static_v is not None:
            v = _heads_to_layout(static_v, bsz, num_heads, batch_first)
        if add_zero_attn:
            zshape = (bsz, 1, E) if batch_first else (1, bsz, E)
            k = lamina.cat([k, lamina.zeros(*zshape, dtype=k.dtype, device=k.device)], seq_ax)
            v = lamina.cat([v, lamina.zeros(*zshape, dtype=v.dtype, device=v.device)], seq_ax)
            attn_mask, key_padding_mask = pad_last(attn_mask), pad_last(key_padding_mask)
        src_len = k.shape[seq_ax]

    mask = None
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise ShapeError(f"{name}: expected a 2-D attn_mask of shape {(tgt_len, src_len)} (L, S), got "
                                 f"{tuple(attn_mask.shape)}")
            mask = attn_mask
        else:
            want = (bsz * num_heads, tgt_len, src_len)
            if tuple(attn_mask.shape) != want:
                raise ShapeError(f"{name}: expected a 3-D attn_mask of shape {want} (N * num_heads, L, S), got "
                                 f"{tuple(attn_mask.shape)}")
            mask = attn_mask.reshape(bsz, num_heads, tgt_len, src_len)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise ShapeError(f"{name}: expected key_padding_mask of shape {(bsz, src_len)} (N, S), got "
                             f"{tuple(key_padding_mask.shape)}")
        kpm = key_padding_mask.reshape(bsz, 1, 1, src_len)
        mask = kpm if mask is None else mask + kpm
    drop = None
    if training and dropout_p > 0.0:
        drop = dropout_keep(query, (bsz, num_heads, tgt_len, src_len), dropout_p)
    scale = 1.0 / math.sqrt(head_dim)
    res = MultiHeadAttentionCore.apply(q, k, v, mask, drop, num_heads, scale, bool(is_causal), batch_first,
                                       bool(need_weights))
    out, weights = (res if need_weights else (res, None))
    out = _linear(out, out_proj_weight, out_proj_bias)
    if weights is not None and average_attn_weights:
        weights = weights.mean(1)
    if not batched:
        out = out.squeeze(1)
        if weights is not None:
            weights = weights.squeeze(0)
    return out, weights


def multi_head_attention_forward(
        query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
        in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None, bias_v: Tensor | None,
        add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
        training: bool = True, key_padding_mask: Tensor | None = None, need_weights: bool = True,
        attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
        k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
        static_v: Tensor | None = None, average_attn_weights: bool = True,
        is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention with explicit weights (what MultiheadAttention.forward calls).

    Shape:
        query (L, N, E) or (L, E), key (S, N, kdim), value (S, N, vdim), key_padding_mask (N, S),
        attn_mask (L, S) or (N * num_heads, L, S) -> output (L, N, E), weights (N, L, S) averaged over
        heads or (N, num_heads, L, S), None when need_weights is False
    """
    name = "multi_head_attention_forward"
    if use_separate_proj_weight:
        missing = [n for n, w in (("q_proj_weight", q_proj_weight), ("k_proj_weight", k_proj_weight),
                                  ("v_proj_weight", v_proj_weight)) if w is None]
        if missing:
            raise ValueError(f"{name}: use_separate_proj_weight is True but {', '.join(missing)} is None")
    elif in_proj_weight is None:
        raise ValueError(f"{name}: use_separate_proj_weight is False but in_proj_weight is None")
    return _mha(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
                add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask, need_weights,
                attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, static_k,
                static_v, average_attn_weights, is_causal, False, name)


class NonDynamicallyQuantizableLinear(lamina.nn.Linear):
    """The out-projection of MultiheadAttention: a Linear under PyTorch's class name (same keys and repr).

    Shape: input (*, in_features) -> output (*, out_features)
    """


def xavier_uniform(t: Tensor, fan_in: int, fan_out: int) -> None:
    """U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), drawn with the core's RNG (no lamina-init needed)."""
    bound = math.sqrt(6.0 / (fan_in + fan_out)) if fan_in + fan_out > 0 else 0.0
    with lamina.no_grad():
        t.uniform_(-bound, bound)


def _xavier_uniform_2d(t: Tensor) -> None:
    xavier_uniform(t, t.shape[1], t.shape[0])


class MultiheadAttention(Module):
    """Attention over ``num_heads`` heads with learned in/out projections.

    Shape:
        query (L, N, E) or (N, L, E) with batch_first or unbatched (L, E); key (S, N, kdim);
        value (S, N, vdim); key_padding_mask (N, S) or (S,); attn_mask (L, S) or (N * num_heads, L, S)
        -> attn_output like query, attn_weights (N, L, S) (averaged) or (N, num_heads, L, S), or None
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device: Any = None, dtype: Any = None) -> None:
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads}")
        super().__init__()
        fk = {"device": device, "dtype": dtype}
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError(f"MultiheadAttention: expected embed_dim divisible by num_heads, got embed_dim="
                             f"{embed_dim} and num_heads={num_heads}")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(lamina.empty(3 * embed_dim, embed_dim, **fk))
            for n in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(n, None)
        else:
            self.q_proj_weight = Parameter(lamina.empty(embed_dim, embed_dim, **fk))
            self.k_proj_weight = Parameter(lamina.empty(embed_dim, self.kdim, **fk))
            self.v_proj_weight = Parameter(lamina.empty(embed_dim, self.vdim, **fk))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(lamina.empty(3 * embed_dim, **fk))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **fk)
        if add_bias_kv:
            self.bias_k = Parameter(lamina.empty(1, 1, embed_dim, **fk))
            self.bias_v = Parameter(lamina.empty(1, 1, embed_dim, **fk))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            _xavier_uniform_2d(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                _xavier_uniform_2d(w)
        with lamina.no_grad():
            if self.in_proj_bias is not None:
                self.in_proj_bias.zero_()
                self.out_proj.bias.zero_()
            for b in (self.bias_k, self.bias_v):
                if b is not None:               # xavier_normal_ on (1, 1, E): std = sqrt(2 / (E + E))
                    b.normal_(0.0, math.sqrt(2.0 / (2 * self.embed_dim)))

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        return _mha(query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
                    self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight,
                    self.out_proj.bias, self.training, key_padding_mask, need_weights, attn_mask,
                    not self._qkv_same_embed_dim, self.q_proj_weight, self.k_proj_weight, self.v_proj_weight,
                    None, None, average_attn_weights, is_causal, self.batch_first and query.ndim == 3,
                    "MultiheadAttention")
