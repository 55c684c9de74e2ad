"""What the parity grid and the kit do not cover for RNN, LSTM and GRU: float64 gradchecks of multi-layer,
bidirectional, projected and packed runs; dropout between layers; errors; repr, state_dict keys and
default init; a 1,000-step sequence; no_grad and double backward; pooled scratch buffers."""

from __future__ import annotations

import math
import tracemalloc

import lamina
import numpy as np
import pytest
from _layers_recurrent_helpers import to_np, twins
from lamina.errors import DTypeError, ShapeError
from lamina.testing import gradcheck
from lamina_layers_recurrent.rnn import RNNBase

GRAD = [
    ("RNN", dict(num_layers=2, bidirectional=True)),
    ("RNN", dict(nonlinearity="relu", batch_first=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=2, batch_first=True)),
    ("GRU", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(bias=False)),
]


@pytest.mark.parametrize("name,kw", GRAD, ids=[f"{n}{i}" for i, (n, _) in enumerate(GRAD)])
def test_recurrent_gradcheck_float64(name, kw):
    lamina.manual_seed(0)
    m = getattr(lamina.nn, name)(2, 3, dtype=lamina.float64, **kw)
    rng = np.random.default_rng(1)
    x = lamina.tensor(rng.standard_normal((4, 2, 2)), requires_grad=True)
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    P = kw.get("proj_size", 0) or 3
    h0 = lamina.tensor(rng.standard_normal((L * D, 4 if kw.get("batch_first") else 2, P)), requires_grad=True)
    params = list(m.parameters())
    if name == "LSTM":
        c0 = lamina.tensor(rng.standard_normal((L * D, h0.shape[1], 3)), requires_grad=True)

        def fn(x, h0, c0, *ps):
            return m(x, (h0, c0))
        inputs = (x, h0, c0, *params)
    else:
        def fn(x, h0, *ps):
            return m(x, h0)
        inputs = (x, h0, *params)
    assert gradcheck(fn, inputs, fast_mode=sum(p.numel() for p in params) > 150)


def test_packed_gradcheck_float64():
    from lamina.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    lamina.manual_seed(0)
    m = lamina.nn.LSTM(2, 3, bidirectional=True, dtype=lamina.float64)
    x = lamina.tensor(np.random.default_rng(3).standard_normal((4, 3, 2)), requires_grad=True)

    def fn(x, *ps):
        out, (h, c) = m(pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False))
        return pad_packed_sequence(out)[0], h, c
    assert gradcheck(fn, (x, *m.parameters()), fast_mode=True)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_train_eval_and_seeded(name):
    lamina.manual_seed(0)
    x = lamina.randn(5, 3, 4)
    m = getattr(lamina.nn, name)(4, 6, num_layers=3, dropout=0.5)
    m.train()
    lamina.manual_seed(11)
    a = to_np(m(x)[0])
    lamina.manual_seed(11)
    b = to_np(m(x)[0])
    c = to_np(m(x)[0])
    np.testing.assert_array_equal(a, b)          # seeded through lamina's RNG
    assert not np.allclose(a, c)                # a fresh mask
    m.eval()
    e1, e2 = to_np(m(x)[0]), to_np(m(x)[0])
    np.testing.assert_array_equal(e1, e2)
    m0 = getattr(lamina.nn, name)(4, 6, num_layers=3)
    m0.load_state_dict(m.state_dict())
    np.testing.assert_allclose(e1, to_np(m0(x)[0]), rtol=1e-6, atol=1e-7)   # eval: no dropout at all
    assert not np.allclose(a, e1)


def test_dropout_p1_zeroes_inputs_of_later_layers_and_warns_single_layer():
    lamina.manual_seed(0)
    m = lamina.nn.GRU(3, 4, num_layers=2, dropout=1.0, bias=False)
    y, _ = m(lamina.randn(6, 2, 3))
    np.testing.assert_array_equal(to_np(y), 0.0)   # layer 2 sees zeros, no bias: h stays 0
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        lamina.nn.LSTM(3, 4, dropout=0.2)


ERRORS = [
    (lambda: lamina.nn.LSTM(100, 8)(lamina.randn(5, 2, 64)), ShapeError,
     r"LSTM: expected input with 100 features \(input_size\), got 64"),
    (lambda: lamina.nn.LSTM(3, 4, num_layers=2)(lamina.randn(5, 2, 3), (lamina.randn(1, 2, 4), lamina.randn(2, 2, 4))),
     RuntimeError, r"LSTM: expected hidden\[0\] of size \(2, 2, 4\), got \[1, 2, 4\]"),
    (lambda: lamina.nn.LSTM(3, 4)(lamina.randn(5, 2, 3), (lamina.randn(1, 2, 4), lamina.randn(1, 2, 3))),
     ShapeError, r"LSTM: expected hidden\[1\] of size \(1, 2, 4\), got \[1, 2, 3\]"),
    (lambda: lamina.nn.GRU(3, 4)(lamina.randn(5, 3), lamina.randn(1, 2, 4)), ShapeError,
     "GRU: for unbatched 2-D input, hx should also be 2-D but got"),
    (lambda: lamina.nn.GRU(3, 4)(lamina.randn(5, 2, 3), lamina.randn(2, 4)), ShapeError,
     "GRU: for batched 3-D input, hx should also be 3-D"),
    (lambda: lamina.nn.RNN(3, 4)(lamina.randn(1, 5, 2, 3)), ShapeError, "RNN: Expected input to be 2D or 3D, got 4D"),
    (lambda: lamina.nn.RNN(3, 4)(lamina.randn(5, 2, 3, dtype=lamina.float64)), DTypeError,
     r"RNN: input dtype \(lamina.float64\) does not match weight dtype \(lamina.float32\)"),
    (lambda: lamina.nn.RNN(3, 4, nonlinearity="gelu"), ValueError, "Unknown nonlinearity 'gelu'"),
    (lambda: RNNBase("GRU", 3, 4, proj_size=2), ValueError, "proj_size argument is only supported for LSTM"),
    (lambda: lamina.nn.LSTM(3, 4, proj_size=4), ValueError, "proj_size has to be smaller than hidden_size"),
    (lambda: lamina.nn.LSTM(3, 4, dropout=1.5), ValueError, "dropout should be a number in range"),
    (lambda: lamina.nn.LSTM(3, 0), ValueError, "hidden_size must be greater than zero"),
    (lambda: lamina.nn.LSTM(3, 4, num_layers=0), ValueError, "num_layers must be greater than zero"),
]


@pytest.mark.parametrize("call,err,match", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_recurrent_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()


def test_repr_state_dict_and_init_match_torch():
    torch = pytest.importorskip("torch")
    for name, kw in [("LSTM", dict(input_size=100, hidden_size=128, num_layers=2, batch_first=True)),
                     ("LSTM", dict(input_size=3, hidden_size=5, proj_size=2, bidirectional=True, bias=False)),
                     ("GRU", dict(input_size=3, hidden_size=4, num_layers=2, dropout=0.5, bidirectional=True)),
                     ("RNN", dict(input_size=3, hidden_size=4, nonlinearity="relu"))]:
        m, t = twins(torch, name, "float32", **kw)
        assert repr(m) == repr(t)
        assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == \
               [(k, tuple(v.shape)) for k, v in t.state_dict().items()]
        assert m._flat_weights_names == t._flat_weights_names
        m.flatten_parameters()
    assert repr(lamina.nn.LSTM(100, 128, num_layers=2, batch_first=True)) == \
        "LSTM(100, 128, num_layers=2, batch_first=True)"
    lamina.manual_seed(0)
    w = np.concatenate([to_np(p).ravel() for p in lamina.nn.LSTM(64, 100, num_layers=2).parameters()])
    bound = 1 / math.sqrt(100)
    assert w.min() >= -bound and w.max() <= bound
    assert abs(w.mean()) < 0.01 * bound and abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound   # U(-b, b)


@pytest.mark.parametrize("name", ["LSTM", "GRU"])
def test_long_sequence_trains_without_recursion_or_memory_blowup(name):
    """1,000 steps, forward + backward: one Function per layer, so no deep graph; memory ~ the saved activations."""
    lamina.manual_seed(0)
    m = getattr(lamina.nn, name)(16, 32, num_layers=2)
    x = lamina.randn(1000, 4, 16)
    tracemalloc.start()
    try:
        y, _ = m(x)
        y.sum().backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # saved per layer ~(4 + 4) * 1000 * 4 * 32 float32 values (~1 MB) plus backward scratch; measured ~13 MB
    assert peak < 30e6, f"peak traced memory {peak / 1e6:.1f} MB"
    assert all(p.grad is not None and np.isfinite(to_np(p.grad)).all() for p in m.parameters())


def test_no_grad_records_nothing_and_create_graph_gives_the_array_gradients():
    m = lamina.nn.LSTM(3, 4)
    x = lamina.randn(5, 2, 3, requires_grad=True)
    with lamina.no_grad():
        y, (h, c) = m(x)
    assert not y.requires_grad and y.grad_fn is None
    y, _ = m(x)
    plain = lamina.autograd.grad((y * y).sum(), [x] + list(m.parameters()), retain_graph=True)
    graph = lamina.autograd.grad((y * y).sum(), [x] + list(m.parameters()), create_graph=True)
    assert all(g.requires_grad for g in graph)   # the create_graph path records a graph (tests/test_double_backward)
    for a, g in zip(plain, graph):
        np.testing.assert_allclose(to_np(g.detach()), to_np(a), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_pooled_scratch_never_aliases_results(name):
    """Saved activations and backward scratch are reused across calls: results handed out must not change."""
    lamina.manual_seed(0)
    m = getattr(lamina.nn, name)(3, 5, num_layers=2, bidirectional=True)
    x = lamina.randn(6, 2, 3, requires_grad=True)
    y1, _ = m(x)
    y1.sum().backward(retain_graph=True)
    first = [to_np(y1).copy(), to_np(x.grad).copy()] + [to_np(p.grad).copy() for p in m.parameters()]
    y1.sum().backward()   # retain_graph: the same saved activations give the same gradients again
    np.testing.assert_allclose(to_np(x.grad), 2 * first[1], rtol=1e-6, atol=1e-6)
    kept_y, kept_g = y1.detach().array, x.grad.array   # the arrays themselves, not copies
    del y1
    for _ in range(3):    # the freed buffers go back to the pool and get reused
        m.zero_grad()
        y2, _ = m(lamina.randn(6, 2, 3))
        y2.sum().backward()
    np.testing.assert_array_equal(kept_y, first[0])
    np.testing.assert_array_equal(kept_g, 2 * first[1])
