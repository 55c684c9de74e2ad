"""PyTorch parity for the Transformer family: encoder/decoder layers, stacks and the full Transformer.

Same weights (lamina's state_dict loaded into torch), same inputs; outputs and the gradients of the
inputs and of every parameter, over norm_first, activation, batch_first, masks, causal hints,
bias=False, unbatched input and eval mode with dropout > 0.
"""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
from _attention_helpers import copy_weights, parity

torch = pytest.importorskip("torch")

D, H, FF = 8, 2, 16
LAYER_CASES = {
    "post_norm_relu": dict(),
    "pre_norm": dict(init=dict(norm_first=True)),
    "gelu_batch_first": dict(init=dict(activation="gelu", batch_first=True)),
    "callable_activation": dict(init=dict(activation="tanh_callable")),
    "no_bias": dict(init=dict(bias=False, norm_first=True)),
    "eval_dropout": dict(init=dict(dropout=0.2), eval=True, masks=("kpm",)),
    "bool_masks": dict(masks=("kpm", "attn_bool")),
    "float_3d_mask_batch_first": dict(init=dict(batch_first=True), masks=("attn_float3d",)),
    "causal": dict(masks=("causal",), causal=True),
    "unbatched": dict(unbatched=True, masks=("attn_bool",)),
}


def _activation(init, fw):
    if init.get("activation") == "tanh_callable":
        init["activation"] = lamina.tanh if fw == "lamina" else torch.tanh
    return init


def _make(kind, spec, dtype):
    pair = []
    for fw, mod in (("lamina", lamina), ("torch", torch)):
        init = _activation({"dim_feedforward": FF, "dropout": 0.0, **spec.get("init", {})}, fw)
        layer = getattr(mod.nn, kind)(D, H, dtype=getattr(mod, dtype), **init)
        pair.append(layer)
    copy_weights(*pair)
    if spec.get("eval"):
        for m in pair:
            m.eval()
    return pair


def _seq(rng, spec, length, dtype, N=3):
    bf, unb = spec.get("init", {}).get("batch_first", False), spec.get("unbatched", False)
    shape = (length, D) if unb else ((N, length, D) if bf else (length, N, D))
    return rng.standard_normal(shape).astype(dtype)


def _masks(rng, spec, T, S, prefix, dtype, N=3):
    kw = {}
    unb = spec.get("unbatched", False)
    for m in spec.get("masks", ()):
        if m == "kpm":
            k = rng.random((S,) if unb else (N, S)) < 0.3
            k[..., 0] = False
            kw[f"{prefix[1]}key_padding_mask"] = k
        elif m == "attn_bool":
            a = rng.random((T, S)) < 0.3
            a[:, 0] = False
            kw[prefix[0]] = a
        elif m == "attn_float3d":
            kw[prefix[0]] = rng.standard_normal((N * H, T, S)).astype(dtype)
        elif m == "causal":
            kw[prefix[0]] = np.triu(np.full((T, T), -np.inf), 1).astype(dtype)
    return kw


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_attention_encoder_layer_parity(case, dtype):
    rng = np.random.default_rng(5)
    spec = LAYER_CASES[case]
    lm, tm = _make("TransformerEncoderLayer", spec, dtype)
    kw = _masks(rng, spec, 5, 5, ("src_mask", "src_"), dtype)
    if spec.get("causal"):
        kw["is_causal"] = True
    parity(lm, tm, [_seq(rng, spec, 5, dtype)], kw, dtype, rng)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(LAYER_CASES))
def test_attention_decoder_layer_parity(case, dtype):
    rng = np.random.default_rng(6)
    spec = LAYER_CASES[case]
    lm, tm = _make("TransformerDecoderLayer", spec, dtype)
    kw = _masks(rng, spec, 4, 4, ("tgt_mask", "tgt_"), dtype)
    kw.update(_masks(rng, {**spec, "masks": [m for m in spec.get("masks", ()) if m != "causal"]}, 4, 6,
                     ("memory_mask", "memory_"), dtype))
    if spec.get("causal"):
        kw["tgt_is_causal"] = True
    parity(lm, tm, [_seq(rng, spec, 4, dtype), _seq(rng, spec, 6, dtype)], kw, dtype, rng)


STACK_CASES = {
    "encoder_norm_causal_detected": ("encoder", dict(), dict(mask="causal")),
    "encoder_kpm_batch_first": ("encoder", dict(batch_first=True), dict(src_key_padding_mask="kpm")),
    "decoder_norm_causal_detected": ("decoder", dict(norm_first=True), dict(tgt_mask="causal")),
    "transformer_masks": ("transformer", dict(), dict(tgt_mask="causal", src_key_padding_mask="kpm",
                                                      memory_key_padding_mask="kpm")),
    "transformer_batch_first_gelu": ("transformer", dict(batch_first=True, activation="gelu"), dict()),
}


def _stack(kind, init, fw, dtype):
    mod = lamina if fw == "lamina" else torch
    dt = getattr(mod, dtype)
    kw = dict(dim_feedforward=FF, dropout=0.0, **init)
    if kind == "transformer":
        with warnings.catch_warnings():     # torch: nested tensors unused without batch_first (not our concern)
            warnings.simplefilter("ignore", UserWarning)
            return mod.nn.Transformer(D, H, 2, 2, dtype=dt, **kw)
    norm = mod.nn.LayerNorm(D, dtype=dt)
    if kind == "encoder":
        extra = {"enable_nested_tensor": False} if fw == "torch" else {}
        return mod.nn.TransformerEncoder(mod.nn.TransformerEncoderLayer(D, H, dtype=dt, **kw), 2, norm, **extra)
    return mod.nn.TransformerDecoder(mod.nn.TransformerDecoderLayer(D, H, dtype=dt, **kw), 2, norm)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("case", list(STACK_CASES))
def test_attention_stack_parity(case, dtype):
    rng = np.random.default_rng(7)
    kind, init, masks = STACK_CASES[case]
    lamina.manual_seed(0)
    lm, tm = _stack(kind, init, "lamina", dtype), _stack(kind, init, "torch", dtype)
    copy_weights(lm, tm)
    bf, N, S, T = init.get("batch_first", False), 3, 5, 4
    spec = {"init": {"batch_first": bf}}
    args = {"encoder": [_seq(rng, spec, S, dtype)], "decoder": [_seq(rng, spec, T, dtype), _seq(rng, spec, S, dtype)],
            "transformer": [_seq(rng, spec, S, dtype), _seq(rng, spec, T, dtype)]}[kind]
    kw = {}
    for name, what in masks.items():
        if what == "causal":
            n = S if kind == "encoder" else T
            kw[name] = lamina.nn.Transformer.generate_square_subsequent_mask(n, dtype=getattr(lamina, dtype)).numpy()
        else:
            k = rng.random((N, S)) < 0.3
            k[:, 0] = False
            kw[name] = k
    parity(lm, tm, args, kw, dtype, rng)


def test_attention_transformer_init_matches_torch_distribution():
    """Every >1-D parameter is xavier-uniform (bounds), LayerNorms are ones/zeros; keys equal torch's."""
    lamina.manual_seed(0)
    m = lamina.nn.Transformer(16, 2, 1, 1, 32)
    t = torch.nn.Transformer(16, 2, 1, 1, 32, batch_first=True)
    assert list(m.state_dict()) == list(t.state_dict())
    for name, p in m.named_parameters():
        a = p.detach().numpy()
        if a.ndim > 1:
            bound = np.sqrt(6.0 / (a.shape[0] + a.shape[1]))
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.8 * bound, name
        elif "norm" in name:
            assert (a == (1.0 if name.endswith("weight") else 0.0)).all(), name
