"""Double backward (create_graph=True) through attention: gradgradcheck in float64 for every SDPA option, and
second derivatives (seeded Hessian-vector products) equal to PyTorch's for SDPA, MultiheadAttention and the
Transformer layers on the same weights; a MAML-style inner step on a small attention model equal to torch's."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from _attention_helpers import assert_same_second, copy_weights, hessian_vector
from lamina.testing import gradgradcheck

torch = pytest.importorskip("torch")
# torch's fused CPU attention kernels differentiate once; its math backend (the composite) twice


def math_attention():
    return torch.nn.attention.sdpa_kernel(torch.nn.attention.SDPBackend.MATH)


R = np.random.default_rng(11)
Q, K, V = R.standard_normal((2, 4, 3, 5)), R.standard_normal((2, 4, 6, 5)), R.standard_normal((2, 4, 6, 3))
K_GQA, V_GQA = R.standard_normal((2, 2, 6, 5)), R.standard_normal((2, 2, 6, 3))
BOOL = R.uniform(size=(3, 6)) > 0.4
BOOL[1] = False                     # a fully masked row: P = 0, zero gradients
BOOL[0, 0] = True
FLOAT = R.standard_normal((2, 1, 3, 6))

# (id, kwargs; "float_mask": the float mask is an input that is differentiated too)
SDPA = [
    ("plain", {}),
    ("scale", {"scale": 0.3}),
    ("bool-mask", {"attn_mask": BOOL}),
    ("float-mask", {"attn_mask": FLOAT}),
    ("causal", {"is_causal": True}),
    ("gqa", {"enable_gqa": True}),
]


def _tensors(lib, kwargs):
    k, v = (K_GQA, V_GQA) if kwargs.get("enable_gqa") else (K, V)
    qkv = [lib.tensor(a.copy(), requires_grad=True) for a in (Q, k, v)]
    kw = dict(kwargs)
    mask = kw.pop("attn_mask", None)
    extra = []
    if mask is not None:
        m = lib.tensor(mask.copy(), requires_grad=mask.dtype.kind == "f")
        kw["attn_mask"] = m
        if m.requires_grad:
            extra.append(m)
    return qkv + extra, kw


@pytest.mark.parametrize("name,kwargs", SDPA, ids=[c[0] for c in SDPA])
def test_sdpa_gradgradcheck(name, kwargs):
    leaves, kw = _tensors(lamina, kwargs)
    n = len(leaves)

    def fn(*xs):
        extra = {"attn_mask": xs[3]} if n == 4 else {}
        return F.scaled_dot_product_attention(*xs[:3], **{**kw, **extra})
    assert gradgradcheck(fn, tuple(leaves))


@pytest.mark.parametrize("name,kwargs", SDPA, ids=[c[0] for c in SDPA])
def test_sdpa_second_derivatives_match_torch(name, kwargs):
    got, want = [], []
    for lib, out in ((lamina, got), (torch, want)):
        leaves, kw = _tensors(lib, kwargs)
        sdpa = lib.nn.functional.scaled_dot_product_attention
        with math_attention():
            out.extend(hessian_vector(lib, lambda f=sdpa, xs=leaves, kw=kw: f(*xs[:3], **kw), leaves,
                                      seed=5))
    assert_same_second(got, want, ["query", "key", "value", "attn_mask"][:len(got)])


def _keep(shape, p, seed):
    """The keep-mask lamina's SDPA draws after manual_seed(seed): rand >= p, scaled by 1 / (1 - p)."""
    lamina.manual_seed(seed)
    u = lamina.rand(*shape, dtype=lamina.float64).numpy()
    return (u >= p) / (1 - p)


def test_sdpa_dropout_second_derivatives_match_torch_with_the_same_keep_mask():
    p, seed = 0.3, 4
    keep = torch.tensor(_keep((2, 4, 3, 6), p, seed))

    def lam():
        lamina.manual_seed(seed)
        return F.scaled_dot_product_attention(*lq, dropout_p=p)

    def reference():             # torch has its own RNG: the same math with lamina's keep-mask, in torch ops
        q, k, v = tq
        w = torch.softmax(q @ k.transpose(-1, -2) / np.sqrt(q.shape[-1]), -1) * keep
        return w @ v
    lq = [lamina.tensor(a.copy(), requires_grad=True) for a in (Q, K, V)]
    tq = [torch.tensor(a.copy(), requires_grad=True) for a in (Q, K, V)]
    np.testing.assert_allclose(lam().detach().numpy(), reference().detach().numpy(), rtol=1e-10, atol=1e-12)
    assert gradgradcheck(lambda *xs: (lamina.manual_seed(seed), F.scaled_dot_product_attention(*xs, dropout_p=p))[1],
                         tuple(lq))
    assert_same_second(hessian_vector(lamina, lam, lq, 6), hessian_vector(torch, reference, tq, 6),
                       ["query", "key", "value"])


def _module_case(lib, module, args, kw):
    ins = [lib.tensor(a.copy(), requires_grad=True) if isinstance(a, np.ndarray) else a for a in args]
    leaves = [t for t in ins if isinstance(t, lib.Tensor) and t.requires_grad] + list(module.parameters())
    return hessian_vector(lib, lambda: module(*ins, **kw), leaves, seed=9), [
        f"input {i}" for i in range(len(leaves) - len(list(module.parameters())))] + [
        n for n, _ in module.named_parameters()]


X = R.standard_normal((2, 3, 8))       # (N, L, E) batch-first
MEM = R.standard_normal((2, 4, 8))
PAD = np.where(np.array([[False, False, True], [False, False, False]]), -np.inf, 0.0)   # float, like the attn_mask
CAUSAL = np.triu(np.full((3, 3), -np.inf), 1)

MODULES = [
    ("mha-self", "MultiheadAttention", dict(embed_dim=8, num_heads=2, batch_first=True), lambda t: (t, t, t), {}),
    ("mha-masks-weights", "MultiheadAttention", dict(embed_dim=8, num_heads=2, batch_first=True),
     lambda t: (t, t, t), {"key_padding_mask": PAD, "attn_mask": CAUSAL, "average_attn_weights": False}),
    ("mha-kdim-bias-kv", "MultiheadAttention", dict(embed_dim=8, num_heads=2, kdim=6, vdim=5, add_bias_kv=True,
                                                    add_zero_attn=True), None, {}),
    ("encoder-layer", "TransformerEncoderLayer", dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0,
                                                      batch_first=True), lambda t: (t,), {"src_mask": CAUSAL}),
    ("decoder-layer-norm-first", "TransformerDecoderLayer",
     dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True, activation="gelu"),
     lambda t: (t, MEM), {"tgt_is_causal": False}),
]


@pytest.mark.parametrize("case", MODULES, ids=[c[0] for c in MODULES])
def test_module_second_derivatives_match_torch(case):
    _, cls, init, inputs, kwargs = case
    lamina.manual_seed(0)
    lm = getattr(lamina.nn, cls)(**init, dtype=lamina.float64)
    tm = getattr(torch.nn, cls)(**init, dtype=torch.float64)
    copy_weights(lm, tm)
    results = []
    for lib, m in ((lamina, lm), (torch, tm)):
        if inputs is None:       # separate key/value sizes, sequence-first
            args = [R2.copy() for R2 in (X.transpose(1, 0, 2), MEM[..., :6].transpose(1, 0, 2),
                                          MEM[..., :5].transpose(1, 0, 2))]
        else:
            args = list(inputs(X))
        kw = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
        with math_attention():
            results.append(_module_case(lib, m, args, kw))
    (got, names), (want, _) = results
    assert_same_second(got, want, names, dict(rtol=1e-6, atol=1e-9))


def test_maml_inner_step_on_an_attention_model_matches_torch():
    """One inner SGD step with create_graph=True, then the outer loss at the adapted weights: the meta-gradient
    of every parameter (through the inner gradient, i.e. second derivatives) equals torch's."""
    def build(lib, dtype):
        return lib.nn.ModuleDict({"attn": lib.nn.MultiheadAttention(8, 2, batch_first=True, dtype=dtype),
                                  "head": lib.nn.Linear(8, 3, dtype=dtype)})

    def model(lib, m, params, x):
        call = lib.func.functional_call
        y, _ = call(m["attn"], {k[5:]: v for k, v in params.items() if k.startswith("attn.")}, (x, x, x))
        return call(m["head"], {k[5:]: v for k, v in params.items() if k.startswith("head.")}, (y.mean(1),))

    lamina.manual_seed(1)
    lm, tm = build(lamina, lamina.float64), build(torch, torch.float64)
    copy_weights(lm, tm)
    xs, xq = R.standard_normal((4, 3, 8)), R.standard_normal((4, 3, 8))
    ys, yq = R.integers(0, 3, 4), R.integers(0, 3, 4)
    meta = []
    for lib, m in ((lamina, lm), (torch, tm)):
        with math_attention():
            params = dict(m.named_parameters())
            inner = lib.nn.functional.cross_entropy(model(lib, m, params, lib.tensor(xs)), lib.tensor(ys))
            grads = lib.autograd.grad(inner, list(params.values()), create_graph=True)
            fast = {k: p - 0.5 * g for (k, p), g in zip(params.items(), grads)}
            outer = lib.nn.functional.cross_entropy(model(lib, m, fast, lib.tensor(xq)), lib.tensor(yq))
            meta.append((outer.item(), [g.detach().numpy() for g in lib.autograd.grad(outer, list(params.values()))]))
    (l_loss, l_grads), (t_loss, t_grads) = meta
    np.testing.assert_allclose(l_loss, t_loss, rtol=1e-10)
    for name, a, b in zip(dict(lm.named_parameters()), l_grads, t_grads):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10, err_msg=f"meta-gradient of {name}")


@pytest.mark.parametrize("L,S", [(0, 3), (3, 0)])
def test_sdpa_empty_queries_or_keys(L, S):
    """No query or no key: output zeros (torch's too, for S = 0), zero first and second derivatives."""
    arrays = [R.standard_normal(s) for s in ((2, L, 4), (2, S, 4), (2, S, 5))]
    outs = []
    for lib in (lamina, torch):
        qkv = [lib.tensor(a.copy(), requires_grad=True) for a in arrays]
        with math_attention():
            out = lib.nn.functional.scaled_dot_product_attention(*qkv)
        outs.append(out.detach().numpy())
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0].shape == (2, L, 5)
    assert gradgradcheck(F.scaled_dot_product_attention, tuple(lamina.tensor(a, requires_grad=True) for a in arrays))


def test_sdpa_third_derivative_and_non_contiguous_inputs_match_torch():
    """The create_graph gradient is itself differentiable to any order: a third derivative along seeded
    directions equals torch's; the query is a non-contiguous (transposed) view."""
    rng = np.random.default_rng(13)
    dirs = [rng.standard_normal(s) for s in ((2, 4, 3, 3), (2, 4, 3, 5), (2, 4, 3, 5))]
    results = []
    for lib in (lamina, torch):
        q = lib.tensor(Q.transpose(0, 1, 3, 2).copy(), requires_grad=True)        # (2, 4, 5, 3)
        k, v = (lib.tensor(a.copy(), requires_grad=True) for a in (K, V))
        with math_attention():
            out = lib.nn.functional.scaled_dot_product_attention(q.transpose(-1, -2), k, v, attn_mask=lib.tensor(BOOL))
            g, = lib.autograd.grad(out, [q], lib.tensor(dirs[0]), create_graph=True)
            h, = lib.autograd.grad((g.transpose(-1, -2) * lib.tensor(dirs[1])).sum(), [q], create_graph=True)
            t = lib.autograd.grad((h.transpose(-1, -2) * lib.tensor(dirs[2])).sum(), [q, k, v])
        results.append([a.numpy() for a in t])
    for name, a, b in zip(("query", "key", "value"), *results):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9, err_msg=f"third derivative of {name}")
