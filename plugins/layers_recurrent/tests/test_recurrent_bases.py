"""nn.RNNBase and nn.RNNCellBase, the public bases, against PyTorch: constructor, repr, state_dict keys and
shapes, and RNNCellBase having no forward."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import pytest

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("mode, kw", [("LSTM", {}), ("GRU", {"num_layers": 2, "bidirectional": True}),
                                      ("RNN_TANH", {"bias": False, "batch_first": True}),
                                      ("LSTM", {"proj_size": 2})])
def test_rnn_base_matches_torch(mode, kw):
    lm, tm = nn.RNNBase(mode, 3, 4, **kw), torch.nn.RNNBase(mode, 3, 4, **kw)
    assert repr(lm) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in lm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    assert issubclass(nn.LSTM, nn.RNNBase) and issubclass(nn.GRUCell, nn.RNNCellBase)


def test_rnn_base_rejects_a_bad_mode_as_torch():
    with pytest.raises(ValueError):
        torch.nn.RNNBase("CONV", 3, 4)
    with pytest.raises(ValueError, match="unrecognized RNN mode 'CONV'"):
        nn.RNNBase("CONV", 3, 4)


@pytest.mark.parametrize("bias, chunks", [(True, 4), (False, 3), (True, 1)])
def test_rnn_cell_base_matches_torch(bias, chunks):
    lm, tm = nn.RNNCellBase(3, 4, bias, chunks), torch.nn.RNNCellBase(3, 4, bias, chunks)
    assert repr(lm) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in lm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    with pytest.raises(NotImplementedError):
        tm(torch.zeros(2, 3))
    with pytest.raises(NotImplementedError, match="missing the required \"forward\" function"):
        lm(lamina.zeros(2, 3))
