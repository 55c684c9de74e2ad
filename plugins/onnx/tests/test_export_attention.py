"""Attention (lamina-layers-attention) exported to ONNX and run in onnxruntime: outputs equal lamina's.

F.scaled_dot_product_attention, MultiheadAttention, TransformerEncoderLayer and TransformerEncoder,
with bool and float masks, causal attention and dynamic batch and sequence sizes.
"""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import lamina_onnx
import pytest
from _onnx_check import export_bytes, op_types, roundtrip
from lamina import nn

L, S, N, E, HEADS = 4, 5, 2, 8, 2


def seeded(make):
    lamina.manual_seed(0)
    return make()


def causal(size):
    return nn.Transformer.generate_square_subsequent_mask(size)


# --- MultiheadAttention ---------------------------------------------------------------------------
class Attention(nn.Module):
    """MultiheadAttention(query, key, value, **options) with the masks named in ``masks`` as graph inputs;
    returns (output, weights), weights None with need_weights=False (not a graph output)."""

    def __init__(self, masks=(), options=None, **layer):
        super().__init__()
        self.attn = nn.MultiheadAttention(E, HEADS, **layer)
        self.masks, self.options = tuple(masks), dict(options or {})

    def forward(self, query, key, value, *masks):
        return self.attn(query, key, value, **self.options, **dict(zip(self.masks, masks)))


def qkv(batch_first=False, n=N, length=L, source=S, kdim=E, vdim=E):
    if n is None:
        return lamina.randn(length, E), lamina.randn(source, kdim), lamina.randn(source, vdim)
    if batch_first:
        return lamina.randn(n, length, E), lamina.randn(n, source, kdim), lamina.randn(n, source, vdim)
    return lamina.randn(length, n, E), lamina.randn(source, n, kdim), lamina.randn(source, n, vdim)


def padding(n=N, source=S):
    """A bool key padding mask (True = ignore) that leaves every sequence at least one key."""
    mask = lamina.rand(n, source) > 0.6
    return mask.masked_fill(lamina.arange(source).reshape(1, source) == 0, False)


def float_padding(n, source):
    return lamina.zeros(n, source).masked_fill(padding(n, source), float("-inf"))


MHA_CASES = [
    ("self_attention", {}, lambda: (lambda x: (x, x, x))(lamina.randn(L, N, E))),
    ("cross_attention", {}, lambda: qkv()),
    ("batch_first", {"batch_first": True}, lambda: qkv(batch_first=True)),
    ("per_head_weights", {"options": {"average_attn_weights": False}}, lambda: qkv()),
    ("no_weights", {"options": {"need_weights": False}}, lambda: qkv()),
    ("kdim_vdim", {"kdim": 3, "vdim": 5}, lambda: qkv(kdim=3, vdim=5)),
    ("no_bias", {"bias": False, "batch_first": True}, lambda: qkv(batch_first=True)),
    ("key_padding_mask", {"masks": ["key_padding_mask"]}, lambda: (*qkv(), padding())),
    ("bool_attn_mask_2d", {"masks": ["attn_mask"]}, lambda: (*qkv(), lamina.rand(L, S) > 0.7)),
    ("float_attn_mask_2d", {"masks": ["attn_mask"]}, lambda: (*qkv(), lamina.randn(L, S))),
    ("float_attn_mask_3d", {"masks": ["attn_mask"], "batch_first": True},
     lambda: (*qkv(batch_first=True), lamina.randn(N * HEADS, L, S))),
    ("bool_attn_mask_3d_and_padding", {"masks": ["attn_mask", "key_padding_mask"]},
     lambda: (*qkv(), lamina.rand(N * HEADS, L, S) > 0.8, padding())),
    ("is_causal", {"masks": ["attn_mask"], "options": {"is_causal": True, "need_weights": False}},
     lambda: (*qkv(source=L), causal(L))),
    ("is_causal_with_weights", {"masks": ["attn_mask"], "options": {"is_causal": True}},
     lambda: (*qkv(source=L), causal(L))),
    ("add_bias_kv", {"masks": ["attn_mask"], "add_bias_kv": True}, lambda: (*qkv(), lamina.randn(L, S))),
    ("add_zero_attn", {"masks": ["key_padding_mask"], "add_zero_attn": True, "batch_first": True},
     lambda: (*qkv(batch_first=True), padding())),
    ("bias_kv_and_zero_attn", {"masks": ["key_padding_mask"], "add_bias_kv": True, "add_zero_attn": True},
     lambda: (*qkv(), padding())),
    ("unbatched", {"masks": ["key_padding_mask", "attn_mask"]},
     lambda: (*qkv(n=None), lamina.rand(S) > 0.7, lamina.rand(HEADS, L, S) > 0.7)),
    ("unbatched_float_masks", {"masks": ["key_padding_mask", "attn_mask"], "options": {"average_attn_weights": False}},
     lambda: (*qkv(n=None), lamina.randn(S), lamina.randn(HEADS, L, S))),
    # a sequence whose keys are all padded: zeros without weights, NaN with them (as lamina and PyTorch)
    ("fully_masked_rows", {"masks": ["key_padding_mask"], "options": {"need_weights": False}},
     lambda: (*qkv(), lamina.tensor([[True] * S, [False] * S]))),
    ("fully_masked_rows_weights", {"masks": ["key_padding_mask"]},
     lambda: (*qkv(), lamina.tensor([[True] * S, [False] * S]))),
]


@pytest.mark.parametrize("config,make_inputs", [c[1:] for c in MHA_CASES], ids=[c[0] for c in MHA_CASES])
def test_multihead_attention_matches_lamina(config, make_inputs):
    model = seeded(lambda: Attention(**config))
    proto = roundtrip(model, make_inputs())
    assert "Softmax" in op_types(proto) and "Dropout" not in op_types(proto)


def test_multihead_attention_weights_are_initializers_once():
    """Packed in_proj_weight becomes three transposed projections; no parameter is a graph input."""
    model = seeded(lambda: Attention(batch_first=True))
    proto = roundtrip(model, qkv(batch_first=True))
    assert [i.name for i in proto.graph.input] == ["query", "key", "value"]
    assert op_types(proto).count("MatMul") == 6              # q, k, v, scores, weighted sum, out-projection


def test_multihead_attention_dynamic_batch_and_sequence():
    """Exported with batch 2 and 5 positions, run with batch 3 and 7, with a float mask and float padding."""
    model = seeded(lambda: Attention(masks=["attn_mask", "key_padding_mask"]))
    seq = {0: "seq", 1: "batch"}
    axes = {"query": seq, "key": seq, "value": seq, "attn_mask": {0: "seq", 1: "seq"},
            "key_padding_mask": {0: "batch", 1: "seq"}, "output_0": seq, "output_1": {0: "batch", 1: "seq", 2: "seq"}}
    args = (*qkv(n=2, length=5, source=5), lamina.randn(5, 5), float_padding(2, 5))
    run = (*qkv(n=3, length=7, source=7), lamina.randn(7, 7), float_padding(3, 7))
    roundtrip(model, args, run_args=run, dynamic_axes=axes, input_names=list(axes)[:5])


def test_multihead_attention_3d_mask_dynamic_sequence():
    """A (N * num_heads, L, S) mask is read as (N, num_heads, L, S) with L and S from the graph at run time.

    (Its first dim cannot be declared dynamic: the tracer's second pass makes each dynamic dim one longer,
    and N * num_heads does not grow by one.)"""
    model = seeded(lambda: Attention(masks=["attn_mask"], batch_first=True))
    seq = {1: "seq"}
    axes = {"query": seq, "key": seq, "value": seq, "attn_mask": {1: "seq", 2: "seq"}, "output_0": seq,
            "output_1": {1: "seq", 2: "seq"}}
    args = (*qkv(True, length=5, source=5), lamina.rand(N * HEADS, 5, 5) > 0.8)
    run = (*qkv(True, length=7, source=7), lamina.rand(N * HEADS, 7, 7) > 0.8)
    roundtrip(model, args, run_args=run, dynamic_axes=axes, input_names=list(axes)[:4])


class Functional(nn.Module):
    """F.multi_head_attention_forward with a MultiheadAttention's parameters (traced op by op)."""

    def __init__(self, **options):
        super().__init__()
        self.attn = nn.MultiheadAttention(E, HEADS)
        self.options = options

    def forward(self, query, key, value, *mask):
        a = self.attn
        return F.multi_head_attention_forward(
            query, key, value, E, HEADS, a.in_proj_weight, a.in_proj_bias, None, None, False, 0.0, a.out_proj.weight,
            a.out_proj.bias, training=False, attn_mask=mask[0] if mask else None, **self.options)


@pytest.mark.parametrize("options,make_inputs", [
    ({}, lambda: (lambda x: (x, x, x))(lamina.randn(L, N, E))),          # packed: one projection GEMM
    ({"need_weights": False, "is_causal": True}, lambda: (*qkv(source=L), causal(L))),
    ({"average_attn_weights": False}, lambda: (*qkv(), lamina.randn(L, S))),
], ids=["packed_self_attention", "causal_no_weights", "float_mask_per_head_weights"])
def test_functional_multi_head_attention_forward(options, make_inputs):
    roundtrip(seeded(lambda: Functional(**options)), make_inputs())


# --- scaled_dot_product_attention -----------------------------------------------------------------
class Sdpa(nn.Module):
    def __init__(self, **options):
        super().__init__()
        self.options = options

    def forward(self, query, key, value, *mask):
        return F.scaled_dot_product_attention(query, key, value, *mask, **self.options)


def heads(n=N, h=4, length=L, source=S, e=6, ev=3, kv_heads=None):
    kv = h if kv_heads is None else kv_heads
    return lamina.randn(n, h, length, e), lamina.randn(n, kv, source, e), lamina.randn(n, kv, source, ev)


SDPA_CASES = [
    ("plain", {}, lambda: heads()),
    ("bool_mask", {}, lambda: (*heads(), lamina.rand(L, S) > 0.5)),
    ("float_mask_broadcast", {}, lambda: (*heads(), lamina.randn(N, 1, L, S))),
    ("bool_mask_fully_masked_row", {}, lambda: (*heads(), lamina.tensor([[False] * S] + [[True] * S] * (L - 1)))),
    ("is_causal", {"is_causal": True}, lambda: heads()),
    ("scale", {"scale": 0.3}, lambda: heads()),
    ("grouped_query", {"enable_gqa": True}, lambda: heads(kv_heads=2)),
    ("grouped_query_3d", {"enable_gqa": True, "is_causal": True}, lambda: tuple(t[0] for t in heads(kv_heads=1))),
    ("no_batch_dims", {}, lambda: (lamina.randn(L, 6), lamina.randn(S, 6), lamina.randn(S, 3))),
]


@pytest.mark.parametrize("options,make_inputs", [c[1:] for c in SDPA_CASES], ids=[c[0] for c in SDPA_CASES])
def test_scaled_dot_product_attention_matches_lamina(options, make_inputs):
    roundtrip(seeded(lambda: Sdpa(**options)), make_inputs())


def test_scaled_dot_product_attention_dynamic_sizes():
    """Causal and masked attention exported with batch 2 / 5 positions, run with batch 3 / 7."""
    model = Sdpa(is_causal=True)
    axes = {name: {0: "batch", 2: "seq"} for name in ("query", "key", "value", "output")}
    roundtrip(model, heads(2, length=5, source=5), run_args=heads(3, length=7, source=7), dynamic_axes=axes)
    axes["mask"] = {0: "batch", 2: "seq", 3: "seq"}
    args = (*heads(2, length=5, source=5), lamina.rand(2, 1, 5, 5) > 0.3)
    run = (*heads(3, length=7, source=7), lamina.rand(3, 1, 7, 7) > 0.3)
    roundtrip(Sdpa(), args, run_args=run, dynamic_axes=axes, input_names=["query", "key", "value", "mask"])


def test_scaled_dot_product_attention_with_dropout_is_refused():
    """dropout_p > 0 draws a new random mask in each trace: the export stops, naming the op."""
    with pytest.raises(lamina_onnx.OnnxExporterError, match="ScaledDotProductAttention"):
        export_bytes(Sdpa(dropout_p=0.5), heads())


# --- TransformerEncoderLayer / TransformerEncoder -------------------------------------------------
class Encoder(nn.Module):
    """A layer or encoder called with the masks named in ``masks`` as graph inputs."""

    def __init__(self, inner, masks=(), **options):
        super().__init__()
        self.inner, self.masks, self.options = inner, tuple(masks), options

    def forward(self, src, *masks):
        return self.inner(src, **self.options, **dict(zip(self.masks, masks)))


def layer(**options):
    return nn.TransformerEncoderLayer(E, HEADS, dim_feedforward=16, **options)


def source(batch_first=False, n=N, length=L):
    return lamina.randn(n, length, E) if batch_first else lamina.randn(length, n, E)


LAYER_CASES = [
    ("post_norm_relu", {}),
    ("pre_norm_gelu", {"norm_first": True, "activation": "gelu"}),
    ("batch_first_gelu_tanh_module", {"batch_first": True, "activation": nn.GELU(approximate="tanh")}),
    ("pre_norm_relu_module_no_bias", {"norm_first": True, "activation": nn.ReLU(), "bias": False}),
]


@pytest.mark.parametrize("options", [c[1] for c in LAYER_CASES], ids=[c[0] for c in LAYER_CASES])
@pytest.mark.parametrize("opset", [17, 20])
def test_encoder_layer_matches_lamina(options, opset):
    enc = seeded(lambda: layer(**options))
    bf = bool(options.get("batch_first"))
    roundtrip(enc, (source(bf),), opset_version=opset)
    masked = Encoder(enc, masks=["src_mask", "src_key_padding_mask"])
    roundtrip(masked, (source(bf), lamina.rand(L, L) > 0.7, padding(N, L)), opset_version=opset)


def test_encoder_layer_float_mask_is_causal_and_unbatched():
    enc = seeded(lambda: layer(norm_first=True))
    roundtrip(Encoder(enc, masks=["src_mask"], is_causal=True), (source(), causal(L)))
    roundtrip(Encoder(enc, masks=["src_key_padding_mask"]), (lamina.randn(L, E), lamina.rand(L) > 0.7))


def test_encoder_layer_exported_in_eval_mode():
    """Dropout (p=0.1 by default, the model in train mode) is the identity in the graph."""
    enc = seeded(lambda: layer())
    enc.train()
    proto = roundtrip(enc, (source(),))
    assert "Dropout" not in op_types(proto)
    assert op_types(proto).count("LayerNormalization") == 2


def stack(**options):
    norm = options.pop("norm", None)
    return nn.TransformerEncoder(layer(**options), 2, norm=norm)


def test_encoder_two_layers_with_masks_and_norm():
    enc = seeded(lambda: stack(batch_first=True, norm=nn.LayerNorm(E)))
    proto = roundtrip(Encoder(enc, masks=["mask", "src_key_padding_mask"]),
                      (source(True), lamina.rand(L, L) > 0.8, padding(N, L)))
    assert op_types(proto).count("LayerNormalization") == 5          # 2 per layer and the final norm
    roundtrip(Encoder(enc, masks=["mask"]), (source(True), causal(L)))
    roundtrip(Encoder(enc, masks=["mask"], is_causal=True), (source(True), causal(L)))


def test_encoder_dynamic_batch_and_sequence():
    """Exported with batch 2 / 4 positions, run with batch 3 / 7 positions (masks follow the sizes)."""
    enc = seeded(lambda: stack(norm_first=True, activation="gelu", norm=nn.LayerNorm(E)))
    seq = {0: "seq", 1: "batch"}
    axes = {"src": seq, "mask": {0: "seq", 1: "seq"}, "padding": {0: "batch", 1: "seq"}, "output": seq}
    args = (source(), lamina.rand(L, L) > 0.8, padding(N, L))
    run = (source(n=3, length=7), lamina.rand(7, 7) > 0.8, padding(3, 7))
    proto = roundtrip(Encoder(enc, masks=["mask", "src_key_padding_mask"]), args, run_args=run,
                      input_names=["src", "mask", "padding"], dynamic_axes=axes)
    dims = [d.dim_param or d.dim_value for d in proto.graph.output[0].type.tensor_type.shape.dim]
    assert dims == ["seq", "batch", E]


def test_custom_activation_is_refused_with_the_module_path():
    model = nn.Sequential(layer(activation=lambda x: x.tanh()))
    with pytest.raises(lamina_onnx.UnsupportedOperatorError, match=r"TransformerEncoderLayer.*'0'.*only relu and gelu"):
        export_bytes(model, (source(),))


def test_encoder_norm_other_than_layer_norm_is_refused():
    model = stack(norm=nn.Identity())
    with pytest.raises(lamina_onnx.UnsupportedOperatorError, match=r"TransformerEncoder.*only LayerNorm"):
        export_bytes(model, (source(),))
