"""The top-level ``lamina.<op>`` recurrent forms with torch's ATen signatures: ``lstm(input, hx, params,
has_biases, num_layers, dropout, train, bidirectional, batch_first)`` and friends, whose ``params`` is
the flat weight list in ``nn.LSTM._flat_weights`` order (w_ih, w_hh[, b_ih, b_hh][, w_hr] per layer and
direction), and the single-step cells ``lstm_cell``/``gru_cell``/``rnn_tanh_cell``/``rnn_relu_cell``.
They run the same autograd Functions as ``nn.LSTM``/``nn.GRU``/``nn.RNN``. The packed-data overloads
(``lstm(data, batch_sizes, hx, ...)``) are not provided: they raise. Served through ``lamina.functions``."""

from __future__ import annotations

from collections.abc import Sequence

import lamina
from lamina import Tensor

from . import __lamina_plugin_api__  # noqa: F401
from ._gru_function import GRULayer
from ._lstm_function import LSTMLayer
from ._rnn_function import RNNLayer, padded_steps
from .rnn import _dropout_mask


def _layers(mode: str, input: Tensor, states: Sequence[Tensor], params: Sequence[Tensor], has_biases: bool,
            num_layers: int, dropout: float, train: bool, bidirectional: bool, batch_first: bool) -> tuple:
    if isinstance(states, Tensor) and mode == "LSTM" or not isinstance(params, (list, tuple)):
        raise TypeError(f"{mode.lower()}: expected (input, hx, params: list of tensors, ...), got a packed-data "
                        f"call or params of type {type(params).__name__}; the packed overload is not provided")
    D = 2 if bidirectional else 1
    per = (4 if has_biases else 2)
    if len(params) % (num_layers * D) or len(params) // (num_layers * D) not in (per, per + 1):
        raise ValueError(f"{mode.lower()}: expected {per * num_layers * D} weights for num_layers={num_layers}, "
                         f"bidirectional={bidirectional}, has_biases={has_biases}, got {len(params)}")
    per = len(params) // (num_layers * D)
    seq = input.transpose(0, 1) if batch_first else input
    T, N = int(seq.shape[0]), int(seq.shape[1])
    x = seq.reshape(T * N, int(seq.shape[2]))
    steps = padded_steps(T, N)
    h_n, c_n = [], []
    for k in range(num_layers):
        outs = []
        for d in range(D):
            idx = k * D + d
            w = list(params[idx * per:(idx + 1) * per])
            w_ih, w_hh = w[0], w[1]
            b_ih, b_hh = (w[2], w[3]) if has_biases else (None, None)
            w_hr = w[-1] if per in (3, 5) else None
            h0 = states[0][idx]
            if mode == "LSTM":
                y, h, c = LSTMLayer.apply(x, h0, states[1][idx], w_ih, w_hh, b_ih, b_hh, w_hr, steps, d == 1)
                c_n.append(c)
            elif mode == "GRU":
                y, h = GRULayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, steps, d == 1)
            else:
                y, h = RNNLayer.apply(x, h0, w_ih, w_hh, b_ih, b_hh, steps, d == 1, mode == "RNN_RELU")
            outs.append(y)
            h_n.append(h)
        x = outs[0] if D == 1 else lamina.cat(outs, 1)
        if dropout > 0 and train and k < num_layers - 1:
            x = x * _dropout_mask(x, dropout)
    out = x.reshape(T, N, int(x.shape[-1]))
    out = out.transpose(0, 1) if batch_first else out
    finals = (lamina.stack(h_n, 0),) + ((lamina.stack(c_n, 0),) if mode == "LSTM" else ())
    return (out, *finals)


def lstm(input: Tensor, hx: Sequence[Tensor], params: Sequence[Tensor], has_biases: bool, num_layers: int,
         dropout: float, train: bool, bidirectional: bool, batch_first: bool) -> tuple[Tensor, Tensor, Tensor]:
    """Shape: input (L, N, H_in) (batch_first: (N, L, H_in)), hx = (h0, c0) each (layers*D, N, H) -> (out, h_n, c_n)"""
    return _layers("LSTM", input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)


def gru(input: Tensor, hx: Tensor, params: Sequence[Tensor], has_biases: bool, num_layers: int, dropout: float,
        train: bool, bidirectional: bool, batch_first: bool) -> tuple[Tensor, Tensor]:
    """Shape: input (L, N, H_in), hx (layers*D, N, H) -> (out, h_n)"""
    return _layers("GRU", input, (hx,), params, has_biases, num_layers, dropout, train, bidirectional, batch_first)


def rnn_tanh(input: Tensor, hx: Tensor, params: Sequence[Tensor], has_biases: bool, num_layers: int,
             dropout: float, train: bool, bidirectional: bool, batch_first: bool) -> tuple[Tensor, Tensor]:
    return _layers("RNN_TANH", input, (hx,), params, has_biases, num_layers, dropout, train, bidirectional,
                   batch_first)


def rnn_relu(input: Tensor, hx: Tensor, params: Sequence[Tensor], has_biases: bool, num_layers: int,
             dropout: float, train: bool, bidirectional: bool, batch_first: bool) -> tuple[Tensor, Tensor]:
    return _layers("RNN_RELU", input, (hx,), params, has_biases, num_layers, dropout, train, bidirectional,
                   batch_first)


def _step(input: Tensor) -> tuple:
    if input.ndim != 2:
        raise lamina.ShapeError(f"expected a cell input of shape (N, H_in), got {list(input.shape)}")
    return ((0, int(input.shape[0])),)


def lstm_cell(input: Tensor, hx: Sequence[Tensor], w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
              b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step. Shape: input (N, H_in), hx = (h, c) each (N, H) -> (h', c')"""
    _, h, c = LSTMLayer.apply(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh, None, _step(input), False)
    return h, c


def gru_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step. Shape: input (N, H_in), hx (N, H) -> (N, H)"""
    return GRULayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, _step(input), False)[1]


def rnn_tanh_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    return RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, _step(input), False, False)[1]


def rnn_relu_cell(input: Tensor, hx: Tensor, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    return RNNLayer.apply(input, hx, w_ih, w_hh, b_ih, b_hh, _step(input), False, True)[1]
