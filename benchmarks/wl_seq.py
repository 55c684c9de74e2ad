"""Sequence workloads: a 2-layer LSTM, MultiheadAttention and a TransformerEncoderLayer."""

from __future__ import annotations

from typing import Any

from _bench_util import Bench, framework, inputs, load_weights, to_tensor, train_bench


def lstm_train(fw: str) -> Bench:
    """LSTM(100, 128, num_layers=2, batch_first=True) on (32, 50, 100), Linear head on the last step."""
    lib = framework(fw)
    nn = lib.nn
    model = nn.ModuleDict({"lstm": nn.LSTM(100, 128, num_layers=2, batch_first=True), "head": nn.Linear(128, 10)})
    load_weights(lib, model, 7)
    xa, ya = inputs(8, (32, 50, 100), classes=10)
    x, y = to_tensor(lib, xa), to_tensor(lib, ya)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    ce = nn.CrossEntropyLoss()
    lstm, head = model["lstm"], model["head"]

    def forward(inp: Any) -> Any:
        return head(lstm(inp)[0][:, -1])

    return train_bench(lib, model, forward, lambda out: ce(out, y), opt, x)


def _mean_square(out: Any) -> Any:
    return (out * out).mean()


def mha_train(fw: str) -> Bench:
    """Self-attention MultiheadAttention(256, 8, batch_first=True) on (16, 64, 256), forward + backward."""
    lib = framework(fw)
    model = lib.nn.MultiheadAttention(256, 8, batch_first=True)
    load_weights(lib, model, 9)
    xa, _ = inputs(10, (16, 64, 256))
    x = to_tensor(lib, xa, requires_grad=True)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)

    def forward(inp: Any) -> Any:
        return model(inp, inp, inp, need_weights=False)[0]

    return train_bench(lib, model, forward, _mean_square, opt, x)


def encoder_train(fw: str) -> Bench:
    """TransformerEncoderLayer(256, 8, 1024, batch_first=True) on (16, 64, 256): a training step."""
    lib = framework(fw)
    model = lib.nn.TransformerEncoderLayer(256, 8, 1024, batch_first=True)
    load_weights(lib, model, 11)
    xa, _ = inputs(12, (16, 64, 256))
    x = to_tensor(lib, xa)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    return train_bench(lib, model, model, _mean_square, opt, x)
