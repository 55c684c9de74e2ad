"""The fused LSTM layer (optionally with a projection, ``proj_size``): one Function per layer and direction.

Gates in PyTorch's order i, f, g, o (rows of ``w_ih``/``w_hh``):
    i, f, o = sigmoid(.), g = tanh(.) of  x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    c_t = f * c_{t-1} + i * g,   r_t = o * tanh(c_t),   h_t = r_t (or r_t W_hr^T with a projection)

Inside, the gate blocks are rotated to o, i, f, g (``inner``; gradients of the weights and biases are
rotated back), and the gate activations are kept *gate-major per step*: the n rows of a step occupy
one (4, n, H) block, so every gate of a step, and of a run of equal-sized steps, is contiguous. NumPy
runs an element-wise op on a contiguous operand several times faster than on a column slice of
(n, 4H), where it pays per row; the recurrent product is the matching batched (4, n, H) GEMM.
The packed layout and the step rule are described in ``_rnn_function``.
"""

from __future__ import annotations

from lamina import Tensor
from lamina.autograd import Function

from ._graph import LSTMCellMath, graph_inputs, layer_backward_graph
from ._rnn_function import batch_of, carried, initial_state, order

__lamina_plugin_api__ = "1.0"

_BLOCK_BYTES = 1 << 19   # backward takes the local derivatives ~0.5 MiB of them at a time (they stay in cache)


def inner(xp, w, H: int, half: bool = False):
    """Gate blocks of ``w`` (4H, ...) from PyTorch's i, f, g, o to the inner o, i, f, g (a copy);
    with ``half`` the sigmoid blocks (o, i, f) are halved: sigmoid(v) = tanh(v / 2) / 2 + 1/2, so every
    gate is one tanh of a pre-scaled pre-activation (tanh never overflows, unlike 1 / (1 + exp(-v))).
    """
    out = xp.empty_like(w)
    k = 0.5 if half else 1.0
    xp.multiply(w[3 * H:], k, out=out[:H])
    xp.multiply(w[:2 * H], k, out=out[H:3 * H])
    out[3 * H:] = w[2 * H:3 * H]
    return out


def outer(xp, g, H: int):
    """The inverse of ``inner`` (unscaled) on the rows of a gradient: o, i, f, g -> i, f, g, o (a copy)."""
    return xp.concatenate((g[H:], g[:H]))


def runs(steps: tuple, rows: int | None = None):
    """Runs of consecutive ``steps`` (in the order given) with one batch size, of about ``rows`` rows at
    most (None: no limit): yields (lo, hi, n, run); the run's steps occupy the rows [lo, hi) together.
    Steps of no rows (a batch of zero sequences) are left out: there is nothing to do for them."""
    run: list = []
    for a, n in steps:
        if n == 0:
            continue
        if run and (n != run[0][1] or (rows is not None and len(run) * n >= rows)):
            yield _span(run) + (run[0][1], run)
            run = []
        run.append((a, n))
    if run:
        yield _span(run) + (run[0][1], run)


def _span(run: list) -> tuple:
    return min(a for a, _ in run), max(a + n for a, n in run)


def step_block(buf, H: int, a: int, b: int):
    """The (4, n, H) gate-major block of the rows [a, b) in a flat buffer of (S * 4H,)."""
    return buf[4 * H * a:4 * H * b].reshape(4, b - a, H)


def local_derivatives(xp, gates, cp, tc, d, q_c) -> None:
    """The local derivatives of a run of R steps of n rows each (M = n * H), written into ``d`` and ``q_c``.

    Shape: gates (R, 4, M) activations o, i, f, g; cp (R, M) c_{t-1}; tc (R, M) tanh(c_t)
           -> d (R, 4, M): o' tanh(c_t), i' g, f' c_{t-1}, i (1 - g^2);  q_c (R, M): o (1 - tanh(c_t)^2)
    so that d pre-activation = d * (dr, dc_t, dc_t, dc_t) and dc_t = dc_{t+1} f_{t+1} + dr * q_c.
    """
    sig, ds = gates[:, :3], d[:, :3]
    xp.subtract(1, sig, out=ds)                          # sigmoid' = s (1 - s)
    ds *= sig
    d[:, 0] *= tc
    d[:, 1] *= gates[:, 3]
    d[:, 2] *= cp
    g, d_g = gates[:, 3], d[:, 3]                        # tanh' = 1 - t^2
    xp.multiply(g, g, out=d_g)
    xp.subtract(1, d_g, out=d_g)
    d_g *= gates[:, 1]
    xp.multiply(tc, tc, out=q_c)
    xp.subtract(1, q_c, out=q_c)
    q_c *= gates[:, 0]


class LSTMLayer(Function):
    """One direction of one LSTM layer over the whole sequence.

    Shape: x (S, I) packed layout, h0 (N, P) or None, c0 (N, H) or None, w_ih (4H, I), w_hh (4H, P),
           b_ih, b_hh (4H,) or None, w_hr (P, H) or None (P = H without projection)
           -> y (S, P), h_n (N, P), c_n (N, H)
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps, reverse):
        xp, ws = ctx.xp, ctx.device.backend
        H = w_hh.shape[0] // 4
        P = w_hh.shape[1]
        N = batch_of(steps, h0)
        dt = x.dtype
        S = x.shape[0]
        proj = ws.workspace((S, 4 * H), dt)               # x W_ih^T of every step, rows (S, 4H)
        xp.matmul(x, inner(xp, w_ih, H, True).T, out=proj)
        bias = b_ih if b_hh is None else (b_hh if b_ih is None else b_ih + b_hh)
        b4 = None if bias is None else inner(xp, bias, H, True).reshape(4, 1, H)
        gates = ws.workspace((S * 4 * H,), dt)            # gate-major per step: pre-activations, then activations
        for lo, hi, n, _ in runs(steps):
            k = (hi - lo) // n
            src = proj[lo:hi].reshape(k, n, 4, H).transpose(0, 2, 1, 3)
            dst = gates[4 * H * lo:4 * H * hi].reshape(k, 4, n, H)
            if b4 is None:
                dst[...] = src
            else:                                         # the bias spread over a step's rows: ~1.3x faster
                xp.add(src, xp.broadcast_to(b4, (4, n, H)).copy(), out=dst)
        del proj
        h = initial_state(xp, h0, N, P, dt)
        c = initial_state(xp, c0, N, H, dt)
        y = xp.empty((S, P), dtype=dt)
        save = any(ctx.needs_input_grad)
        hp_all = ws.workspace((S, P), dt) if save else None    # h_{t-1} per row (dW_hh)
        cp_all = ws.workspace((S, H), dt) if save else None    # c_{t-1} per row (df)
        tc_all = ws.workspace((S, H) if save else (N, H), dt)  # tanh(c_t)
        r_all = ws.workspace((S, H), dt) if (w_hr is not None and save) else None  # o * tanh(c_t)
        w4 = xp.ascontiguousarray(inner(xp, w_hh, H, True).reshape(4, H, P).transpose(0, 2, 1))  # (4, P, H)
        w_hr_t = xp.ascontiguousarray(w_hr.T) if w_hr is not None else None
        rec = xp.empty((4 * N * H,), dtype=dt)          # h_{t-1} W_hh^T of a step, gate-major
        ig = xp.empty((N, H), dtype=dt)                 # i * g, or r without saving
        for a, n in order(steps, reverse):
            b = a + n
            hp, cp = h[:n], c[:n]
            g4 = step_block(gates, H, a, b)
            r4 = rec[:4 * n * H].reshape(4, n, H)
            xp.matmul(hp, w4, out=r4)
            g4 += r4
            xp.tanh(g4, out=g4)
            s = g4[:3]                                   # o, i, f: tanh(v / 2) -> sigmoid(v)
            s *= 0.5
            s += 0.5
            o, i, f, g = g4
            if save:
                hp_all[a:b] = hp
                cp_all[a:b] = cp
                tc = tc_all[a:b]
            else:
                tc = tc_all[:n]
            cp *= f                                      # c_t = f * c_{t-1} + i * g, in the carry
            xp.multiply(i, g, out=ig[:n])
            cp += ig[:n]
            xp.tanh(cp, out=tc)
            if w_hr_t is None:
                xp.multiply(o, tc, out=y[a:b])
            else:
                r = r_all[a:b] if save else ig[:n]
                xp.multiply(o, tc, out=r)
                xp.matmul(r, w_hr_t, out=y[a:b])
            h[:n] = y[a:b]
        if save:
            ctx.save_for_backward(x, w_ih, w_hh, w_hr, gates, hp_all, cp_all, tc_all, r_all, h0, c0, b_ih, b_hh)
            ctx.meta = (steps, reverse, N)
        return y, h, c

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n):
        xp, ws = ctx.xp, ctx.device.backend
        x, w_ih, w_hh, w_hr, gates, hp_all, cp_all, tc_all, r_all, *inputs = ctx.saved_tensors
        steps, reverse, N = ctx.meta
        H = w_hh.shape[0] // 4
        P = w_hh.shape[1]
        if any(isinstance(g, Tensor) for g in (dy, dh_n, dc_n)):  # create_graph: BPTT in lamina ops
            h0, c0, b_ih, b_hh = graph_inputs("LSTM", inputs, 4)
            dx, (dh0, dc0), dw_ih, dw_hh, db_ih, db_hh, dw_hr = layer_backward_graph(
                LSTMCellMath(w_hr), x, [h0, c0], w_ih, w_hh, b_ih, b_hh, steps, reverse, N, dy, [dh_n, dc_n], [P, H])
            return dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, dw_hr, None, None
        S = x.shape[0]
        dt = x.dtype
        dh = carried(xp, dh_n, (N, P), dt)
        dc = carried(xp, dc_n, (N, H), dt)
        loc = ws.workspace((S * 4 * H,), dt)             # local derivatives, gate-major like ``gates``
        q_c = ws.workspace((S, H), dt)                   # dc_t += dr * q_c
        dgates = ws.workspace((S, 4 * H), dt)            # d pre-activations, rows (S, 4H), inner gate order
        w_hh_in = inner(xp, w_hh, H)
        tmp = xp.empty((N, H), dtype=dt)
        dh_all = ws.workspace((S, P), dt) if w_hr is not None else None
        for lo, hi, m, part in runs(order(steps, not reverse), _BLOCK_BYTES // (4 * H * x.itemsize)):
            k, M = (hi - lo) // m, m * H
            local_derivatives(xp, gates[4 * H * lo:4 * H * hi].reshape(k, 4, M), cp_all[lo:hi].reshape(k, M),
                              tc_all[lo:hi].reshape(k, M), loc[4 * H * lo:4 * H * hi].reshape(k, 4, M),
                              q_c[lo:hi].reshape(k, M))
            for a, n in part:
                b = a + n
                dht = dh[:n]
                if dy is not None:
                    dht += dy[a:b]
                if w_hr is not None:
                    dh_all[a:b] = dht
                    dr = dht @ w_hr
                else:
                    dr = dht
                dct = dc[:n]
                xp.multiply(dr, q_c[a:b], out=tmp[:n])
                dct += tmp[:n]
                l4 = step_block(loc, H, a, b)
                d4 = dgates[a:b].reshape(n, 4, H).transpose(1, 0, 2)
                xp.multiply(l4[1:], dct, out=d4[1:])
                xp.multiply(l4[0], dr, out=d4[0])
                dct *= step_block(gates, H, a, b)[2]     # dc_{t-1} = dc_t * f
                xp.matmul(dgates[a:b], w_hh_in, out=dht)
        need = ctx.needs_input_grad
        dx = dgates @ inner(xp, w_ih, H) if need[0] else None
        dw_ih = outer(xp, dgates.T @ x, H) if need[3] else None
        dw_hh = outer(xp, dgates.T @ hp_all, H) if need[4] else None
        db = outer(xp, dgates.sum(axis=0), H) if (need[5] or need[6]) else None
        dw_hr = dh_all.T @ r_all if (w_hr is not None and need[7]) else None
        return dx, dh, dc, dw_ih, dw_hh, db, db, dw_hr, None, None
