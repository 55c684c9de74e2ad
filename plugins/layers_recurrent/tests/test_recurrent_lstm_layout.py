"""The LSTM layer's inner layout: gate-major step blocks, runs of equal-sized steps, blocked local
derivatives in backward. Results must not depend on how backward cuts the steps into blocks, nor on
the thread count (bitwise), and packed batches whose sizes change from step to step must match torch."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _layers_recurrent_helpers import compare, pair, to_np, twins
from lamina.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from lamina_layers_recurrent import _lstm_function
from lamina_layers_recurrent._lstm_function import runs


def test_runs_split_by_batch_size_and_rows():
    steps = ((0, 3), (3, 3), (6, 3), (9, 2), (11, 0), (11, 1))
    got = [(lo, hi, n, len(r)) for lo, hi, n, r in runs(steps)]
    assert got == [(0, 9, 3, 3), (9, 11, 2, 1), (11, 12, 1, 1)]
    got = [(lo, hi, n, len(r)) for lo, hi, n, r in runs(steps[::-1], rows=4)]
    assert got == [(11, 12, 1, 1), (9, 11, 2, 1), (3, 9, 3, 2), (0, 3, 3, 1)]


def _grads(m, x, h0, c0, w):
    y, (h, c) = m(x, (h0, c0))
    ((y * w).sum() + (h * 2).sum() + (c * 3).sum()).backward()
    out = [to_np(y), to_np(h), to_np(c), to_np(x.grad), to_np(h0.grad), to_np(c0.grad)]
    out += [to_np(p.grad) for p in m.parameters()]
    for t in [x, h0, c0, *m.parameters()]:
        t.grad = None
    return out


@pytest.mark.parametrize("kw", [dict(num_layers=2, bidirectional=True), dict(proj_size=3)],
                         ids=["2layer-bidir", "proj"])
def test_backward_blocks_and_threads_do_not_change_a_bit(kw, monkeypatch):
    lamina.manual_seed(0)
    m = lamina.nn.LSTM(5, 6, **kw)
    rng = np.random.default_rng(0)
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    P = kw.get("proj_size", 0) or 6
    x = lamina.tensor(rng.standard_normal((9, 4, 5)).astype("float32"), requires_grad=True)
    h0 = lamina.tensor(rng.standard_normal((L * D, 4, P)).astype("float32"), requires_grad=True)
    c0 = lamina.tensor(rng.standard_normal((L * D, 4, 6)).astype("float32"), requires_grad=True)
    w = lamina.tensor(rng.standard_normal((9, 4, D * P)).astype("float32"))
    ref = _grads(m, x, h0, c0, w)
    monkeypatch.setattr(_lstm_function, "_BLOCK_BYTES", 4 * 6 * 4 * 4 * 2)   # two steps of 4 rows a block
    cut = _grads(m, x, h0, c0, w)
    before = lamina.get_num_threads()
    try:
        lamina.set_num_threads(2)
        two = _grads(m, x, h0, c0, w)
    finally:
        lamina.set_num_threads(before)
    for a, b, c in zip(ref, cut, two):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("bidir", [False, True])
def test_packed_changing_batch_sizes_in_small_blocks_match_torch(bidir, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(_lstm_function, "_BLOCK_BYTES", 4 * 4 * 4 * 3)   # blocks of 3 rows: cut within runs
    m, t = twins(torch, "LSTM", "float32", input_size=3, hidden_size=4, num_layers=2, bidirectional=bidir)
    rng = np.random.default_rng(5)
    lengths = [7, 5, 5, 2, 1]
    x, tx = pair(torch, rng.standard_normal((7, 5, 3)).astype("float32"))
    y, (h, c) = m(pack_padded_sequence(x, lengths))
    ty, (th, tc) = t(torch.nn.utils.rnn.pack_padded_sequence(tx, lengths))
    outs = (pad_packed_sequence(y)[0], h, c)
    touts = (torch.nn.utils.rnn.pad_packed_sequence(ty)[0], th, tc)
    compare(outs, touts, [x], [tx], m, t, "float32", rng)
