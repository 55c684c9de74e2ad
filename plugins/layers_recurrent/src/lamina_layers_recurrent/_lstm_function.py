"""The fused LSTM layer (optionally with a projection, ``proj_size``): one Function per layer and direction.

Gates in PyTorch's order i, f, g, o (rows of ``w_ih``/``w_hh``):
    i, f, o = sigmoid(.), g = tanh(.) of  x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
    c_t = f * c_{t-1} + i * g,   r_t = o * tanh(c_t),   h_t = r_t (or r_t W_hr^T with a projection)
The packed layout and the step rule are described in ``_rnn_function``.
"""

from __future__ import annotations

from lamina.autograd import Function

from ._rnn_function import batch_of, carried, first_order_only, initial_state, input_projection, order, sum_rows

__lamina_plugin_api__ = "1.0"


def gate_scales(xp, H: int, dtype):
    """(scale, offset) with sigmoid(v) = tanh(v / 2) / 2 + 1/2 on i, f, o and tanh on g: one tanh for all gates.

    The weights and biases are pre-scaled by ``scale`` (rows), so a step is tanh(u) * scale + offset;
    tanh never overflows, unlike 1 / (1 + exp(-v)) in float32.
    """
    scale = xp.full((4 * H,), 0.5, dtype=dtype)
    scale[2 * H:3 * H] = 1.0
    offset = xp.full((4 * H,), 0.5, dtype=dtype)
    offset[2 * H:3 * H] = 0.0
    return scale, offset


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
        scale, offset = gate_scales(xp, H, dt)
        col = scale[:, None]
        biases = (None if b is None else b * scale for b in (b_ih, b_hh))
        gates = input_projection(xp, ws, x, w_ih * col, *biases)    # (S, 4H) pre-activations, then activations
        h = initial_state(xp, h0, N, P, dt)
        c = initial_state(xp, c0, N, H, dt)
        S = x.shape[0]
        y = xp.empty((S, P), dtype=dt)
        save = any(ctx.needs_input_grad)
        hp_all = ws.workspace((S, P), dt) if save else None    # h_{t-1} per row (dW_hh)
        cp_all = ws.workspace((S, H), dt) if save else None    # c_{t-1} per row (df)
        tc_all = ws.workspace((S, H) if save else (N, H), dt)  # tanh(c_t)
        r_all = ws.workspace((S, H), dt) if (w_hr is not None and save) else None  # o * tanh(c_t)
        w_hh_t = xp.ascontiguousarray((w_hh * col).T)   # contiguous: BLAS runs ~1.4x faster than on a view
        w_hr_t = xp.ascontiguousarray(w_hr.T) if w_hr is not None else None
        for a, n in order(steps, reverse):
            b = a + n
            hp, cp = h[:n], c[:n]
            g = gates[a:b]
            g += hp @ w_hh_t                                # (n, 4H) pre-activations, pre-scaled
            xp.tanh(g, out=g)
            g *= scale
            g += offset
            if save:
                hp_all[a:b] = hp
                cp_all[a:b] = cp
                tc = tc_all[a:b]
            else:
                tc = tc_all[:n]
            cp *= g[:, H:2 * H]                                # c_t = f * c_{t-1} + i * g, in the carry
            cp += g[:, :H] * g[:, 2 * H:3 * H]
            xp.tanh(cp, out=tc)
            if w_hr_t is None:
                xp.multiply(g[:, 3 * H:], tc, out=y[a:b])
            else:
                r = g[:, 3 * H:] * tc
                if save:
                    r_all[a:b] = r
                xp.matmul(r, w_hr_t, out=y[a:b])
            h[:n] = y[a:b]
        if save:
            ctx.save_for_backward(x, w_ih, w_hh, w_hr, gates, hp_all, cp_all, tc_all, r_all)
            ctx.meta = (steps, reverse, N)
        return y, h, c

    @staticmethod
    def backward(ctx, dy, dh_n, dc_n):
        first_order_only("LSTM", dy)
        xp, ws = ctx.xp, ctx.device.backend
        x, w_ih, w_hh, w_hr, gates, hp_all, cp_all, tc_all, r_all = ctx.saved_tensors
        steps, reverse, N = ctx.meta
        H = w_hh.shape[0] // 4
        P = w_hh.shape[1]
        S = x.shape[0]
        dt = x.dtype
        dh = carried(xp, dh_n, (N, P), dt)
        dc = carried(xp, dc_n, (N, H), dt)
        # local derivatives of every step at once, so the loop does only what the recurrence forces
        i, f, g, o = (gates[:, k * H:(k + 1) * H] for k in range(4))
        mult = ws.workspace((S, 3, H), dt)                       # d{i,f,g}_pre = dc_t * mult
        k_o = ws.workspace((S, H), dt)                           # do_pre = dr * k_o
        q_c = ws.workspace((S, H), dt)                           # dc_t += dr * q_c
        tmp = ws.workspace((S, H), dt)
        for out, act, other in ((mult[:, 0], i, g), (mult[:, 1], f, cp_all), (k_o, o, tc_all)):
            xp.subtract(1, act, out=tmp)                         # sigmoid' = s (1 - s)
            tmp *= act
            xp.multiply(other, tmp, out=out)
        xp.multiply(g, g, out=tmp)                               # tanh' = 1 - t^2
        xp.subtract(1, tmp, out=tmp)
        xp.multiply(i, tmp, out=mult[:, 2])
        xp.multiply(tc_all, tc_all, out=tmp)
        xp.subtract(1, tmp, out=tmp)
        xp.multiply(o, tmp, out=q_c)
        dgates = ws.workspace((S, 4 * H), dt)
        dg4 = dgates.reshape(S, 4, H)
        dh_all = ws.workspace((S, P), dt) if w_hr is not None else None
        for a, n in order(steps, not reverse):
            b = a + n
            dht = dh[:n] + dy[a:b] if dy is not None else dh[:n].copy()
            if w_hr is not None:
                dh_all[a:b] = dht
                dr = dht @ w_hr
            else:
                dr = dht
            dct = dr * q_c[a:b]
            dct += dc[:n]
            xp.multiply(dct[:, None, :], mult[a:b], out=dg4[a:b, :3])
            xp.multiply(dr, k_o[a:b], out=dg4[a:b, 3])
            xp.multiply(dct, f[a:b], out=dc[:n])
            xp.matmul(dgates[a:b], w_hh, out=dh[:n])
        need = ctx.needs_input_grad
        dx = dgates @ w_ih if need[0] else None
        dw_ih = dgates.T @ x if need[3] else None
        dw_hh = dgates.T @ hp_all if need[4] else None
        db = sum_rows(dgates) if (need[5] or need[6]) else None
        dw_hr = dh_all.T @ r_all if (w_hr is not None and need[7]) else None
        return dx, dh, dc, dw_ih, dw_hh, db, db, dw_hr, None, None
