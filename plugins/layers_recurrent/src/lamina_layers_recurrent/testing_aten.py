"""Conformance records of the top-level ATen-style recurrent forms (``aten_forms``), with NumPy float64
references of one step of each cell, unrolled for the multi-layer forms."""

from __future__ import annotations

import numpy as np
from lamina.testing import FunctionInfo, Sample

from . import aten_forms as aten


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _lin(x, w, b):
    return x @ w.T + (0.0 if b is None else b)


def _lstm_step(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None):
    i, f, g, o = np.split(_lin(x, w_ih, b_ih) + _lin(h, w_hh, b_hh), 4, axis=-1)
    c = _sig(f) * c + _sig(i) * np.tanh(g)
    return _sig(o) * np.tanh(c), c


def _gru_step(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    xr, xz, xn = np.split(_lin(x, w_ih, b_ih), 3, axis=-1)
    hr, hz, hn = np.split(_lin(h, w_hh, b_hh), 3, axis=-1)
    r, z = _sig(xr + hr), _sig(xz + hz)
    return (1 - z) * np.tanh(xn + r * hn) + z * h


def _rnn_step(act):
    return lambda x, h, w_ih, w_hh, b_ih=None, b_hh=None: act(_lin(x, w_ih, b_ih) + _lin(h, w_hh, b_hh))


def _relu(v):
    return np.maximum(v, 0.0)


def _unrolled(mode):
    def reference(x, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
        states = list(hx) if mode == "lstm" else [hx]
        per = 4 if has_biases else 2
        x = x.transpose(1, 0, 2) if batch_first else x
        h_n, c_n = [], []
        for k in range(num_layers):
            outs = []
            for d in range(2 if bidirectional else 1):
                idx = k * (2 if bidirectional else 1) + d
                w = params[idx * per:(idx + 1) * per]
                h = states[0][idx]
                c = states[1][idx] if mode == "lstm" else None
                ys = [None] * x.shape[0]
                for t in (reversed(range(x.shape[0])) if d else range(x.shape[0])):
                    if mode == "lstm":
                        h, c = _lstm_step(x[t], h, c, *w)
                    else:
                        h = {"gru": _gru_step, "rnn_tanh": _rnn_step(np.tanh), "rnn_relu": _rnn_step(_relu)}[mode](
                            x[t], h, *w)
                    ys[t] = h
                outs.append(np.stack(ys))
                h_n.append(h)
                c_n.append(c)
            x = np.concatenate(outs, -1)
        out = x.transpose(1, 0, 2) if batch_first else x
        return (out, np.stack(h_n), np.stack(c_n)) if mode == "lstm" else (out, np.stack(h_n))
    return reference


def _calls(build):
    def sample(xp, dtype, rng):
        def conv(v):
            if isinstance(v, np.ndarray):
                return xp.asarray(v, dtype=dtype)
            if isinstance(v, list):
                return [conv(u) for u in v]
            return v
        return [Sample(tuple(conv(v) for v in args), {}, name=f"call{k}", grad_args=(0,))
                for k, args in enumerate(build(rng))]
    return sample


_DBL = frozenset({"double_backward"})


def records() -> list:
    x = lambda r, *s: r.uniform(-0.8, 0.8, s)  # noqa: E731
    H = 4
    return [
        FunctionInfo(fn=aten.lstm_cell, name="lstm_cell", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 3, 5), [x(r, 3, H), x(r, 3, H)], x(r, 4 * H, 5), x(r, 4 * H, H), x(r, 4 * H), x(r, 4 * H))]),
            reference=lambda v, hx, *w: _lstm_step(v, hx[0], hx[1], *w)),
        FunctionInfo(fn=aten.gru_cell, name="gru_cell", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 3, 5), x(r, 3, H), x(r, 3 * H, 5), x(r, 3 * H, H), x(r, 3 * H), x(r, 3 * H))]), reference=_gru_step),
        FunctionInfo(fn=aten.rnn_tanh_cell, name="rnn_tanh_cell", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 3, 5), x(r, 3, H), x(r, H, 5), x(r, H, H))]), reference=_rnn_step(np.tanh)),
        FunctionInfo(fn=aten.rnn_relu_cell, name="rnn_relu_cell", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 3, 5), x(r, 3, H), x(r, H, 5), x(r, H, H), x(r, H), x(r, H))]), reference=_rnn_step(_relu)),
        FunctionInfo(fn=aten.lstm, name="lstm", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 5, 2, 3), [x(r, 2, 2, H), x(r, 2, 2, H)],
             [x(r, 4 * H, 3), x(r, 4 * H, H), x(r, 4 * H), x(r, 4 * H), x(r, 4 * H, H), x(r, 4 * H, H), x(r, 4 * H),
              x(r, 4 * H)], True, 2, 0.0, False, False, False)]), reference=_unrolled("lstm")),
        FunctionInfo(fn=aten.gru, name="gru", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 2, 4, 3), x(r, 2, 2, H), [x(r, 3 * H, 3), x(r, 3 * H, H), x(r, 3 * H, 3), x(r, 3 * H, H)], False, 1,
             0.0, False, True, True)]), reference=_unrolled("gru")),
        FunctionInfo(fn=aten.rnn_tanh, name="rnn_tanh", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 4, 2, 3), x(r, 1, 2, H), [x(r, H, 3), x(r, H, H), x(r, H), x(r, H)], True, 1, 0.0, False, False,
             False)]), reference=_unrolled("rnn_tanh")),
        FunctionInfo(fn=aten.rnn_relu, name="rnn_relu", tags=_DBL, sample_inputs=_calls(lambda r: [
            (x(r, 4, 2, 3), x(r, 1, 2, H), [x(r, H, 3), x(r, H, H), x(r, H), x(r, H)], True, 1, 0.0, False, False,
             False)]), reference=_unrolled("rnn_relu")),
    ]
