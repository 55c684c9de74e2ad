"""Tensor ops done between modules (arithmetic, math, reductions, softmax, views, cat, slicing, matmul),
recorded at op level, exported, and run in onnxruntime on a batch size other than the traced one."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import pytest
from _onnx_check import Lambda, roundtrip
from lamina import nn

# every x is (N, 3, 4) with N = 2 traced and 5 run; the batch stays dynamic
OPS = {
    "add_sub_alpha": lambda x, w: lamina.add(x, w, alpha=2) - lamina.sub(w, x, alpha=0.5) + 1,
    "rsub_rdiv_pow": lambda x, w: (2 - x) * (1 / (x.abs() + 1)) + x ** 2 + 2 ** x.clamp(-2, 2),
    "mul_div_neg": lambda x, w: -(x * w) / (w.abs() + 0.5),
    "max_min": lambda x, w: lamina.maximum(x, w) + lamina.minimum(x, 0.2 * w),
    "unary_math": lambda x, w: x.exp() + x.abs().log1p() + x.sin() * x.cos() + x.tanh() + x.sigmoid() + x.relu()
    + x.abs().sqrt() + x.abs().add(1).rsqrt() + x.square() + x.expm1() + x.abs().add(1).log2()
    + x.abs().add(1).log10() + x.floor() + x.ceil() + x.sign() + x.trunc() + x.round() + lamina.atan(x),
    "clamp": lambda x, w: x.clamp(min=-0.5) + x.clamp(max=0.5) + x.clamp(-0.1, 0.1) + lamina.clamp(x, w * 0, w),
    "sum_mean": lambda x, w: x.sum(-1, keepdim=True) + x.mean((1, 2), keepdim=True) + x.sum() + x.mean(),
    "max_min_dim": lambda x, w: x.max(dim=1).values + x.min(dim=1, keepdim=True).values.squeeze(1)
    + x.max(dim=-1).indices.float().sum(-1, keepdim=True),
    "amax_prod_var": lambda x, w: x.amax(-1) + x.amin(1).sum(-1, keepdim=True) + x.prod(-1) + x.var(-1)
    + x.std(-1, correction=0),
    "logsumexp_cumsum": lambda x, w: lamina.logsumexp(x, -1) + x.cumsum(-1)[..., -1],
    "softmax": lambda x, w: F.softmax(x, dim=-1) + F.log_softmax(x, dim=1) + x.softmax(0),
    "views": lambda x, w: x.view(x.size(0), -1) + x.reshape(-1, 12) + x.flatten(1) + x.permute(0, 2, 1).reshape(
        x.shape[0], 12),
    "transpose_unsqueeze": lambda x, w: x.transpose(1, 2).unsqueeze(1).squeeze(1).contiguous() + x.mT,
    "expand": lambda x, w: x[:, :1, :].expand(-1, 3, 4) + w.expand(3, 4) + x.sum(-1, keepdim=True).expand_as(x),
    "cat_stack": lambda x, w: lamina.cat([x, x * 2], dim=1).sum(1) + lamina.stack([x, -x], dim=-1).sum(-1).sum(1),
    "slicing": lambda x, w: x[:, 1:, ::2].sum(1) + x[:, -1, None, :2].squeeze(1) + x[..., 0:2].sum(1)
    + x[:, 0, 1:3] + x[:, :, -2:].sum(1) + x.narrow(2, 1, 2).sum(1),
    "index_select_gather": lambda x, w: x.index_select(2, lamina.tensor([0, 2, 3])).sum(-1)
    + x[:, lamina.tensor([2, 0])].sum(1).sum(-1, keepdim=True),
    "where_flip": lambda x, w: lamina.where(w > 0, x, w * 0.1) + x.flip(-1) + x.tile((1, 1, 2))[..., 4:],
    "matmul": lambda x, w: x @ x.transpose(1, 2) @ x + lamina.matmul(x, w) .unsqueeze(-1)
    + lamina.einsum("nij,j->ni", x, w).unsqueeze(-1),
    "dtype": lambda x, w: x.double().float() + x.to(lamina.float64).sum(-1, keepdim=True).float() + x.int(),
    "chunk_split": lambda x, w: sum(x.chunk(2, dim=-1)).sum(-1) + x.split(1, dim=1)[2].squeeze(1).sum(-1, True),
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_matches_lamina_for_another_batch_size(name):
    lamina.manual_seed(0)
    model = Lambda(OPS[name])
    roundtrip(model, lamina.randn(2, 3, 4), run_args=lamina.randn(5, 3, 4), input_names=["x"],
              dynamic_axes={"x": {0: "batch"}}, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("opset", [17, 18, 19, 20])
def test_reductions_at_every_supported_opset(opset):
    lamina.manual_seed(0)
    model = Lambda(lambda x, w: x.mean(1) + x.amax(1) + x.sum(1) + F.softmax(x, -1).prod(1) + x.var(1))
    roundtrip(model, lamina.randn(2, 3, 4), opset_version=opset)


def test_two_inputs_and_two_outputs_with_their_names():
    lamina.manual_seed(0)

    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, a, b):
            h = self.fc(a) + b
            return h, (h * a).sum(-1)

    proto = roundtrip(Two(), (lamina.randn(2, 4), lamina.randn(2, 4)),
                      run_args=(lamina.randn(6, 4), lamina.randn(6, 4)), input_names=["a", "b"],
                      output_names=["h", "score"], dynamic_axes={"a": [0], "b": [0], "h": [0], "score": [0]})
    assert [i.name for i in proto.graph.input] == ["a", "b"]
    assert [o.name for o in proto.graph.output] == ["h", "score"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "a_dynamic_axes_1"


def test_an_output_that_is_an_input_or_appears_twice_goes_through_identity():
    class Echo(nn.Module):
        def forward(self, x):
            y = x * 2
            return x, y, y

    roundtrip(Echo(), lamina.randn(2, 3))


def test_dynamic_sequence_length_and_batch_together():
    lamina.manual_seed(0)

    class Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(4, 6)

        def forward(self, x):  # (N, L, 4)
            h = self.proj(x).view(x.size(0), x.size(1), 2, 3).transpose(1, 2)  # (N, 2, L, 3)
            scores = h @ h.transpose(-1, -2) / 3 ** 0.5
            return (F.softmax(scores, -1) @ h).transpose(1, 2).reshape(x.size(0), x.size(1), 6)[:, :-1]

    roundtrip(Seq(), lamina.randn(2, 5, 4), run_args=lamina.randn(3, 7, 4), input_names=["x"],
              dynamic_axes={"x": {0: "batch", 1: "seq"}})


def test_a_token_expanded_to_the_batch_and_heads_folded_into_it_stay_dynamic():
    """ViT's class token (a parameter expanded to x.shape[0]) and attention heads folded into the batch
    ((N, L, H, D) -> (N * H, L, D) with N and L dynamic): sizes from the graph input's dims."""
    lamina.manual_seed(0)

    class Tokens(nn.Module):
        def __init__(self):
            super().__init__()
            self.cls = nn.Parameter(lamina.randn(1, 1, 6))
            self.proj = nn.Linear(4, 6)

        def forward(self, x):  # (N, L, 4)
            h = lamina.cat([self.cls.expand(x.shape[0], -1, -1), self.proj(x)], dim=1)  # (N, L + 1, 6)
            n, length = h.shape[0], h.shape[1]
            heads = h.view(n, length, 2, 3).transpose(1, 2).reshape(n * 2, length, 3)
            return heads.softmax(-1).reshape(n, 2, length, 3).sum(1)

    roundtrip(Tokens(), lamina.randn(2, 3, 4), run_args=lamina.randn(4, 6, 4), input_names=["x"],
              dynamic_axes={"x": {0: "batch", 1: "seq"}})
