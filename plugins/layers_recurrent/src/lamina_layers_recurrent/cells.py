"""RNNCell, LSTMCell and GRUCell: one time step, batched (N, H_in) or unbatched (H_in,).

A cell is the fused layer Function run for a single step (packed layout with one step of N rows),
so cells and layers share one implementation of the gate math and its gradient.
"""

from __future__ import annotations

import math
from typing import Any

import lamina
from lamina import Tensor
from lamina.nn import Module, Parameter

from ._checks import RecurrentShapeError, check_dtype, check_float, check_state
from ._gru_function import GRULayer
from ._lstm_function import LSTMLayer
from ._rnn_function import RNNLayer

__lamina_plugin_api__ = "1.0"


class RNNCellBase(Module):
    """Parameters weight_ih (G*hidden_size, input_size), weight_hh (G*hidden_size, hidden_size), bias_ih, bias_hh.

    All drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); G is the number of gates.
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        if hidden_size <= 0:
            raise ValueError(f"{type(self).__name__}: hidden_size must be greater than zero, got {hidden_size}")
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        G = num_chunks * hidden_size
        self.weight_ih = Parameter(lamina.empty(G, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(lamina.empty(G, hidden_size, device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(lamina.empty(G, device=device, dtype=dtype))
            self.bias_hh = Parameter(lamina.empty(G, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size)
        with lamina.no_grad():
            for w in self.parameters():
                w.uniform_(-stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input: Tensor, states: tuple) -> tuple:
        """Validate; return (x (N, H_in), states as (N, H) tensors or Nones, unbatched)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise RecurrentShapeError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RecurrentShapeError(f"{name}: expected input with {self.input_size} features (input_size), got "
                                      f"{input.shape[-1]} (input shape {tuple(input.shape)})")
        check_float(name, input)
        check_dtype(name, input, self.weight_ih)
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        N = int(x.shape[0])
        out = []
        for k, s in enumerate(states):
            if s is None:
                out.append(None)
                continue
            if s.ndim != input.ndim:
                raise RecurrentShapeError(f"{name}: expected hidden state {k} with {input.ndim} dims like the "
                                          f"input, got shape {tuple(s.shape)}")
            s = s.unsqueeze(0) if unbatched else s
            if s.shape[0] != N:
                raise RecurrentShapeError(f"{name}: Input batch size {N} doesn't match hidden{k} batch size "
                                          f"{s.shape[0]}")
            check_state(name, f"hidden state {k}", s, (N, self.hidden_size), x.dtype)
            out.append(s)
        return x, out, unbatched


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu).

    Shape: input (N, H_in) or (H_in,), hx (N, H) or (H,) (zeros if None) -> h' (N, H) or (H,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity}. Select from 'tanh' or 'relu'.")
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h0,), unbatched = self._prepare(input, (hx,))
        steps = ((0, int(x.shape[0])),)
        _, h = RNNLayer.apply(x, h0, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, steps, False,
                              self.nonlinearity == "relu")
        return h.squeeze(0) if unbatched else h


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): c' = f * c + i * g, h' = o * tanh(c').

    Shape: input (N, H_in) or (H_in,), hx = (h, c) each (N, H) or (H,) (zeros if None) -> (h', c')
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and not (isinstance(hx, (tuple, list)) and len(hx) == 2):
            raise TypeError(f"LSTMCell: expected hx as a tuple (h_0, c_0), got {type(hx).__name__}")
        x, (h0, c0), unbatched = self._prepare(input, tuple(hx) if hx is not None else (None, None))
        steps = ((0, int(x.shape[0])),)
        _, h, c = LSTMLayer.apply(x, h0, c0, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, None,
                                  steps, False)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n): h' = (1 - z) * n + z * h.

    Shape: input (N, H_in) or (H_in,), hx (N, H) or (H,) (zeros if None) -> h' (N, H) or (H,)
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        x, (h0,), unbatched = self._prepare(input, (hx,))
        steps = ((0, int(x.shape[0])),)
        _, h = GRULayer.apply(x, h0, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, steps, False)
        return h.squeeze(0) if unbatched else h


__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
