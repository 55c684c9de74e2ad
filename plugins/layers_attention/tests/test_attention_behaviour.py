"""What the kit and the parity grid do not cover: float64 gradchecks of the packed self-attention path,
of float-mask gradients and of seeded dropout; dropout reproducibility and statistics; errors; masks;
repr, deepcopy and pickle."""

from __future__ import annotations

import copy
import pickle

import lamina
import numpy as np
import pytest
from lamina.errors import ShapeError
from lamina.testing import gradcheck

F = lamina.nn.functional


def _t(rng, *shape, grad=True):
    return lamina.tensor(rng.standard_normal(shape), dtype=lamina.float64, requires_grad=grad)


def _seeded(fn, seed=0):
    """The same dropout mask on every call (gradcheck evaluates fn many times)."""
    def run(*xs):
        lamina.manual_seed(seed)
        return fn(*xs)
    return run


GRADCHECKS = {
    "sdpa_float_mask_grad": lambda rng: (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                                         (_t(rng, 2, 3, 4), _t(rng, 2, 5, 4), _t(rng, 2, 5, 3), _t(rng, 3, 5))),
    "sdpa_dropout_seeded": lambda rng: (_seeded(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)),
                                        (_t(rng, 2, 3, 4), _t(rng, 2, 5, 4), _t(rng, 2, 5, 3))),
    "sdpa_gqa_causal": lambda rng: (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                                                                  enable_gqa=True),
                                    (_t(rng, 4, 3, 4), _t(rng, 2, 3, 4), _t(rng, 2, 3, 2))),
}


@pytest.mark.parametrize("case", list(GRADCHECKS))
def test_attention_function_gradcheck(case):
    fn, inputs = GRADCHECKS[case](np.random.default_rng(0))
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("config", [
    dict(kw={}, call={}),
    dict(kw={"batch_first": True}, call={"key_padding_mask": "kpm", "average_attn_weights": False}),
    dict(kw={"dropout": 0.4}, call={"need_weights": True}),
    dict(kw={}, call={"attn_mask": "causal", "is_causal": True, "need_weights": False}),
])
def test_attention_mha_packed_self_attention_gradcheck(config):
    """query is key is value: the one-GEMM packed in-projection and the packed gradient, both outputs."""
    rng = np.random.default_rng(1)
    lamina.manual_seed(0)
    m = lamina.nn.MultiheadAttention(4, 2, dtype=lamina.float64, **config["kw"])
    call = dict(config["call"])
    if call.get("key_padding_mask") == "kpm":
        call["key_padding_mask"] = lamina.tensor([[False, False, True], [False, True, False]])
    if call.get("attn_mask") == "causal":
        call["attn_mask"] = lamina.nn.Transformer.generate_square_subsequent_mask(3, dtype=lamina.float64)
    x = _t(rng, 2, 3, 4)
    params = list(m.parameters())

    def fn(x, *ps):
        out = m(x, x, x, **call)
        return tuple(o for o in out if o is not None)

    assert gradcheck(_seeded(fn), (x, *params))


def test_attention_encoder_layer_gradcheck_causal_train_dropout():
    rng = np.random.default_rng(2)
    lamina.manual_seed(0)
    m = lamina.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.2, dtype=lamina.float64)
    mask = lamina.nn.Transformer.generate_square_subsequent_mask(3, dtype=lamina.float64)
    x = _t(rng, 3, 2, 4)
    assert gradcheck(_seeded(lambda x, *ps: m(x, src_mask=mask, is_causal=True)), (x, *m.parameters()),
                     fast_mode=True)


def test_attention_dropout_reproducible_under_seed():
    rng = np.random.default_rng(3)
    m = lamina.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True)
    x = lamina.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32))
    outs = []
    for seed in (7, 7, 8):
        lamina.manual_seed(seed)
        outs.append([o.detach().numpy() for o in m(x, x, x)])
    assert all(np.array_equal(a, b) for a, b in zip(outs[0], outs[1]))
    assert not np.array_equal(outs[0][1], outs[2][1])
    m.eval()
    a, b = m(x, x, x)[0].detach().numpy(), m(x, x, x)[0].detach().numpy()
    assert np.array_equal(a, b)


@pytest.mark.parametrize("p", [0.2, 0.6])
def test_attention_sdpa_dropout_statistics(p):
    """Uniform attention (q = k = 0) on an identity value matrix exposes the dropped weights directly."""
    lamina.manual_seed(0)
    S = 16
    q = lamina.zeros(64, 8, 4)
    k = lamina.zeros(64, S, 4)
    v = lamina.eye(S).expand(64, S, S)
    w = F.scaled_dot_product_attention(q, k, v, dropout_p=p).numpy()
    dropped = w == 0
    assert abs(dropped.mean() - p) < 0.03
    np.testing.assert_allclose(w[~dropped], 1.0 / (S * (1 - p)), rtol=1e-6)
    assert w.dtype == np.float32


def test_attention_mha_weights_dropout_statistics():
    lamina.manual_seed(1)
    m = lamina.nn.MultiheadAttention(8, 2, dropout=0.25)
    x = lamina.randn(6, 40, 8)
    w = m(x, x, x, average_attn_weights=False)[1].detach().numpy()
    assert abs((w == 0).mean() - 0.25) < 0.02
    assert abs(w.sum(-1).mean() - 1.0) < 0.02            # E[dropped weights] sums to 1 per row


def test_attention_fully_masked_sdpa_rows_are_zero_with_zero_grads():
    rng = np.random.default_rng(4)
    q, k, v = _t(rng, 3, 4), _t(rng, 5, 4), _t(rng, 5, 2)
    mask = lamina.tensor(np.array([[True] * 5, [False] * 5, [True, False, True, False, True]]))
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    y.sum().backward()
    assert (y.detach().numpy()[1] == 0).all() and np.isfinite(y.detach().numpy()).all()
    assert (q.grad.numpy()[1] == 0).all() and np.isfinite(k.grad.numpy()).all()


def test_attention_masks_and_causal_detection():
    m = lamina.nn.Transformer.generate_square_subsequent_mask(4)
    want = np.triu(np.full((4, 4), -np.inf, dtype=np.float32), 1)
    assert m.dtype == lamina.float32 and np.array_equal(m.numpy(), want)
    from lamina_layers_attention.transformer import detect_is_causal_mask

    assert detect_is_causal_mask(m) is True
    assert detect_is_causal_mask(lamina.tensor(np.triu(np.ones((4, 4), dtype=bool), 1))) is True
    assert detect_is_causal_mask(m, size=5) is False
    assert detect_is_causal_mask(lamina.zeros(4, 4)) is False
    assert detect_is_causal_mask(None, True) is True and detect_is_causal_mask(m, False) is False


ERRORS = [
    (lambda: lamina.nn.MultiheadAttention(8, 3), ValueError, "MultiheadAttention: expected embed_dim divisible"),
    (lambda: lamina.nn.TransformerDecoderLayer(8, 2, activation="swish"), RuntimeError,
     "TransformerDecoderLayer: activation should be relu/gelu, not 'swish'"),
    (lambda: lamina.nn.MultiheadAttention(8, 2)(lamina.randn(4, 2, 8), lamina.randn(5, 2, 8), lamina.randn(6, 2, 8)),
     ShapeError, r"MultiheadAttention: expected key and value of the same shape, got \(5, 2, 8\) and \(6, 2, 8\)"),
    (lambda: lamina.nn.MultiheadAttention(8, 2)(lamina.randn(4, 2, 8), lamina.randn(5, 3, 8), lamina.randn(5, 3, 8)),
     ShapeError, "MultiheadAttention: expected key and value with batch size 2"),
    (lambda: lamina.nn.MultiheadAttention(8, 2)(*[lamina.randn(4, 2, 8)] * 3, key_padding_mask=lamina.zeros(2, 4,
                                                                                                          dtype=lamina.int64)),
     lamina.DTypeError, "MultiheadAttention: only bool and floating types of key_padding_mask are supported"),
    (lambda: lamina.nn.MultiheadAttention(8, 2)(*[lamina.randn(4, 2, 8)] * 3, is_causal=True), RuntimeError,
     "MultiheadAttention: need attn_mask if specifying the is_causal hint"),
    (lambda: lamina.nn.Transformer(8, 2, 1, 1, 16)(lamina.randn(5, 2, 8), lamina.randn(4, 3, 8)), ShapeError,
     "Transformer: expected src and tgt with the same batch size, got 2 and 3"),
    (lambda: lamina.nn.Transformer(8, 2, 1, 1, 16)(lamina.randn(5, 2, 8), lamina.randn(4, 2, 6)), ShapeError,
     "Transformer: expected src and tgt with d_model = 8 features, got 8 and 6"),
    (lambda: F.multi_head_attention_forward(*[lamina.randn(4, 2, 8)] * 3, 8, 2, None, None, None, None, False, 0.0,
                                            lamina.randn(8, 8), None), ValueError,
     "multi_head_attention_forward: use_separate_proj_weight is False but in_proj_weight is None"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_attention_errors_name_the_layer(i):
    fn, err, match = ERRORS[i]
    with pytest.raises(err, match=match):
        fn()


def test_attention_mismatched_mask_types_warn():
    m = lamina.nn.MultiheadAttention(8, 2)
    x = lamina.randn(4, 2, 8)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        m(x, x, x, key_padding_mask=lamina.zeros(2, 4, dtype=lamina.bool), attn_mask=lamina.zeros(4, 4))


def test_attention_repr_deepcopy_pickle():
    torch = pytest.importorskip("torch")
    for build in (lambda nn: nn.MultiheadAttention(8, 2, kdim=4, vdim=4),
                  lambda nn: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu"),
                  lambda nn: nn.TransformerDecoderLayer(8, 2, 16, norm_first=True)):
        assert repr(build(lamina.nn)) == repr(build(torch.nn))
    m = lamina.nn.TransformerEncoder(lamina.nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", dropout=0.0), 2)
    m.eval()
    x = lamina.randn(3, 2, 8)
    y = m(x).detach().numpy()
    for c in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert np.array_equal(c(x).detach().numpy(), y)
    assert m.layers[0].linear1.weight is not m.layers[1].linear1.weight
    assert np.array_equal(m.layers[0].linear1.weight.detach().numpy(), m.layers[1].linear1.weight.detach().numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_attention_outputs_and_mask_grads_are_contiguous_and_match_torch(dtype):
    # the core works on transposed scores (P is a swapped view): what reaches the user is laid out as torch's
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((2, 3, n, 4)).astype(dtype) for n in (5, 6, 6))
    m = rng.standard_normal((5, 6)).astype(dtype)
    lm, tm = lamina.tensor(m, requires_grad=True), torch.tensor(m, requires_grad=True)
    y = F.scaled_dot_product_attention(*(lamina.tensor(a) for a in (q, k, v)), attn_mask=lm)
    ty = torch.nn.functional.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v)), attn_mask=tm)
    y.square().sum().backward()
    ty.square().sum().backward()
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert y.is_contiguous() and lm.grad.is_contiguous()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(lm.grad.numpy(), tm.grad.numpy(), rtol=tol, atol=tol)
    mha = lamina.nn.MultiheadAttention(8, 2, dtype=getattr(lamina, dtype))
    x = lamina.tensor(rng.standard_normal((5, 2, 8)).astype(dtype))
    for average in (True, False):
        _, w = mha(x, x, x, average_attn_weights=average)
        assert w.is_contiguous() and w.stride() == tuple(torch.empty(tuple(w.shape)).stride())
