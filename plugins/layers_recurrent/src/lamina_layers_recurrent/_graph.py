"""The create_graph path of the fused recurrent layers: backward-through-time written with lamina ops.

Under ``create_graph=True`` the engine hands each layer Function Tensors (see
``lamina.autograd.Function``). The array loops of ``_rnn_function``, ``_lstm_function`` and
``_gru_function`` cannot record a graph, so their backward calls :func:`layer_backward_graph`
instead: it recomputes the forward from the saved inputs, step by step in the packed layout (the
same step rule: only the first B_t rows of the state advance), then walks the steps back with the
cell's analytic step gradient, all in differentiable lamina ops. The engine can then differentiate
these gradients again, to any order. The ordinary (array) backward is not touched.

A cell gives the step math on the input projection ``gi = x_t W_ih^T + b_ih`` (n, G) and the hidden
projection ``gh = h_{t-1} W_hh^T + b_hh`` (n, G); the shared loop turns the per-step gradients of
those two projections into the gradients of x, the weights, the biases and the initial states.
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

__lamina_plugin_api__ = "1.0"


class Elman:
    """h = tanh(gi + gh) or relu(gi + gh)."""

    def __init__(self, relu: bool) -> None:
        self.relu = relu

    def step(self, gi: Tensor, gh: Tensor, prev: list) -> tuple:
        pre = gi + gh
        h = pre.relu() if self.relu else pre.tanh()
        return [h], (pre, h)

    def step_backward(self, saved: tuple, prev: list, gh: Tensor, d: list) -> tuple:
        pre, h = saved
        dpre = d[0] * (pre.detach() > 0).to(pre.dtype) if self.relu else d[0] * (1 - h * h)
        return dpre, dpre, [None], None


class LSTMCellMath:
    """Gates i, f, g, o of gi + gh; c = f c_{t-1} + i g, r = o tanh(c), h = r (or r W_hr^T)."""

    def __init__(self, w_hr: Tensor | None) -> None:
        self.w_hr = w_hr

    def step(self, gi: Tensor, gh: Tensor, prev: list) -> tuple:
        i, f, g, o = (gi + gh).chunk(4, dim=1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c = f * prev[1] + i * g
        tc = c.tanh()
        r = o * tc
        h = r if self.w_hr is None else r @ self.w_hr.T
        return [h, c], (i, f, g, o, tc, r)

    def step_backward(self, saved: tuple, prev: list, gh: Tensor, d: list) -> tuple:
        i, f, g, o, tc, r = saved
        dh, dc = d
        dr = dh if self.w_hr is None else dh @ self.w_hr
        dc = dc + dr * o * (1 - tc * tc)
        dgates = lamina.cat([dc * g * i * (1 - i), dc * prev[1] * f * (1 - f), dc * i * (1 - g * g),
                             dr * tc * o * (1 - o)], 1)
        extra = None if self.w_hr is None else dh.T @ r                     # this step's dW_hr (P, H)
        return dgates, dgates, [None, dc * f], extra


class GRUCellMath:
    """r, z = sigmoid(gi + gh) (first two blocks), n = tanh(gi_n + r gh_n), h = (1 - z) n + z h_{t-1}."""

    def step(self, gi: Tensor, gh: Tensor, prev: list) -> tuple:
        H = gh.shape[1] // 3
        rz = (gi[:, :2 * H] + gh[:, :2 * H]).sigmoid()
        r, z = rz[:, :H], rz[:, H:]
        n = (gi[:, 2 * H:] + r * gh[:, 2 * H:]).tanh()
        return [(1 - z) * n + z * prev[0]], (r, z, n)

    def step_backward(self, saved: tuple, prev: list, gh: Tensor, d: list) -> tuple:
        r, z, n = saved
        H = r.shape[1]
        dh = d[0]
        dn = dh * (1 - z) * (1 - n * n)
        dz = dh * (prev[0] - n) * z * (1 - z)
        dr = dn * gh[:, 2 * H:] * r * (1 - r)
        return lamina.cat([dr, dz, dn], 1), lamina.cat([dr, dz, dn * r], 1), [dh * z], None


def graph_inputs(name: str, inputs: tuple, n: int) -> tuple:
    """The inputs a layer Function saved for this path (initial states, biases), checked: a device kernel that
    replaced the Function's forward and saved only its own arrays cannot record the second derivative."""
    if len(inputs) != n:
        raise NotImplementedError(f"{name}: double backward (create_graph=True) needs the layer's inputs saved by its "
                                  "forward; this device's fused kernel does not save them")
    return inputs


def _advance(state: Tensor, rows: Tensor, n: int) -> Tensor:
    """The state with its first n rows replaced (the sequences still running at this step)."""
    return rows if n == state.shape[0] else lamina.cat([rows, state[n:]], 0)


def _rows(parts: list, width: int, like: Tensor) -> Tensor:
    """Per-step row blocks [(start, rows)] stacked in row (packed layout) order. -> (S, width)"""
    if not parts:
        return lamina.zeros(0, width, dtype=like.dtype, device=like.device)
    return lamina.cat([p for _, p in sorted(parts, key=lambda e: e[0])], 0)


def layer_backward_graph(cell: Any, x: Tensor, states0: list, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None,
                         b_hh: Tensor | None, steps: tuple, reverse: bool, N: int, dy: Tensor | None,
                         d_final: list, sizes: list) -> tuple:
    """Gradients of one layer direction in lamina ops. -> dx, [d initial state...], dw_ih, dw_hh, db_ih, db_hh, extra

    Shape: x (S, I) packed layout, states0 [(N, P) or None, ...] (the cell's state sizes ``sizes``), dy (S, P),
           d_final [(N, size) or None, ...] -> dx (S, I), d states0, dw_ih (G, I), dw_hh (G, P), db (G,), extra
    (``extra``: the sum over steps of the cell's extra parameter gradient, e.g. LSTM's dW_hr, or None).
    """
    def zeros(size: int) -> Tensor:
        return lamina.zeros(N, size, dtype=x.dtype, device=x.device)

    gi = x @ w_ih.T if b_ih is None else x @ w_ih.T + b_ih              # (S, G)
    states = [s if s is not None else zeros(k) for s, k in zip(states0, sizes)]
    record = []
    for a, n in (steps[::-1] if reverse else steps):
        if n == 0:
            continue
        prev = [s[:n] for s in states]
        gh = prev[0] @ w_hh.T if b_hh is None else prev[0] @ w_hh.T + b_hh
        new, saved = cell.step(gi[a:a + n], gh, prev)
        record.append((a, n, prev, gh, saved))
        states = [_advance(s, v, n) for s, v in zip(states, new)]
    d = [g if g is not None else zeros(k) for g, k in zip(d_final, sizes)]
    d_gi, d_gh, h_prev, extra = [], [], [], None
    for a, n, prev, gh, saved in reversed(record):
        dn = [g[:n] for g in d]
        if dy is not None:
            dn[0] = dn[0] + dy[a:a + n]
        dgi, dgh, d_prev, e = cell.step_backward(saved, prev, gh, dn)
        dh_prev = dgh @ w_hh
        d_prev[0] = dh_prev if d_prev[0] is None else d_prev[0] + dh_prev
        d = [_advance(g, v, n) for g, v in zip(d, d_prev)]
        d_gi.append((a, dgi))
        d_gh.append((a, dgh))
        h_prev.append((a, prev[0]))
        if e is not None:
            extra = e if extra is None else extra + e
    G = w_ih.shape[0]
    dGI, dGH, HP = _rows(d_gi, G, x), _rows(d_gh, G, x), _rows(h_prev, w_hh.shape[1], x)
    d0 = [g if s is not None else None for g, s in zip(d, states0)]
    return dGI @ w_ih, d0, dGI.T @ x, dGH.T @ HP, dGI.sum(0), dGH.sum(0), extra
