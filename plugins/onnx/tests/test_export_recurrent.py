"""RNN, LSTM and GRU (lamina-layers-recurrent) exported to ONNX and run in onnxruntime: outputs equal lamina's."""

from __future__ import annotations

import lamina
import lamina_onnx
import pytest
from _onnx_check import export_bytes, op_types, roundtrip
from lamina import nn
from onnx import helper, load_from_string


class WithStates(nn.Module):
    """``rnn(x, h0)`` or ``rnn(x, (h0, c0))`` with the states as separate graph inputs."""

    def __init__(self, rnn: nn.Module) -> None:
        super().__init__()
        self.rnn = rnn

    def forward(self, x, h0, c0=None):
        return self.rnn(x, h0 if c0 is None else (h0, c0))


def seeded(make):
    lamina.manual_seed(0)
    return make()


def states_for(rnn, batch):
    """Random (h0,) or (h0, c0) of shape (num_layers * D, N, H) ((num_layers * D, H) for batch None)."""
    D = 2 if rnn.bidirectional else 1
    shape = (rnn.num_layers * D, rnn.hidden_size) if batch is None else (rnn.num_layers * D, batch, rnn.hidden_size)
    return tuple(lamina.randn(*shape) for _ in range(2 if isinstance(rnn, nn.LSTM) else 1))


def sequence(rnn, T, N):
    """Input of T steps and N sequences in the layer's layout ((T, H_in) for N None)."""
    if N is None:
        return lamina.randn(T, rnn.input_size)
    return lamina.randn(N, T, rnn.input_size) if rnn.batch_first else lamina.randn(T, N, rnn.input_size)


CASES = [
    ("lstm", lambda: nn.LSTM(4, 3)),
    ("lstm_2_layers_bidirectional", lambda: nn.LSTM(4, 3, num_layers=2, bidirectional=True)),
    ("lstm_batch_first_bidirectional", lambda: nn.LSTM(4, 5, batch_first=True, bidirectional=True)),
    ("lstm_no_bias_2_layers", lambda: nn.LSTM(4, 3, num_layers=2, bias=False, batch_first=True)),
    ("gru", lambda: nn.GRU(4, 3)),
    ("gru_2_layers_bidirectional", lambda: nn.GRU(4, 3, num_layers=2, bidirectional=True, batch_first=True)),
    ("gru_no_bias", lambda: nn.GRU(4, 6, bias=False)),
    ("rnn_tanh_bidirectional", lambda: nn.RNN(4, 3, bidirectional=True)),
    ("rnn_relu_2_layers", lambda: nn.RNN(4, 3, num_layers=2, nonlinearity="relu", batch_first=True)),
]


@pytest.mark.parametrize("make", [c[1] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("given_states", [False, True], ids=["zero_states", "given_states"])
def test_rnn_matches_lamina(make, given_states):
    rnn = seeded(make)
    x = sequence(rnn, 5, 2)
    if given_states:
        roundtrip(WithStates(rnn), (x, *states_for(rnn, 2)))
    else:
        roundtrip(rnn, (x,))


@pytest.mark.parametrize("make", [lambda: nn.LSTM(4, 3, num_layers=2, bidirectional=True),
                                  lambda: nn.GRU(4, 3, num_layers=2), lambda: nn.RNN(4, 3)],
                         ids=["lstm", "gru", "rnn"])
def test_unbatched_input(make):
    """A 2-D (L, H_in) input and (num_layers * D, H) states give 2-D outputs, as lamina's."""
    rnn = seeded(make)
    roundtrip(rnn, (sequence(rnn, 5, None),))
    roundtrip(WithStates(rnn), (sequence(rnn, 5, None), *states_for(rnn, None)))


@pytest.mark.parametrize("make", [lambda: nn.LSTM(4, 3, num_layers=2, bidirectional=True, batch_first=True),
                                  lambda: nn.GRU(4, 3, num_layers=2, bidirectional=True),
                                  lambda: nn.RNN(4, 3, nonlinearity="relu", batch_first=True)],
                         ids=["lstm", "gru", "rnn"])
def test_dynamic_batch_and_sequence(make):
    """Exported with batch 2 and 5 steps, run with batch 3 and 7 steps."""
    rnn = seeded(make)
    lstm = isinstance(rnn, nn.LSTM)
    names = ["x", "h0", "c0"] if lstm else ["x", "h0"]
    seq_axes = {0: "batch", 1: "seq"} if rnn.batch_first else {0: "seq", 1: "batch"}
    axes = {"x": seq_axes, "h0": {1: "batch"}, "output_0": seq_axes, "output_1": {1: "batch"}}
    if lstm:
        axes.update(c0={1: "batch"}, output_2={1: "batch"})
    proto = roundtrip(WithStates(rnn), (sequence(rnn, 5, 2), *states_for(rnn, 2)),
                      run_args=(sequence(rnn, 7, 3), *states_for(rnn, 3)), input_names=names, dynamic_axes=axes)
    dims = [d.dim_param or d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [seq_axes[0], seq_axes[1], 4]


def test_one_node_per_layer_with_onnx_gate_layout():
    """A 2-layer bidirectional GRU is two GRU nodes (both directions in each) with PyTorch's reset placement."""
    rnn = seeded(lambda: nn.GRU(4, 3, num_layers=2, bidirectional=True))
    proto = load_from_string(export_bytes(rnn, (lamina.randn(5, 2, 4),)))
    grus = [n for n in proto.graph.node if n.op_type == "GRU"]
    assert len(grus) == 2
    for node in grus:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        assert attrs["linear_before_reset"] == 1 and attrs["direction"] == b"bidirectional"
        assert attrs["hidden_size"] == 3
    weights = {i.name: i for i in proto.graph.initializer}
    assert list(weights[grus[0].input[1]].dims) == [2, 9, 4]       # W (D, 3H, H_in)
    assert list(weights[grus[1].input[1]].dims) == [2, 9, 6]       # layer 2 reads both directions


def test_train_mode_dropout_is_exported_as_eval():
    """Dropout between layers is off in the export; the model's training flag is restored."""
    rnn = seeded(lambda: nn.LSTM(4, 3, num_layers=3, dropout=0.5))
    rnn.train()
    x = lamina.randn(5, 2, 4)
    proto = roundtrip(rnn, (x,))                    # compares with lamina in eval mode
    assert op_types(proto).count("LSTM") == 3
    assert "Dropout" not in op_types(proto)


def test_export_restores_training_flag():
    rnn = seeded(lambda: nn.GRU(4, 3, num_layers=2, dropout=0.5))
    rnn.train()
    export_bytes(rnn, (lamina.randn(5, 2, 4),))
    assert rnn.training


def test_opset_17():
    rnn = seeded(lambda: nn.LSTM(4, 3, bidirectional=True, batch_first=True))
    proto = roundtrip(rnn, (sequence(rnn, 5, 2),), opset_version=17)
    assert proto.opset_import[0].version == 17


def test_proj_size_is_refused_with_the_module_path():
    model = nn.Sequential(nn.LSTM(4, 5, proj_size=2))
    with pytest.raises(lamina_onnx.UnsupportedOperatorError, match=r"LSTM.*in module '0'.*proj_size=2"):
        export_bytes(model, (lamina.randn(5, 2, 4),))
