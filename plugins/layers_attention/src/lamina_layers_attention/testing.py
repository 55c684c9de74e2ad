"""Info records for the conformance kit: every layer and function of lamina-layers-attention.

Records use dropout=0.0 (deterministic; train and eval agree) except one tagged train_eval_differ.
Masks never cover a whole row, so outputs and gradients stay finite. The first sample of each
layer record has no masks, so the kit's zero-batch and batch-independence checks can slice it.
A stack's record has norm=None: a module instance in init_kwargs would be shared by every build
(the Transformer record covers the final norms).
"""

from __future__ import annotations

import functools
from typing import Any

from lamina.errors import ShapeError
from lamina.testing import ErrorInput, FunctionInfo, ModuleInfo, Sample

from . import _refs

DBL = frozenset({"double_backward"})

__lamina_plugin_api__ = "1.0"


def _randn(xp, dtype, rng, *shape) -> Any:
    return xp.asarray(rng.standard_normal(shape).astype(dtype))


def _keep_some(xp, rng, shape, p=0.3, true_means_masked=True) -> Any:
    """A random bool mask that never masks a whole row (last dim): column 0 always attends."""
    m = rng.random(shape) < p
    m[..., 0] = False
    return xp.asarray(m if true_means_masked else ~m)


# --- scaled_dot_product_attention -------------------------------------------------------------------

def _sdpa_samples(xp, dtype, rng):
    r = functools.partial(_randn, xp, dtype, rng)
    return [
        Sample((r(2, 3, 4, 8), r(2, 3, 5, 8), r(2, 3, 5, 6)), name="basic"),
        Sample((r(2, 4, 8), r(2, 5, 8), r(2, 5, 8)),
               {"attn_mask": _keep_some(xp, rng, (4, 5), true_means_masked=False)}, name="bool_mask"),
        Sample((r(2, 2, 4, 8), r(2, 2, 5, 8), r(2, 2, 5, 8)), {"attn_mask": r(2, 1, 4, 5), "scale": 0.5},
               name="float_mask_scale"),
        Sample((r(2, 6, 8), r(2, 5, 8), r(2, 5, 3)), {"is_causal": True}, name="causal_l_gt_s"),
        Sample((r(1, 4, 3, 8), r(1, 2, 5, 8), r(1, 2, 5, 8)), {"enable_gqa": True}, name="gqa"),
        Sample((r(5, 3, 8), r(7, 8), r(7, 4)), name="broadcast_batch"),
    ]


def _sdpa_errors(xp, dtype, rng):
    r = functools.partial(_randn, xp, dtype, rng)
    name = "scaled_dot_product_attention"
    return [
        ErrorInput(Sample((r(2, 4, 8), r(2, 5, 6), r(2, 5, 6))), ShapeError, f"{name}: expected query .* same E"),
        ErrorInput(Sample((r(2, 4, 8), r(2, 5, 8), r(2, 6, 8))), ShapeError, f"{name}: expected key .* same S"),
        ErrorInput(Sample((r(8), r(5, 8), r(5, 8))), ShapeError, f"{name}: expected query with at least 2 dims"),
        ErrorInput(Sample((r(2, 4, 8), r(2, 5, 8), r(2, 5, 8)), {"attn_mask": r(4, 5), "is_causal": True}),
                   RuntimeError, f"{name}: explicit attn_mask should not be set when is_causal=True"),
        ErrorInput(Sample((r(2, 4, 8), r(2, 5, 8), r(2, 5, 8)), {"attn_mask": r(3, 5)}), ShapeError,
                   rf"{name}: expected attn_mask broadcastable to \(\.\.\., L, S\)"),
        ErrorInput(Sample((r(3, 4, 8), r(2, 5, 8), r(2, 5, 8)), {"enable_gqa": True}), ShapeError,
                   f"{name}: with enable_gqa, expected the query heads"),
    ]


# --- MultiheadAttention and F.multi_head_attention_forward ----------------------------------------

def _mha_samples(batch_first, kdim=None, vdim=None, E=8, heads=2):
    def make(xp, dtype, rng):
        r = functools.partial(_randn, xp, dtype, rng)
        N, L, S = 3, 4, 5

        def x(length, dim):
            return r(N, length, dim) if batch_first else r(length, N, dim)

        kd, vd = kdim or E, vdim or E
        return [
            Sample((x(L, E), x(S, kd), x(S, vd)), name="plain"),
            Sample((x(L, E), x(S, kd), x(S, vd)), {"key_padding_mask": _keep_some(xp, rng, (N, S))}, name="kpm"),
            Sample((x(L, E), x(S, kd), x(S, vd)),
                   {"attn_mask": _keep_some(xp, rng, (L, S)), "need_weights": False}, name="bool_attn_mask"),
            Sample((x(L, E), x(S, kd), x(S, vd)),
                   {"attn_mask": r(N * heads, L, S), "average_attn_weights": False}, name="float_3d_mask"),
            Sample((r(L, E), r(S, kd), r(S, vd)), {"key_padding_mask": _keep_some(xp, rng, (S,))}, name="unbatched"),
        ]
    return make


def _mha_reference(heads, batch_first, add_zero_attn=False):
    def ref(params, *args, **kwargs):
        return _refs.mha(params, *args, **kwargs, num_heads=heads, batch_first=batch_first,
                         add_zero_attn=add_zero_attn)
    return ref


def _mha_errors(batch_first):
    def make(xp, dtype, rng):
        r = functools.partial(_randn, xp, dtype, rng)
        name = "MultiheadAttention"
        x = r(3, 4, 8)
        return [
            ErrorInput(Sample((r(3, 4, 6), r(3, 4, 6), r(3, 4, 6))), ShapeError,
                       f"{name}: expected query with embed_dim 8 features, got 6"),
            ErrorInput(Sample((x, x, x), {"attn_mask": r(2, 2)}), ShapeError,
                       rf"{name}: expected a 2-D attn_mask of shape \(\d+, \d+\) \(L, S\), got \(2, 2\)"),
            ErrorInput(Sample((x, x, x), {"key_padding_mask": xp.zeros((7, 4), dtype=bool)}), ShapeError,
                       rf"{name}: expected key_padding_mask of shape \(\d+, \d+\) \(N, S\), got \(7, 4\)"),
            ErrorInput(Sample((r(2, 3, 4, 8), r(2, 3, 4, 8), r(2, 3, 4, 8))), ShapeError,
                       f"{name}: expected query of 2 dims .* got 4-D query"),
            ErrorInput(Sample(), ValueError, f"{name}: expected embed_dim divisible by num_heads, got embed_dim=10 "
                       "and num_heads=4", init_kwargs={"embed_dim": 10, "num_heads": 4}),
            ErrorInput(Sample(), ValueError, f"{name}: embed_dim and num_heads must be greater than 0",
                       init_kwargs={"embed_dim": 0, "num_heads": 2}),
        ]
    return make


def _mhaf_samples(xp, dtype, rng):
    r = functools.partial(_randn, xp, dtype, rng)
    E, H, L, S, N = 8, 2, 4, 5, 2
    return [
        Sample((r(L, N, E), r(S, N, E), r(S, N, E), E, H, r(3 * E, E), r(3 * E), None, None, False, 0.0,
                r(E, E), r(E)), {"training": False}, name="packed"),
        Sample((r(L, N, E), r(S, N, E), r(S, N, E), E, H, r(3 * E, E), r(3 * E), None, None, False, 0.0,
                r(E, E), r(E)), {"key_padding_mask": _keep_some(xp, rng, (N, S)), "need_weights": False},
               name="kpm_no_weights"),
    ]


def _mhaf_reference(q, k, v, E, H, w, b, bias_k, bias_v, add_zero_attn, dropout_p, wo, bo, training=True,
                    key_padding_mask=None, need_weights=True, **kw):
    p = {"in_proj_weight": w, "in_proj_bias": b, "out_proj.weight": wo, "out_proj.bias": bo}
    return _refs.mha(p, q, k, v, key_padding_mask, need_weights, num_heads=H)


# --- Transformer layers -----------------------------------------------------------------------------

def _seq_samples(d_model, n_inputs, heads, kpm_kw, mask_kw, memory_first=False):
    """Batch-first inputs: (x,) or (x, memory); (src, tgt) for the Transformer (``memory_first``)."""
    def make(xp, dtype, rng):
        r = functools.partial(_randn, xp, dtype, rng)
        N, T, S = 2, 4, 5
        ins = (r(N, T, d_model),) if n_inputs == 1 else (r(N, T, d_model), r(N, S, d_model))
        if memory_first:
            ins = ins[::-1]
        return [
            Sample(ins, name="plain"),
            Sample(ins, {kpm_kw: _keep_some(xp, rng, (N, T))}, name="key_padding_mask"),
            Sample(ins, {mask_kw: r(N * heads, T, T) if n_inputs == 1 else _keep_some(xp, rng, (T, T))},
                   name="attn_mask"),
        ]
    return make


def _layer_ref(fn, **cfg):
    def ref(params, *args, **kwargs):
        return fn(params, *args, **kwargs, **cfg)
    return ref


def _layers():
    from .multihead import MultiheadAttention, multi_head_attention_forward
    from .sdpa import scaled_dot_product_attention
    from .transformer import TransformerEncoder, TransformerEncoderLayer
    from .transformer_decoder import Transformer, TransformerDecoder, TransformerDecoderLayer

    enc_kw = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True)
    no_factory = {"factory_kwargs": "PyTorch's signature has no dtype=/device= (the stack deep-copies a given "
                                    "layer); build the layer with dtype=/device= instead"}
    mha_rec = []
    for name, kw, bf, azero in (
            ("MultiheadAttention", dict(embed_dim=8, num_heads=2, batch_first=True), True, False),
            ("MultiheadAttention[seq_first,no_bias]", dict(embed_dim=8, num_heads=2, bias=False), False, False),
            ("MultiheadAttention[kdim,vdim,bias_kv,zero_attn]",
             dict(embed_dim=8, num_heads=2, kdim=6, vdim=5, add_bias_kv=True, add_zero_attn=True, batch_first=True),
             True, True)):
        mha_rec.append(ModuleInfo(
            cls=MultiheadAttention, name=name, init_kwargs=kw,
            sample_inputs=_mha_samples(bf, kw.get("kdim"), kw.get("vdim")),
            reference=_mha_reference(2, bf, azero), error_inputs=_mha_errors(bf) if bf and not azero else (),
            tags=DBL | ({"batch_independent"} if bf else set())))
    enc_layer = functools.partial(TransformerEncoderLayer, 8, 2, 16, 0.0, batch_first=True)
    dec_layer = functools.partial(TransformerDecoderLayer, 8, 2, 16, 0.0, batch_first=True)
    cfg = dict(nhead=2, batch_first=True)
    return mha_rec + [_double_backward(r) for r in [
        FunctionInfo(fn=scaled_dot_product_attention, sample_inputs=_sdpa_samples, reference=_refs.sdpa,
                     error_inputs=_sdpa_errors),
        FunctionInfo(fn=multi_head_attention_forward, sample_inputs=_mhaf_samples, reference=_mhaf_reference),
        ModuleInfo(cls=TransformerEncoderLayer, init_kwargs=enc_kw,
                   sample_inputs=_seq_samples(8, 1, 2, "src_key_padding_mask", "src_mask"),
                   reference=_layer_ref(_refs.encoder_layer, **cfg), tags=frozenset({"batch_independent"}),
                   error_inputs=[ErrorInput(Sample(), RuntimeError, "TransformerEncoderLayer: activation should be "
                                            "relu/gelu, not 'tanh'", init_kwargs=dict(enc_kw, activation="tanh"))]),
        ModuleInfo(cls=TransformerEncoderLayer, name="TransformerEncoderLayer[norm_first,gelu]",
                   init_kwargs=dict(enc_kw, norm_first=True, activation="gelu"),
                   sample_inputs=_seq_samples(8, 1, 2, "src_key_padding_mask", "src_mask"),
                   reference=_layer_ref(_refs.encoder_layer, norm_first=True, activation="gelu", **cfg)),
        ModuleInfo(cls=TransformerEncoderLayer, name="TransformerEncoderLayer[dropout]",
                   init_kwargs=dict(enc_kw, dropout=0.1), sample_inputs=_seq_samples(8, 1, 2, "src_key_padding_mask",
                                                                                     "src_mask"),
                   reference=_layer_ref(_refs.encoder_layer, **cfg), tags=frozenset({"train_eval_differ", "random"})),
        ModuleInfo(cls=TransformerEncoder, init_kwargs=dict(encoder_layer=enc_layer(), num_layers=2),
                   sample_inputs=_seq_samples(8, 1, 2, "src_key_padding_mask", "mask"),
                   reference=_layer_ref(_refs.encoder, num_layers=2, norm=False, **cfg), expected_failures=no_factory),
        ModuleInfo(cls=TransformerDecoderLayer, init_kwargs=enc_kw,
                   sample_inputs=_seq_samples(8, 2, 2, "tgt_key_padding_mask", "tgt_mask"),
                   reference=_layer_ref(_refs.decoder_layer, **cfg), tags=frozenset({"batch_independent"})),
        ModuleInfo(cls=TransformerDecoderLayer, name="TransformerDecoderLayer[norm_first]",
                   init_kwargs=dict(enc_kw, norm_first=True),
                   sample_inputs=_seq_samples(8, 2, 2, "tgt_key_padding_mask", "tgt_mask"),
                   reference=_layer_ref(_refs.decoder_layer, norm_first=True, **cfg)),
        ModuleInfo(cls=TransformerDecoder, init_kwargs=dict(decoder_layer=dec_layer(), num_layers=2),
                   sample_inputs=_seq_samples(8, 2, 2, "tgt_key_padding_mask", "tgt_mask"),
                   reference=_layer_ref(_refs.decoder, num_layers=2, norm=False, **cfg), expected_failures=no_factory),
        ModuleInfo(cls=Transformer, init_kwargs=dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                                                     dim_feedforward=16, dropout=0.0, batch_first=True),
                   sample_inputs=_seq_samples(8, 2, 2, "tgt_key_padding_mask", "tgt_mask", memory_first=True),
                   reference=_layer_ref(_refs.transformer, num_encoder_layers=1, num_decoder_layers=1, **cfg),
                   tags=frozenset({"batch_independent"})),
    ]]


def _double_backward(rec: Any) -> Any:
    """Every record here differentiates twice (create_graph=True): the kit runs gradgradcheck on it."""
    rec.tags = rec.tags | DBL
    return rec


def records() -> list:
    """Every record of lamina-layers-attention (the ``lamina.testing`` entry point)."""
    return _layers()
