"""TransformerEncoder's nested-tensor path as torch observes it: the construction warning, and zeros at the
padded positions in eval/no-grad with a left-aligned key padding mask (elsewhere the padded batch as computed)."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
import torch


def _build(m, batch_first=True, nhead=2, norm_first=False):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m.manual_seed(0)
        layer = m.nn.TransformerEncoderLayer(8, nhead, 16, dropout=0.0, batch_first=batch_first,
                                             norm_first=norm_first)
        enc = m.nn.TransformerEncoder(layer, 2, norm=m.nn.LayerNorm(8))
    return enc, [str(w.message) for w in caught if "nested" in str(w.message)]


@pytest.mark.parametrize("kw", [{}, {"batch_first": False}, {"nhead": 1}, {"norm_first": True}])
def test_construction_warning_matches_torch(kw):
    (tenc, tw), (lenc, lw) = _build(torch, **kw), _build(lamina, **kw)
    assert lw == tw and lenc.use_nested_tensor == tenc.use_nested_tensor


CASES = {
    "eval-no-grad": (True, False, [[0] * 5, [0, 0, 0, 1, 1]]),
    "train": (False, False, [[0] * 5, [0, 0, 0, 1, 1]]),
    "grad": (True, True, [[0] * 5, [0, 0, 0, 1, 1]]),
    "not-left-aligned": (True, False, [[0] * 5, [1, 0, 0, 0, 1]]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_padded_positions_match_torch(case):
    evaluate, grad, pad = CASES[case]
    (tenc, _), (lenc, _) = _build(torch), _build(lamina)
    lenc.load_state_dict({k: lamina.tensor(v.numpy()) for k, v in tenc.state_dict().items()})
    for enc in (tenc, lenc):
        enc.train(not evaluate)
    x = np.random.default_rng(9).standard_normal((2, 5, 8)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's prototype-nested-tensor note
        with torch.set_grad_enabled(grad):
            t = tenc(torch.tensor(x), src_key_padding_mask=torch.tensor(pad, dtype=torch.bool)).detach().numpy()
    with lamina.set_grad_enabled(grad):
        got = lenc(lamina.tensor(x), src_key_padding_mask=lamina.tensor(pad, dtype=lamina.bool)).detach().numpy()
    np.testing.assert_allclose(got, t, rtol=1e-5, atol=1e-5)
    if case == "eval-no-grad":
        assert not t[1, 3:].any() and not got[1, 3:].any()
