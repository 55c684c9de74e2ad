"""lamina.distributions.utils against torch.distributions.utils: broadcast_all, logits/probs conversions,
clamp_probs, tril_matrix_to_vec / vec_to_tril_matrix (values, dtypes, errors) and lazy_property."""

from __future__ import annotations

import lamina
import lamina_distributions.utils as LU
import numpy as np
import pytest
import torch
import torch.distributions.utils as TU
from _dist_cases import assert_close

RNG = np.random.default_rng(4)


def test_broadcast_all():
    a, b = RNG.standard_normal((3, 1)), RNG.standard_normal(4)
    for args_t, args_l in [((torch.tensor(a), torch.tensor(b)), (lamina.tensor(a), lamina.tensor(b))),
                           ((torch.tensor(a), 2.0), (lamina.tensor(a), 2.0)), ((1.0, 2), (1.0, 2))]:
        outs_t, outs_l = TU.broadcast_all(*args_t), LU.broadcast_all(*args_l)
        for ot, ol in zip(outs_t, outs_l):
            assert_close(ol, ot, "float32" if ot.dtype == torch.float32 else "float64")
    with pytest.raises(ValueError):
        TU.broadcast_all("x", torch.zeros(2))
    with pytest.raises(ValueError):
        LU.broadcast_all("x", lamina.zeros(2))


@pytest.mark.parametrize("is_binary", [False, True])
def test_logits_probs_round_trip(is_binary):
    x = RNG.standard_normal((3, 4))
    assert_close(LU.logits_to_probs(lamina.tensor(x), is_binary), TU.logits_to_probs(torch.tensor(x), is_binary))
    p = RNG.uniform(0.01, 0.99, (3, 4))
    if not is_binary:
        p = p / p.sum(-1, keepdims=True)
    assert_close(LU.probs_to_logits(lamina.tensor(p), is_binary), TU.probs_to_logits(torch.tensor(p), is_binary))
    edge = np.array([0.0, 1.0, 0.5])
    assert_close(LU.clamp_probs(lamina.tensor(edge)), TU.clamp_probs(torch.tensor(edge)))
    assert_close(LU.clamp_probs(lamina.tensor(edge.astype("float32"))),
                 TU.clamp_probs(torch.tensor(edge.astype("float32"))), "float32")


@pytest.mark.parametrize("diag", [-1, 0, 1])
def test_tril_vec_round_trip(diag):
    m = RNG.standard_normal((2, 4, 4))
    tv, lv = TU.tril_matrix_to_vec(torch.tensor(m), diag), LU.tril_matrix_to_vec(lamina.tensor(m), diag)
    assert_close(lv, tv)
    assert_close(LU.vec_to_tril_matrix(lv, diag), TU.vec_to_tril_matrix(tv, diag))


def test_lazy_property_caches_per_instance():
    calls = []

    class Thing:
        @LU.lazy_property
        def value(self):
            calls.append(1)
            return 42

    t = Thing()
    assert t.value == 42 and t.value == 42
    assert len(calls) == 1
    assert isinstance(Thing.value, LU.lazy_property)


def test_euler_constant():
    assert LU.euler_constant == TU.euler_constant
