"""RNN, LSTM and GRU: multi-layer, optionally bidirectional, over padded or packed sequences.

Each layer and direction is one fused Function over the whole sequence (``_rnn_function``,
``_lstm_function``, ``_gru_function``); this file validates inputs, lays the batch out in the
packed layout those Functions share, chains the layers (dropout between them in training) and
shapes the outputs exactly as PyTorch does.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from lamina.nn import Module, Parameter

from ._checks import RecurrentShapeError, check_dtype, check_features, check_float, check_state
from ._gru_function import GRULayer
from ._lstm_function import LSTMLayer
from ._rnn_function import RNNLayer, packed_steps, padded_steps
from .packing import PackedSequence

__lamina_plugin_api__ = "1.0"

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """Parameters, validation and layer chaining shared by RNN, LSTM and GRU.

    Parameters per layer k and direction (suffix ``_reverse`` for the backward one), G gates:
    ``weight_ih_l{k}`` (G*hidden_size, input size of layer k), ``weight_hh_l{k}`` (G*hidden_size, P),
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (G*hidden_size,), ``weight_hr_l{k}`` (proj_size, hidden_size)
    with P = proj_size or hidden_size; all drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
    """

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unrecognized RNN mode {mode!r}; valid modes: {sorted(_GATES)}")
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          UserWarning, stacklevel=3)
        for arg, v in (("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError(f"{name}: {arg} should be of type int, got: {type(v).__name__}")
            if v <= 0:
                raise ValueError(f"{name}: {arg} must be greater than zero, got {v}")
        if proj_size < 0:
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections, "
                             f"got {proj_size}")
        if proj_size >= hidden_size:
            raise ValueError(f"{name}: proj_size has to be smaller than hidden_size, got proj_size={proj_size} and "
                             f"hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{name}: proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        D = 2 if bidirectional else 1
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(D):
                in_size = input_size if layer == 0 else real_hidden * D
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [("weight_ih", (gate_size, in_size)), ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                names = []
                for base, shape in shapes:
                    setattr(self, base + sfx, Parameter(lamina.empty(*shape, device=device, dtype=dtype)))
                    names.append(base + sfx)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        with lamina.no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op: the weights are used as they are (kept for PyTorch compatibility)."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # --- forward ---------------------------------------------------------------------------------
    def _weights(self, idx: int) -> tuple:
        ws = [getattr(self, n) for n in self._all_weights[idx]]
        b_ih, b_hh = (ws[2], ws[3]) if self.bias else (None, None)
        return ws[0], ws[1], b_ih, b_hh, (ws[-1] if self.proj_size > 0 else None)

    def _states(self, hx: Any, unbatched: bool, N: int, x: Tensor) -> tuple:
        """Validated initial states as (L*D, N, size) tensors: (h0,) or (h0, c0)."""
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        if lstm:
            if not (isinstance(hx, (tuple, list)) and len(hx) == 2):
                raise TypeError(f"{name}: expected hx as a tuple (h_0, c_0), got {type(hx).__name__}")
            states = tuple(hx)
        else:
            if not isinstance(hx, Tensor):
                raise TypeError(f"{name}: expected hx as a Tensor, got {type(hx).__name__}")
            states = (hx,)
        want = 2 if unbatched else 3
        if any(s.ndim != want for s in states):
            dims = ", ".join(f"{s.ndim}-D" for s in states)
            what = "hx and cx" if lstm else "hx"
            kind = "unbatched 2-D" if unbatched else "batched 3-D"
            raise RecurrentShapeError(f"{name}: for {kind} input, {what} should also be {want}-D but got "
                                      f"({dims}) tensor{'s' if lstm else ''}")
        if unbatched:
            states = tuple(s.unsqueeze(1) for s in states)
        LD = self.num_layers * (2 if self.bidirectional else 1)
        sizes = (self.proj_size or self.hidden_size, self.hidden_size)
        for k, s in enumerate(states):
            shape = (LD, N, sizes[k])
            if unbatched:
                got = tuple(s.shape)
                if got != shape:
                    raise RecurrentShapeError(f"{name}: expected hidden[{k}] size {(LD, sizes[k])}, got "
                                              f"{[got[0], got[2]]}")
            check_state(name, f"hidden[{k}]", s, shape, x.dtype)
        return states

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple:
        """Shape: input (L, N, H_in), (N, L, H_in) with batch_first, (L, H_in) unbatched, or a PackedSequence
        -> output (L, N, D*H_out) (same layout as input), h_n (num_layers*D, N, H_out) [, c_n (num_layers*D, N, H_cell)]
        """
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        if packed:
            x = input.data
            if x.ndim != 2:
                raise RecurrentShapeError(f"{name}: expected packed data of 2 dims (sum(lengths), input_size), got "
                                          f"shape {tuple(x.shape)}")
            bs = np.asarray(input.batch_sizes.array)
            steps = packed_steps(bs)
            N, unbatched = (int(bs[0]) if bs.size else 0), False
            check_features(name, x, self.input_size)
        else:
            if input.ndim not in (2, 3):
                raise RecurrentShapeError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
            check_features(name, input, self.input_size)
            unbatched = input.ndim == 2
            seq = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if self.batch_first else input)
            T, N = int(seq.shape[0]), int(seq.shape[1])
            x = seq.reshape(T * N, self.input_size)
            steps = padded_steps(T, N)
        check_float(name, x)
        check_dtype(name, x, self.weight_ih_l0)
        lstm = self.mode == "LSTM"
        D = 2 if self.bidirectional else 1
        P = self.proj_size or self.hidden_size
        if hx is not None:
            states = self._states(hx, unbatched, N, x)
            if packed and input.sorted_indices is not None:
                states = tuple(s[:, input.sorted_indices] for s in states)   # indexing: differentiates twice
        elif not steps:  # an empty sequence: the final states are the (zero) initial ones
            states = (lamina.zeros(self.num_layers * D, N, P, dtype=x.dtype, device=x.device),
                      lamina.zeros(self.num_layers * D, N, self.hidden_size, dtype=x.dtype, device=x.device))
        else:
            states = None
        layer_in = x
        h_n, c_n = [], []
        for k in range(self.num_layers):
            outs = []
            for d in range(D):
                idx = k * D + d
                w_ih, w_hh, b_ih, b_hh, w_hr = self._weights(idx)
                h0 = states[0][idx] if states is not None else None
                if lstm:
                    c0 = states[1][idx] if states is not None else None
                    y, h, c = LSTMLayer.apply(layer_in, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps, d == 1)
                    c_n.append(c)
                elif self.mode == "GRU":
                    y, h = GRULayer.apply(layer_in, h0, w_ih, w_hh, b_ih, b_hh, steps, d == 1)
                else:
                    y, h = RNNLayer.apply(layer_in, h0, w_ih, w_hh, b_ih, b_hh, steps, d == 1,
                                          self.mode == "RNN_RELU")
                outs.append(y)
                h_n.append(h)
            layer_in = outs[0] if D == 1 else lamina.cat(outs, 1)
            if self.dropout > 0 and self.training and k < self.num_layers - 1:
                layer_in = layer_in * _dropout_mask(layer_in, self.dropout)
        finals = [lamina.stack(h_n, 0)] + ([lamina.stack(c_n, 0)] if lstm else [])
        if packed:
            output = PackedSequence(layer_in, input.batch_sizes, input.sorted_indices, input.unsorted_indices)
            if input.unsorted_indices is not None:
                finals = [f[:, input.unsorted_indices] for f in finals]
        else:
            output = layer_in.reshape(T, N, D * P)
            if unbatched:
                output = output.squeeze(1)
                finals = [f.squeeze(1) for f in finals]
            elif self.batch_first:
                output = output.transpose(0, 1)
        return (output, tuple(finals)) if lstm else (output, finals[0])


def _dropout_mask(y: Tensor, p: float) -> Tensor:
    """Inverted-dropout mask (keep with probability 1 - p, scaled by 1 / (1 - p)) from lamina's RNG."""
    keep = lamina.rand(*y.shape, dtype=y.dtype, device=y.device) >= p
    return keep.to(y.dtype) * (0.0 if p >= 1 else 1.0 / (1.0 - p))


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu), stacked num_layers deep.

    Shape: input (L, N, H_in) / (N, L, H_in) with batch_first / (L, H_in) unbatched, h_0 (num_layers*D, N, H_out)
           -> output (L, N, D*H_out), h_n (num_layers*D, N, H_out); D = 2 if bidirectional else 1
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory (gates i, f, g, o), optionally with a projection of the hidden state (proj_size).

    Shape: input (L, N, H_in) / (N, L, H_in) with batch_first / (L, H_in) unbatched,
           (h_0 (num_layers*D, N, H_out), c_0 (num_layers*D, N, H_cell))
           -> output (L, N, D*H_out), (h_n (num_layers*D, N, H_out), c_n (num_layers*D, N, H_cell));
           H_cell = hidden_size, H_out = proj_size or hidden_size, D = 2 if bidirectional else 1
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit (gates r, z, n with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))).

    Shape: input (L, N, H_in) / (N, L, H_in) with batch_first / (L, H_in) unbatched, h_0 (num_layers*D, N, H_out)
           -> output (L, N, D*H_out), h_n (num_layers*D, N, H_out); D = 2 if bidirectional else 1
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)


__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]
