"""NumPy float64 references for the info records: the formulas written out directly.

Masks follow PyTorch: for scaled_dot_product_attention a bool mask is True where attention is
allowed; for MultiheadAttention and the Transformer layers a bool mask is True where it is not.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.vectorize(math.erf)


def _softmax_rows(z: np.ndarray, empty_rows_nan: bool) -> np.ndarray:
    m = z.max(-1, keepdims=True)
    e = np.exp(z - np.where(np.isfinite(m), m, 0.0))
    s = e.sum(-1, keepdims=True)
    return e / np.where(s == 0, np.nan if empty_rows_nan else 1.0, s)


def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    if enable_gqa and q.ndim >= 3 and k.shape[-3] != q.shape[-3]:
        g = q.shape[-3] // k.shape[-3]
        k, v = np.repeat(k, g, axis=-3), np.repeat(v, g, axis=-3)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    z = q @ np.swapaxes(k, -1, -2) * scale
    if attn_mask is not None:
        z = np.where(attn_mask, z, -np.inf) if attn_mask.dtype == bool else z + attn_mask
    if is_causal:
        L, S = z.shape[-2:]
        z = np.where(np.tril(np.ones((L, S), dtype=bool)), z, -np.inf)
    return _softmax_rows(z, False) @ v


def _additive(mask):
    if mask is None or mask.dtype != bool:
        return mask
    return np.where(mask, -np.inf, 0.0)


def mha(p, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None, average_attn_weights=True,
        is_causal=False, *, num_heads, batch_first=False, add_zero_attn=False, prefix=""):
    """MultiheadAttention with the parameters ``p`` (state_dict names under ``prefix``)."""
    batched = query.ndim == 3
    if not batched:
        query, key, value = query[:, None], key[:, None], value[:, None]
        key_padding_mask = None if key_padding_mask is None else key_padding_mask[None]
    elif batch_first:
        query, key, value = (np.swapaxes(t, 0, 1) for t in (query, key, value))
    L, N, E = query.shape
    H, d = num_heads, E // num_heads
    w = p.get(prefix + "in_proj_weight")
    wq, wk, wv = (w[:E], w[E:2 * E], w[2 * E:]) if w is not None else (
        p[prefix + "q_proj_weight"], p[prefix + "k_proj_weight"], p[prefix + "v_proj_weight"])
    b = p.get(prefix + "in_proj_bias")
    bq, bk, bv = (b[:E], b[E:2 * E], b[2 * E:]) if b is not None else (0.0, 0.0, 0.0)
    q, k, v = query @ wq.T + bq, key @ wk.T + bk, value @ wv.T + bv
    am, kpm = _additive(attn_mask), _additive(key_padding_mask)
    if prefix + "bias_k" in p:
        k = np.concatenate([k, np.broadcast_to(p[prefix + "bias_k"], (1, N, E))])
        v = np.concatenate([v, np.broadcast_to(p[prefix + "bias_v"], (1, N, E))])
        am = None if am is None else np.concatenate([am, np.zeros(am.shape[:-1] + (1,))], -1)
        kpm = None if kpm is None else np.concatenate([kpm, np.zeros((N, 1))], -1)
    if add_zero_attn:
        k, v = (np.concatenate([t, np.zeros((1, N, E))]) for t in (k, v))
        am = None if am is None else np.concatenate([am, np.zeros(am.shape[:-1] + (1,))], -1)
        kpm = None if kpm is None else np.concatenate([kpm, np.zeros((N, 1))], -1)
    S = k.shape[0]
    qh, kh, vh = (t.reshape(t.shape[0], N, H, d).transpose(1, 2, 0, 3) for t in (q, k, v))   # (N, H, len, d)
    z = qh @ kh.swapaxes(-1, -2) / math.sqrt(d)
    if am is not None:
        z = z + (am if am.ndim == 2 else am.reshape(N, H, L, S))
    if kpm is not None:
        z = z + kpm[:, None, None, :]
    attn = _softmax_rows(z, need_weights)
    out = (attn @ vh).transpose(2, 0, 1, 3).reshape(L, N, E)
    out = out @ p[prefix + "out_proj.weight"].T + p.get(prefix + "out_proj.bias", 0.0)
    weights = attn.mean(1) if average_attn_weights else attn
    if not batched:
        out, weights = out[:, 0], weights[0]
    elif batch_first:
        out = np.swapaxes(out, 0, 1)
    return (out, weights) if need_weights else (out,)


def layer_norm(p, x, name, eps=1e-5):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * p[name + ".weight"] + p.get(name + ".bias", 0.0)


def _act(x, activation):
    if activation == "gelu":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    return np.maximum(x, 0.0)


def _ff(p, x, prefix, activation):
    h = _act(x @ p[prefix + "linear1.weight"].T + p.get(prefix + "linear1.bias", 0.0), activation)
    return h @ p[prefix + "linear2.weight"].T + p.get(prefix + "linear2.bias", 0.0)


def encoder_layer(p, src, src_mask=None, src_key_padding_mask=None, is_causal=False, *, nhead, batch_first=False,
                  norm_first=False, activation="relu", prefix=""):
    def sa(x):
        return mha(p, x, x, x, src_key_padding_mask, False, src_mask, num_heads=nhead, batch_first=batch_first,
                   prefix=prefix + "self_attn.")[0]

    x = src
    if norm_first:
        x = x + sa(layer_norm(p, x, prefix + "norm1"))
        return x + _ff(p, layer_norm(p, x, prefix + "norm2"), prefix, activation)
    x = layer_norm(p, x + sa(x), prefix + "norm1")
    return layer_norm(p, x + _ff(p, x, prefix, activation), prefix + "norm2")


def decoder_layer(p, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                  memory_key_padding_mask=None, *, nhead, batch_first=False, norm_first=False, activation="relu",
                  prefix=""):
    def sa(x):
        return mha(p, x, x, x, tgt_key_padding_mask, False, tgt_mask, num_heads=nhead, batch_first=batch_first,
                   prefix=prefix + "self_attn.")[0]

    def ca(x):
        return mha(p, x, memory, memory, memory_key_padding_mask, False, memory_mask, num_heads=nhead,
                   batch_first=batch_first, prefix=prefix + "multihead_attn.")[0]

    x = tgt
    if norm_first:
        x = x + sa(layer_norm(p, x, prefix + "norm1"))
        x = x + ca(layer_norm(p, x, prefix + "norm2"))
        return x + _ff(p, layer_norm(p, x, prefix + "norm3"), prefix, activation)
    x = layer_norm(p, x + sa(x), prefix + "norm1")
    x = layer_norm(p, x + ca(x), prefix + "norm2")
    return layer_norm(p, x + _ff(p, x, prefix, activation), prefix + "norm3")


def encoder(p, src, mask=None, src_key_padding_mask=None, *, num_layers, norm=True, prefix="", **cfg):
    x = src
    for i in range(num_layers):
        x = encoder_layer(p, x, mask, src_key_padding_mask, prefix=f"{prefix}layers.{i}.", **cfg)
    return layer_norm(p, x, prefix + "norm") if norm else x


def decoder(p, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
            *, num_layers, norm=True, prefix="", **cfg):
    x = tgt
    for i in range(num_layers):
        x = decoder_layer(p, x, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
                          prefix=f"{prefix}layers.{i}.", **cfg)
    return layer_norm(p, x, prefix + "norm") if norm else x


def transformer(p, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, *, num_encoder_layers, num_decoder_layers,
                **cfg):
    memory = encoder(p, src, src_mask, src_key_padding_mask, num_layers=num_encoder_layers, prefix="encoder.", **cfg)
    return decoder(p, tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask,
                   num_layers=num_decoder_layers, prefix="decoder.", **cfg)
