"""lamina-layers-recurrent's ``LSTMLayer`` / ``GRULayer`` on CUDA: the same loops over time, with
each step's pointwise gate math (activations, new c and h, and their backward) in one launch.

The GEMMs stay in cuBLAS. The kernel saves its own layout (gates in PyTorch's order, step-major),
not the CPU reference's (gate-major per step, rotated to o, i, f, g); its backward hands over to the
reference's only under create_graph, where that raises its first-order-only error before reading
anything saved.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy

from ._source import fits, function, launch_pointwise


def _order(steps: tuple, reverse: bool) -> tuple:
    return steps[::-1] if reverse else steps


def _batch(steps: tuple, h0: Any) -> int:
    return steps[0][1] if steps else (h0.shape[0] if h0 is not None else 0)


def _state(xp: Any, s0: Any, N: int, size: int, dtype: Any) -> Any:
    return xp.zeros((N, size), dtype=dtype) if s0 is None else s0.copy()


def _launch(kernel: str, dtype: Any, n: int, args: tuple) -> None:
    launch_pointwise(function("rnn", kernel, dtype), n, args)


def lstm_gate_scales(xp: Any, H: int, dtype: Any) -> Any:
    """Row scales of the gate pre-activations: 1/2 on i, f, o (sigmoid = tanh(v/2)/2 + 1/2), 1 on g."""
    scale = xp.full((4 * H,), 0.5, dtype=dtype)
    scale[2 * H:3 * H] = 1.0
    return scale


@cache
def lstm_kernel(LSTMLayer: type) -> type:
    """The kernel class for the op ``LSTMLayer`` (registered by name: this pack never imports its plugin)."""

    class CudaLSTMLayer(LSTMLayer):
        """LSTM layer, one pointwise launch per step each way."""

        @staticmethod
        def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps, reverse):
            xp = ctx.xp
            H, P = w_hh.shape[0] // 4, w_hh.shape[1]
            N, S, dt = _batch(steps, h0), x.shape[0], x.dtype
            col = lstm_gate_scales(xp, H, dt)[:, None]
            gates = x @ (w_ih * col).T                                     # (S, 4H) pre-activations, pre-scaled
            for b in (b_ih, b_hh):
                if b is not None:
                    gates += b * col[:, 0]
            h, c = _state(xp, h0, N, P, dt), _state(xp, c0, N, H, dt)
            y = xp.empty((S, P), dtype=dt)
            save = any(ctx.needs_input_grad)
            hp_all = xp.empty((S, P), dt) if save else None
            cp_all = xp.empty((S, H), dt) if save else None
            tc_all = xp.empty((S, H), dt) if save else None
            r_all = xp.empty((S, H), dt) if w_hr is not None else None
            w_hh_t = xp.ascontiguousarray((w_hh * col).T)
            w_hr_t = xp.ascontiguousarray(w_hr.T) if w_hr is not None else None
            for a, n in _order(steps, reverse):
                b = a + n
                if save:
                    hp_all[a:b] = h[:n]
                g = gates[a:b]
                g += h[:n] @ w_hh_t
                out = y[a:b] if w_hr is None else r_all[a:b]
                _launch("lm_lstm_step_fwd", dt, n * H,
                        (g, c, cp_all[a:b] if save else c, tc_all[a:b] if save else c, out, h, numpy.int64(n),
                         numpy.int64(H), numpy.int32(save), numpy.int32(w_hr is None)))
                if w_hr is not None:
                    xp.matmul(out, w_hr_t, out=y[a:b])
                    h[:n] = y[a:b]
            if save:
                ctx.save_for_backward(x, w_ih, w_hh, w_hr, gates, hp_all, cp_all, tc_all, r_all)
                ctx.meta = (steps, reverse, N)
            return y, h, c

        @staticmethod
        def backward(ctx, dy, dh_n, dc_n):
            if not (_array_grads(dy, dh_n, dc_n)):
                return LSTMLayer.backward(ctx, dy, dh_n, dc_n)
            xp = ctx.xp
            x, w_ih, w_hh, w_hr, gates, hp_all, cp_all, tc_all, r_all = ctx.saved_tensors
            steps, reverse, N = ctx.meta
            H, P, S, dt = w_hh.shape[0] // 4, w_hh.shape[1], x.shape[0], x.dtype
            dh = xp.zeros((N, P), dt) if dh_n is None else xp.array(dh_n, dtype=dt)
            dc = xp.zeros((N, H), dt) if dc_n is None else xp.array(dc_n, dtype=dt)
            dy = None if dy is None else xp.ascontiguousarray(dy, dtype=dt)
            dgates = xp.empty((S, 4 * H), dt)
            dh_all = xp.empty((S, P), dt) if w_hr is not None else None
            for a, n in _order(steps, not reverse):
                b = a + n
                if w_hr is not None:
                    dht = dh[:n] + dy[a:b] if dy is not None else dh[:n].copy()
                    dh_all[a:b] = dht
                    dr, extra, has_dy = dht @ w_hr, dht, 0
                else:
                    dr, extra, has_dy = dh[:n], (dy[a:b] if dy is not None else dh[:n]), int(dy is not None)
                _launch("lm_lstm_step_bwd", dt, n * H,
                        (gates[a:b], cp_all[a:b], tc_all[a:b], xp.ascontiguousarray(dr), extra, dc, dgates[a:b],
                         numpy.int64(n), numpy.int64(H), numpy.int32(has_dy)))
                xp.matmul(dgates[a:b], w_hh, out=dh[:n])
            need = ctx.needs_input_grad
            dx = dgates @ w_ih if need[0] else None
            dw_ih = dgates.T @ x if need[3] else None
            dw_hh = dgates.T @ hp_all if need[4] else None
            db = dgates.sum(axis=0) if (need[5] or need[6]) else None
            dw_hr = dh_all.T @ r_all if (w_hr is not None and need[7]) else None
            return dx, dh, dc, dw_ih, dw_hh, db, db, dw_hr, None, None

    return CudaLSTMLayer


@cache
def gru_kernel(GRULayer: type) -> type:
    """The kernel class for the op ``GRULayer`` (registered by name: this pack never imports its plugin)."""

    class CudaGRULayer(GRULayer):
        """GRU layer, one pointwise launch per step each way."""

        @staticmethod
        def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, steps, reverse):
            xp = ctx.xp
            H, N, S, dt = w_hh.shape[0] // 3, _batch(steps, h0), x.shape[0], x.dtype
            gates = x @ w_ih.T
            if b_ih is not None:
                gates += b_ih
            h = _state(xp, h0, N, H, dt)
            y = xp.empty((S, H), dtype=dt)
            save = any(ctx.needs_input_grad)
            hp_all = xp.empty((S, H), dt) if save else None
            ghn_all = xp.empty((S, H), dt) if save else None
            w_hh_t = xp.ascontiguousarray(w_hh.T)
            for a, n in _order(steps, reverse):
                b = a + n
                gh = h[:n] @ w_hh_t
                if b_hh is not None:
                    gh += b_hh
                _launch("lm_gru_step_fwd", dt, n * H,
                        (gates[a:b], gh, h, y[a:b], hp_all[a:b] if save else h, ghn_all[a:b] if save else h,
                         numpy.int64(n), numpy.int64(H), numpy.int32(save)))
            if save:
                ctx.save_for_backward(x, w_ih, w_hh, gates, hp_all, ghn_all)
                ctx.meta = (steps, reverse, N)
            return y, h

        @staticmethod
        def backward(ctx, dy, dh_n):
            if not _array_grads(dy, dh_n):
                return GRULayer.backward(ctx, dy, dh_n)
            xp = ctx.xp
            x, w_ih, w_hh, gates, hp_all, ghn_all = ctx.saved_tensors
            steps, reverse, N = ctx.meta
            H, S, dt = w_hh.shape[0] // 3, x.shape[0], x.dtype
            dh = xp.zeros((N, H), dt) if dh_n is None else xp.array(dh_n, dtype=dt)
            dy = None if dy is None else xp.ascontiguousarray(dy, dtype=dt)
            dgi = xp.empty((S, 3 * H), dt)
            dgh = xp.empty((S, 3 * H), dt)
            for a, n in _order(steps, not reverse):
                b = a + n
                _launch("lm_gru_step_bwd", dt, n * H,
                        (gates[a:b], hp_all[a:b], ghn_all[a:b], dh, dy[a:b] if dy is not None else dh, dgi[a:b],
                         dgh[a:b], numpy.int64(n), numpy.int64(H), numpy.int32(dy is not None)))
                dh[:n] += dgh[a:b] @ w_hh
            need = ctx.needs_input_grad
            dx = dgi @ w_ih if need[0] else None
            dw_ih = dgi.T @ x if need[2] else None
            dw_hh = dgh.T @ hp_all if need[3] else None
            db_ih = dgi.sum(axis=0) if need[4] else None
            db_hh = dgh.sum(axis=0) if need[5] else None
            return dx, dh, dw_ih, dw_hh, db_ih, db_hh, None, None

    return CudaGRULayer


def _array_grads(*grads: Any) -> bool:
    """Upstream gradients the kernels take: CuPy arrays or None (Tensors mean create_graph)."""
    return all(g is None or fits(g) for g in grads)


def supports_lstm(arrays: list, kwargs: dict) -> bool:
    x = arrays[0]
    return fits(x) and x.ndim == 2 and _same(x, arrays[1:8])


def supports_gru(arrays: list, kwargs: dict) -> bool:
    x = arrays[0]
    return fits(x) and x.ndim == 2 and _same(x, arrays[1:6])


def _same(x: Any, others: list) -> bool:
    return all(a is None or (fits(a) and a.dtype == x.dtype) for a in others)


KERNELS = (("LSTMLayer", lstm_kernel, supports_lstm), ("GRULayer", gru_kernel, supports_gru))
