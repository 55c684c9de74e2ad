"""Packed sequences: the utilities vs torch.nn.utils.rnn, and RNN/LSTM/GRU on packed input (outputs, final
states at each sequence's own last step in the original order, gradients of inputs, states and weights)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _layers_recurrent_helpers import compare, pair, to_np, twins
from lamina.nn.utils.rnn import (
    PackedSequence,
    pack_padded_sequence,
    pack_sequence,
    pad_packed_sequence,
    pad_sequence,
    unpack_sequence,
    unpad_sequence,
)

LENGTHS = {"sorted": [6, 4, 4, 1], "unsorted": [3, 6, 1, 5]}


def test_nn_utils_rnn_resolves_through_the_entry_point():
    import lamina.nn.utils.rnn as r

    assert r.pack_padded_sequence is pack_padded_sequence
    assert lamina.nn.utils.rnn.pad_sequence is pad_sequence


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    arrs = [rng.standard_normal((n, 3)) for n in (2, 5, 1)]
    lam = [lamina.tensor(a, requires_grad=True) for a in arrs]
    tch = [torch.tensor(a, requires_grad=True) for a in arrs]
    y = pad_sequence(lam, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    ty = torch.nn.utils.rnn.pad_sequence(tch, batch_first=batch_first, padding_value=-1.5, padding_side=padding_side)
    np.testing.assert_array_equal(to_np(y), to_np(ty))
    w = rng.standard_normal(tuple(ty.shape))
    (y * lamina.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for a, b in zip(lam, tch):
        np.testing.assert_array_equal(to_np(a.grad), to_np(b.grad))


@pytest.mark.parametrize("kind", sorted(LENGTHS))
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths_as", ["list", "tensor"])
def test_pack_and_pad_roundtrip_matches_torch(kind, batch_first, lengths_as):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    lengths = LENGTHS[kind]
    shape = (4, 6, 2) if batch_first else (6, 4, 2)
    lx, tx = pair(torch, rng.standard_normal(shape))
    ll = lamina.tensor(np.array(lengths)) if lengths_as == "tensor" else lengths
    p = pack_padded_sequence(lx, ll, batch_first=batch_first, enforce_sorted=kind == "sorted")
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=batch_first,
                                                 enforce_sorted=kind == "sorted")
    assert isinstance(p, PackedSequence) and isinstance(p, tuple)
    np.testing.assert_array_equal(to_np(p.data), to_np(tp.data))
    np.testing.assert_array_equal(to_np(p.batch_sizes), tp.batch_sizes.numpy())
    assert p.batch_sizes.dtype == lamina.int64 and p.batch_sizes.device.type == "cpu"
    for a, b in ((p.sorted_indices, tp.sorted_indices), (p.unsorted_indices, tp.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_array_equal(to_np(a), b.numpy())
    y, n = pad_packed_sequence(p, batch_first=batch_first, padding_value=7.0, total_length=8)
    ty, tn = torch.nn.utils.rnn.pad_packed_sequence(tp, batch_first=batch_first, padding_value=7.0, total_length=8)
    np.testing.assert_array_equal(to_np(y), to_np(ty))
    np.testing.assert_array_equal(to_np(n), tn.numpy())
    w = rng.standard_normal(tuple(ty.shape))
    (y * lamina.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(to_np(lx.grad), to_np(tx.grad))


def test_pack_sequence_unpack_sequence_unpad_roundtrip():
    rng = np.random.default_rng(2)
    seqs = [lamina.tensor(rng.standard_normal((n, 2))) for n in (2, 5, 3)]
    back = unpack_sequence(pack_sequence(seqs, enforce_sorted=False))
    for a, b in zip(seqs, back):
        np.testing.assert_array_equal(to_np(a), to_np(b))
    for a, b in zip(seqs, unpad_sequence(pad_sequence(seqs), [2, 5, 3])):
        np.testing.assert_array_equal(to_np(a), to_np(b))


@pytest.mark.parametrize("call,match,err", [
    (lambda: pack_sequence([lamina.zeros(2, 1), lamina.zeros(3, 1)]), "must be sorted in decreasing order",
     RuntimeError),
    (lambda: pack_padded_sequence(lamina.zeros(5, 3, 2), [5, 3]), r"equal to batch_size, but got 2 \(batch_size=3\)",
     RuntimeError),
    (lambda: pack_padded_sequence(lamina.zeros(5, 3, 2), [5, 1, 0]), "greater than 0", RuntimeError),
    (lambda: pack_padded_sequence(lamina.zeros(5, 3, 2), [6, 3, 1]), "at most the padded length 5, got 6",
     RuntimeError),
    (lambda: pad_packed_sequence(pack_sequence([lamina.zeros(5, 1)]), total_length=3),
     "total_length=3 and max sequence length being 5", ValueError),
    (lambda: pad_sequence([lamina.zeros(2, 1)], padding_side="middle"), "one of left or right", ValueError),
])
def test_packing_errors(call, match, err):
    with pytest.raises(err, match=match):
        call()


MODELS = [("RNN", {}), ("LSTM", {}), ("LSTM", {"proj_size": 2}), ("GRU", {})]


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")
@pytest.mark.parametrize("name,extra", MODELS, ids=["RNN", "LSTM", "LSTMproj", "GRU"])
@pytest.mark.parametrize("kind", sorted(LENGTHS))
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("with_h0", [False, True])
def test_recurrent_on_packed_input_matches_torch(name, extra, kind, bidir, with_h0):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    kw = dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=bidir, batch_first=True, **extra)
    m, t = twins(torch, name, "float64", **kw)
    lengths = LENGTHS[kind]
    lx, tx = pair(torch, rng.standard_normal((4, 6, 3)))
    sorted_ = kind == "sorted"
    lp = pack_padded_sequence(lx, lengths, batch_first=True, enforce_sorted=sorted_)
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, batch_first=True, enforce_sorted=sorted_)
    lam_in, tch_in, largs, targs = [lx], [tx], [lp], [tp]
    if with_h0:
        D = 2 if bidir else 1
        P = extra.get("proj_size", 0) or 4
        sts = [pair(torch, rng.standard_normal((2 * D, 4, P)))]
        if name == "LSTM":
            sts.append(pair(torch, rng.standard_normal((2 * D, 4, 4))))
        lam_in += [s[0] for s in sts]
        tch_in += [s[1] for s in sts]
        largs.append(tuple(s[0] for s in sts) if name == "LSTM" else sts[0][0])
        targs.append(tuple(s[1] for s in sts) if name == "LSTM" else sts[0][1])
    lo, lh = m(*largs)
    to, th = t(*targs)
    assert isinstance(lo, PackedSequence)
    np.testing.assert_array_equal(to_np(lo.batch_sizes), to.batch_sizes.numpy())
    ly, _ = pad_packed_sequence(lo, batch_first=True)
    ty, _ = torch.nn.utils.rnn.pad_packed_sequence(to, batch_first=True)
    compare((ly, lh), (ty, th), lam_in, tch_in, m, t, "float64", rng)
