"""The fused Elman RNN layer (tanh / relu) and the helpers every fused recurrent Function shares.

Layout. A layer sees its input in *packed layout*: a 2-D array ``x (S, I)`` whose time step ``t``
occupies the contiguous rows ``[start_t, start_t + B_t)``, with batch sizes ``B_t`` non-increasing
in ``t`` (the rows of a step are the sequences still running, longest first). A padded batch of
``T`` steps is the special case ``B_t = N`` (``x.reshape(T * N, I)``), a ``PackedSequence`` is
this layout as it is. ``steps`` is the tuple of ``(start_t, B_t)`` in time order.

The recurrent state ``h (N, H)`` holds one row per sequence; at step ``t`` only its first ``B_t``
rows advance, the others keep their value. Forward in time this freezes a finished sequence at
its own last step (its final state); in the reverse direction a sequence that has not started
yet keeps its initial state until its last element comes up. Backward-through-time walks the
steps in the opposite order with the same rule, so no mask is ever materialised.
"""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.autograd import Function

from ._graph import Elman, graph_inputs, layer_backward_graph

__lamina_plugin_api__ = "1.0"


def padded_steps(T: int, N: int) -> tuple[tuple[int, int], ...]:
    """Steps of a padded (T, N) batch in packed layout."""
    return tuple((t * N, N) for t in range(T))


def packed_steps(batch_sizes: Any) -> tuple[tuple[int, int], ...]:
    """Steps of a packed sequence from its batch sizes (host integers)."""
    out, start = [], 0
    for b in batch_sizes:
        b = int(b)
        out.append((start, b))
        start += b
    return tuple(out)


def batch_of(steps: tuple, h0: Any) -> int:
    """N: the first step's batch size (the largest), or the initial state's rows for an empty sequence."""
    return steps[0][1] if steps else (h0.shape[0] if h0 is not None else 0)


def order(steps: tuple, reverse: bool) -> tuple:
    return steps[::-1] if reverse else steps


def input_projection(xp: Any, ws: Any, x: Any, w_ih: Any, *biases: Any) -> Any:
    """x @ w_ih.T + biases for every step at once: one GEMM. x (S, I), w_ih (G, I) -> (S, G) (a workspace array)"""
    a = ws.workspace((x.shape[0], w_ih.shape[0]), x.dtype)
    xp.matmul(x, w_ih.T, out=a)
    for b in biases:
        if b is not None:
            a += b
    return a


def initial_state(xp: Any, s0: Any, N: int, size: int, dtype: Any) -> Any:
    """A private, writable copy of the initial state (zeros when not given). -> (N, size)"""
    if s0 is None:
        return xp.zeros((N, size), dtype=dtype)
    return s0.copy()


def carried(xp: Any, g: Any, shape: tuple, dtype: Any) -> Any:
    """A writable gradient carry for the final state (zeros when the engine gave none)."""
    return xp.zeros(shape, dtype=dtype) if g is None else g.copy()


def sum_rows(g: Any) -> Any:
    return g.sum(axis=0)


class RNNLayer(Function):
    """One direction of one Elman RNN layer over the sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Shape: x (S, I) packed layout, h0 (N, H) or None, w_ih (H, I), w_hh (H, H), b_ih, b_hh (H,) or None
           -> y (S, H), h_n (N, H)
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, steps, reverse, relu):
        xp = ctx.xp
        H = w_hh.shape[0]
        N = batch_of(steps, h0)
        y = input_projection(xp, ctx.device.backend, x, w_ih, b_ih, b_hh)  # (S, H): pre-activations, then h_t
        h = initial_state(xp, h0, N, H, x.dtype)
        save = any(ctx.needs_input_grad)
        hp_all = xp.empty_like(y) if save else None        # h_{t-1} per row, for dW_hh
        w_hh_t = xp.ascontiguousarray(w_hh.T)           # BLAS runs ~1.4x faster on it than on the view
        for a, n in order(steps, reverse):
            b = a + n
            hp = h[:n]
            if save:
                hp_all[a:b] = hp
            yt = y[a:b]
            yt += hp @ w_hh_t
            if relu:
                xp.maximum(yt, 0, out=yt)
            else:
                xp.tanh(yt, out=yt)
            h[:n] = yt
        if save:
            ctx.save_for_backward(x, w_ih, w_hh, y, hp_all, h0, b_ih, b_hh)
            ctx.meta = (steps, reverse, relu, N)
        return y, h

    @staticmethod
    def backward(ctx, dy, dh_n):
        xp = ctx.xp
        x, w_ih, w_hh, y, hp_all, *inputs = ctx.saved_tensors
        steps, reverse, relu, N = ctx.meta
        if isinstance(dy, Tensor) or isinstance(dh_n, Tensor):  # create_graph: BPTT in lamina ops
            h0, b_ih, b_hh = graph_inputs("RNN", inputs, 3)
            dx, (dh0,), dw_ih, dw_hh, db_ih, db_hh, _ = layer_backward_graph(
                Elman(relu), x, [h0], w_ih, w_hh, b_ih, b_hh, steps, reverse, N, dy, [dh_n], [w_hh.shape[0]])
            return dx, dh0, dw_ih, dw_hh, db_ih, db_hh, None, None, None
        dh = carried(xp, dh_n, (N, w_hh.shape[0]), y.dtype)
        deriv = (y > 0).astype(y.dtype) if relu else 1 - y * y   # act'(pre) from act(pre), all steps at once
        dg = xp.empty_like(y)                                    # d pre-activation (S, H)
        for a, n in order(steps, not reverse):
            b = a + n
            dht = dh[:n] + dy[a:b] if dy is not None else dh[:n]
            xp.multiply(dht, deriv[a:b], out=dg[a:b])
            xp.matmul(dg[a:b], w_hh, out=dh[:n])
        need = ctx.needs_input_grad
        dx = dg @ w_ih if need[0] else None
        dw_ih = dg.T @ x if need[2] else None
        dw_hh = dg.T @ hp_all if need[3] else None
        db = sum_rows(dg) if (need[4] or need[5]) else None
        return dx, dh, dw_ih, dw_hh, db, db, None, None, None
