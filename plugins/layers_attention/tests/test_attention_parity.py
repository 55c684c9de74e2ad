"""PyTorch parity: same weights, same inputs; outputs, attention weights and every gradient.

Grids over masks (bool/float, 2-D/3-D, key_padding_mask, causal), kdim/vdim, add_bias_kv,
add_zero_attn, bias, batch_first, unbatched input, need_weights/average_attn_weights, norm_first,
activations, eval mode with dropout > 0, in float64 (tight) and float32.
"""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _attention_helpers import assert_close, copy_weights, parity

torch = pytest.importorskip("torch")

F = lamina.nn.functional
DTYPES = ["float64", "float32"]


def _mask(rng, shape, kind):
    """kind: 'bool' (True = masked out, never a whole row) or 'float' (finite additive)."""
    if kind == "bool":
        m = rng.random(shape) < 0.35
        m[..., 0] = False
        return m
    return rng.standard_normal(shape)


# --- scaled_dot_product_attention ---------------------------------------------------------------------

SDPA_CASES = {
    "plain": dict(shapes=((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6)), kw={}),
    "bool_mask_2d": dict(shapes=((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), mask=("bool_attend", (4, 5))),
    "bool_mask_4d": dict(shapes=((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), mask=("bool_attend", (2, 1, 4, 5))),
    "float_mask": dict(shapes=((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8)), mask=("float", (3, 4, 5))),
    "causal_square": dict(shapes=((2, 5, 8), (2, 5, 8), (2, 5, 8)), kw={"is_causal": True}),
    "causal_l_lt_s": dict(shapes=((2, 3, 8), (2, 6, 8), (2, 6, 4)), kw={"is_causal": True}),
    "causal_l_gt_s": dict(shapes=((2, 6, 8), (2, 3, 8), (2, 3, 4)), kw={"is_causal": True}),
    "scale": dict(shapes=((2, 4, 8), (2, 5, 8), (2, 5, 8)), kw={"scale": 0.37}),
    "gqa": dict(shapes=((2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 3)), kw={"enable_gqa": True}),
    "broadcast_batch": dict(shapes=((5, 3, 8), (7, 8), (7, 4)), kw={}),
    "unbatched_2d": dict(shapes=((4, 8), (6, 8), (6, 8)), kw={}),
    "fully_masked_bool_row": dict(shapes=((2, 4, 8), (2, 5, 8), (2, 5, 8)), mask=("bool_row_off", (4, 5))),
    "fully_masked_float_row": dict(shapes=((2, 4, 8), (2, 5, 8), (2, 5, 8)), mask=("float_row_inf", (4, 5))),
}


def _sdpa_mask(rng, kind, shape):
    if kind == "bool_attend":
        m = rng.random(shape) > 0.35
        m[..., 0] = True
        return m
    if kind == "bool_row_off":
        m = rng.random(shape) > 0.35
        m[..., 0] = True
        m[1] = False
        return m
    if kind == "float_row_inf":
        m = rng.standard_normal(shape)
        m[2] = -np.inf
        return m
    return rng.standard_normal(shape)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_attention_sdpa_parity(case, dtype):
    rng = np.random.default_rng(1)
    spec = SDPA_CASES[case]
    q, k, v = (rng.standard_normal(s).astype(dtype) for s in spec["shapes"])
    kw = dict(spec.get("kw", {}))
    grad_kwargs = ()
    if "mask" in spec:
        m = _sdpa_mask(rng, *spec["mask"])
        kw["attn_mask"] = m.astype(dtype) if m.dtype != bool else m
        grad_kwargs = ("attn_mask",) if spec["mask"][0] == "float" else ()

    class Wrap:
        def __init__(self, fn):
            self.fn = fn

        def __call__(self, *a, **k):
            return self.fn(*a, **k)

        def named_parameters(self):
            return []

    parity(Wrap(F.scaled_dot_product_attention), Wrap(torch.nn.functional.scaled_dot_product_attention),
           [q, k, v], kw, dtype, rng, grad_kwargs=grad_kwargs)


# --- MultiheadAttention --------------------------------------------------------------------------------

MHA_CASES = {
    "self_packed": dict(),
    "self_packed_batch_first": dict(batch_first=True),
    "cross": dict(self_attn=False),
    "cross_batch_first": dict(self_attn=False, batch_first=True),
    "kdim_vdim": dict(self_attn=False, init=dict(kdim=6, vdim=5)),
    "no_bias": dict(init=dict(bias=False)),
    "bias_kv": dict(init=dict(add_bias_kv=True)),
    "zero_attn": dict(init=dict(add_zero_attn=True)),
    "bias_kv_zero_attn_kdim_masks": dict(self_attn=False, init=dict(add_bias_kv=True, add_zero_attn=True, kdim=6,
                                                                   vdim=7), masks=("kpm_bool", "attn2d_bool")),
    "kpm_bool": dict(masks=("kpm_bool",)),
    "kpm_float": dict(masks=("kpm_float",), batch_first=True),
    "attn2d_bool": dict(masks=("attn2d_bool",)),
    "attn2d_float_grad": dict(masks=("attn2d_float",), mask_grad=True),
    "attn3d_float": dict(masks=("attn3d_float",), self_attn=False),
    "attn3d_bool_and_kpm": dict(masks=("attn3d_bool", "kpm_bool"), batch_first=True),
    "per_head_weights": dict(call=dict(average_attn_weights=False), masks=("kpm_bool",)),
    "no_weights": dict(call=dict(need_weights=False), masks=("attn2d_bool",)),
    "no_weights_kpm_batch_first": dict(call=dict(need_weights=False), masks=("kpm_bool",), batch_first=True),
    "causal_no_weights": dict(call=dict(need_weights=False, is_causal=True), masks=("causal",)),
    "causal_with_weights": dict(call=dict(is_causal=True), masks=("causal",), batch_first=True),
    "unbatched": dict(unbatched=True, masks=("kpm_bool",)),
    "unbatched_3d_mask": dict(unbatched=True, masks=("attn3d_float",), self_attn=False),
    "unbatched_batch_first_flag": dict(unbatched=True, batch_first=True),
    "eval_dropout": dict(init=dict(dropout=0.3), eval=True, masks=("kpm_bool",)),
}


def _mha_inputs(rng, spec, dtype, E, H, L, S, N):
    init = spec.get("init", {})
    bf, unb = spec.get("batch_first", False), spec.get("unbatched", False)

    def x(length, dim):
        shape = (length, dim) if unb else ((N, length, dim) if bf else (length, N, dim))
        return rng.standard_normal(shape).astype(dtype)

    if spec.get("self_attn", True):
        args, same, S = [x(L, E)] * 3, (1, 2), L
    else:
        args, same = [x(L, E), x(S, init.get("kdim", E)), x(S, init.get("vdim", E))], ()
    kw = dict(spec.get("call", {}))
    for m in spec.get("masks", ()):
        if m.startswith("kpm"):
            kw["key_padding_mask"] = _mask(rng, (S,) if unb else (N, S), m.split("_")[1])
        elif m.startswith("attn2d"):
            kw["attn_mask"] = _mask(rng, (L, S), m.split("_")[1])
        elif m.startswith("attn3d"):
            kw["attn_mask"] = _mask(rng, ((1 if unb else N) * H, L, S), m.split("_")[1])
        elif m == "causal":
            kw["attn_mask"] = np.triu(np.full((L, L), -np.inf), 1)
    for k in ("attn_mask", "key_padding_mask"):
        if k in kw and kw[k].dtype != bool:
            kw[k] = kw[k].astype(dtype)
    return args, same, kw


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_attention_mha_parity(case, dtype):
    rng = np.random.default_rng(2)
    spec = MHA_CASES[case]
    E, H, L, S, N = 8, 2, 4, 5, 3
    init = dict(spec.get("init", {}), batch_first=spec.get("batch_first", False))
    lamina.manual_seed(0)
    lm = lamina.nn.MultiheadAttention(E, H, dtype=getattr(lamina, dtype), **init)
    tm = torch.nn.MultiheadAttention(E, H, dtype=getattr(torch, dtype), **init)
    copy_weights(lm, tm)
    if spec.get("eval"):
        lm.eval()
        tm.eval()
    args, same, kw = _mha_inputs(rng, spec, dtype, E, H, L, S, N)
    grad_kwargs = ("attn_mask",) if spec.get("mask_grad") else ()
    out = parity(lm, tm, args, kw, dtype, rng, same_input=same, grad_kwargs=grad_kwargs)
    assert out[0].dtype == getattr(lamina, dtype)


@pytest.mark.parametrize("need_weights", [True, False])
def test_attention_mha_fully_masked_rows_match_torch(need_weights):
    """A query whose every key is masked: NaN with need_weights (softmax of -inf), zeros without (SDPA path)."""
    rng = np.random.default_rng(3)
    lm = lamina.nn.MultiheadAttention(8, 2, dtype=lamina.float64)
    tm = torch.nn.MultiheadAttention(8, 2, dtype=torch.float64)
    copy_weights(lm, tm)
    x = rng.standard_normal((4, 2, 8))
    mask = np.zeros((4, 4), dtype=bool)
    mask[1] = True
    ys = parity(lm, tm, [x, x, x], {"attn_mask": mask, "need_weights": need_weights}, "float64", rng,
                same_input=(1, 2), backward=False)
    assert np.isnan(ys[0].detach().numpy()[1]).all() == need_weights


def test_attention_mha_init_distribution():
    """xavier_uniform_ bounds on in_proj_weight, zero biases, xavier_normal_ std for bias_k (fixed seed)."""
    lamina.manual_seed(0)
    E = 64
    m = lamina.nn.MultiheadAttention(E, 4, add_bias_kv=True)
    w = m.in_proj_weight.detach().numpy()
    bound = np.sqrt(6.0 / (E + 3 * E))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.03 * bound
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    ob = 1 / np.sqrt(E)
    assert np.abs(m.out_proj.weight.detach().numpy()).max() <= ob
    s = np.concatenate([m.bias_k.detach().numpy().ravel(), m.bias_v.detach().numpy().ravel()])
    assert abs(s.std() - np.sqrt(1.0 / E)) < 0.35 * np.sqrt(1.0 / E)
    sep = lamina.nn.MultiheadAttention(E, 4, kdim=32, vdim=16)
    assert np.abs(sep.k_proj_weight.detach().numpy()).max() <= np.sqrt(6.0 / (E + 32))
    assert [k for k, _ in sep.named_parameters()] == [k for k, _ in torch.nn.MultiheadAttention(
        E, 4, kdim=32, vdim=16).named_parameters()]


def test_attention_mha_functional_parity():
    """F.multi_head_attention_forward with separate projection weights, static_k/static_v."""
    rng = np.random.default_rng(4)
    E, H, L, S, N = 8, 2, 3, 5, 2
    arrs = dict(q=(L, N, E), k=(S, N, 6), v=(S, N, 7), wq=(E, E), wk=(E, 6), wv=(E, 7), b=(3 * E,), wo=(E, E),
                bo=(E,), sk=(N * H, 4, E // H), sv=(N * H, 4, E // H))
    arrs = {k: rng.standard_normal(s) for k, s in arrs.items()}
    res = {}
    for fw, mod in (("lamina", lamina), ("torch", torch)):
        t = {k: mod.tensor(v, requires_grad=True) for k, v in arrs.items()}
        fn = mod.nn.functional.multi_head_attention_forward
        out, w = fn(t["q"], t["k"], t["v"], E, H, None, t["b"], None, None, False, 0.0, t["wo"], t["bo"],
                    training=False, use_separate_proj_weight=True, q_proj_weight=t["wq"], k_proj_weight=t["wk"],
                    v_proj_weight=t["wv"], static_k=t["sk"], static_v=t["sv"])
        (out.sum() + (w * w).sum()).backward()
        res[fw] = (out, w, t)
    for a, b in zip(res["lamina"][:2], res["torch"][:2]):
        assert_close(a.detach().numpy(), b.detach().numpy(), "output", dict(rtol=1e-10, atol=1e-12))
    for k in arrs:
        la, ta = res["lamina"][2][k].grad, res["torch"][2][k].grad
        assert (la is None) == (ta is None), k
        if la is not None:
            assert_close(la.numpy(), ta.numpy(), f"grad of {k}", dict(rtol=1e-10, atol=1e-12))
