"""In-place and *_like samplers on 0-d tensors (they passed ``*shape`` = nothing to rand/randn and raised)."""

from __future__ import annotations

import lamina
import pytest
import torch


@pytest.mark.parametrize("call", [
    lambda m, t: t.uniform_(-1, 1), lambda m, t: t.normal_(2, 3), lambda m, t: m.rand_like(t),
    lambda m, t: m.randn_like(t), lambda m, t: m.nn.init.uniform_(t), lambda m, t: m.nn.init.normal_(t),
    lambda m, t: m.nn.functional.dropout(t, 0.5), lambda m, t: m.nn.functional.rrelu(t, training=True),
    lambda m, t: m.nn.functional.alpha_dropout(t, 0.5, training=True),
], ids=["uniform_", "normal_", "rand_like", "randn_like", "init.uniform_", "init.normal_", "dropout", "rrelu",
        "alpha_dropout"])
def test_zero_dim_samplers_keep_the_shape(call):
    ours, theirs = call(lamina, lamina.tensor(0.5)), call(torch, torch.tensor(0.5))
    assert tuple(ours.shape) == tuple(theirs.shape) == () and ours.dtype == lamina.float32
