"""Conformance records for the recurrent layers and cells (consumed by lamina.testing).

The references are plain NumPy float64 loops over time written from the documented equations,
independent of the fused Functions they check.
"""

from __future__ import annotations

import numpy as np

__lamina_plugin_api__ = "1.0"


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _step(mode: str, x, h, c, p: dict, sfx: str):
    """One step of one layer/direction in float64. x (N, I), h (N, P), c (N, H) -> (h', c')"""
    gi = x @ p["weight_ih" + sfx].T + p.get("bias_ih" + sfx, 0.0)
    gh = h @ p["weight_hh" + sfx].T + p.get("bias_hh" + sfx, 0.0)
    if mode in ("RNN_TANH", "RNN_RELU"):
        v = gi + gh
        return (np.tanh(v) if mode == "RNN_TANH" else np.maximum(v, 0.0)), c
    if mode == "GRU":
        H = h.shape[1]
        r = _sig(gi[:, :H] + gh[:, :H])
        z = _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        return (1 - z) * n + z * h, c
    H = c.shape[1]
    v = gi + gh
    i, f, g, o = _sig(v[:, :H]), _sig(v[:, H:2 * H]), np.tanh(v[:, 2 * H:3 * H]), _sig(v[:, 3 * H:])
    c = f * c + i * g
    h = o * np.tanh(c)
    if "weight_hr" + sfx in p:
        h = h @ p["weight_hr" + sfx].T
    return h, c


def _seq_reference(mode: str, layers: int = 1, bidirectional: bool = False, batch_first: bool = False,
                   hidden: int = 4, proj: int = 0):
    D = 2 if bidirectional else 1
    P = proj or hidden

    def ref(params, x, hx=None):
        unbatched = x.ndim == 2
        x = x[:, None] if unbatched else (x.transpose(1, 0, 2) if batch_first else x)
        T, N = x.shape[:2]
        if hx is None:
            h0, c0 = np.zeros((layers * D, N, P)), np.zeros((layers * D, N, hidden))
        else:
            h0, c0 = (hx if mode == "LSTM" else (hx, np.zeros((layers * D, N, hidden))))
            if unbatched:
                h0, c0 = h0[:, None], c0[:, None]
        hs, cs = [], []
        inp = x
        for k in range(layers):
            outs = []
            for d in range(D):
                sfx = f"_l{k}" + ("_reverse" if d else "")
                h, c = h0[k * D + d], c0[k * D + d]
                ys = [None] * T
                for t in (range(T - 1, -1, -1) if d else range(T)):
                    h, c = _step(mode, inp[t], h, c, params, sfx)
                    ys[t] = h
                outs.append(np.stack(ys) if T else np.zeros((0, N, P)))
                hs.append(h)
                cs.append(c)
            inp = np.concatenate(outs, axis=2)
        out, h_n, c_n = inp, np.stack(hs), np.stack(cs)
        if unbatched:
            out, h_n, c_n = out[:, 0], h_n[:, 0], c_n[:, 0]
        elif batch_first:
            out = out.transpose(1, 0, 2)
        return (out, h_n, c_n) if mode == "LSTM" else (out, h_n)

    return ref


def _cell_reference(mode: str):
    def ref(params, x, hx=None):
        unbatched = x.ndim == 1
        x = x[None] if unbatched else x
        H = params["weight_hh"].shape[1]
        if hx is None:
            h = c = np.zeros((x.shape[0], H))
        else:
            h, c = hx if mode == "LSTM" else (hx, None)
            h, c = (h[None], None if c is None else c[None]) if unbatched else (h, c)
        h, c = _step(mode, x, h, c, params, "")
        out = (h, c) if mode == "LSTM" else (h,)
        return tuple(o[0] for o in out) if unbatched else out

    return ref


def _seq_samples(lstm: bool, layers: int, D: int, P: int, H: int, batch_first: bool):
    def samples(xp, dtype, rng):
        def arr(*shape):
            return xp.asarray(rng.standard_normal(shape).astype(dtype))

        x_shape = (2, 5, 3) if batch_first else (5, 2, 3)
        h = (arr(layers * D, 2, P), arr(layers * D, 2, H)) if lstm else arr(layers * D, 2, P)
        hu = (arr(layers * D, P), arr(layers * D, H)) if lstm else arr(layers * D, P)
        from lamina.testing import Sample

        out = [Sample((arr(*x_shape),), name="input"), Sample((arr(4, 3),), name="unbatched")]
        if not lstm:   # (tuples of states are not differentiable kit arguments: LSTM states are tested in pytest)
            out += [Sample((arr(*x_shape), h), name="with h0"), Sample((arr(4, 3), hu), name="unbatched h0")]
        return out

    return samples


def _seq_errors(name: str, batch_first: bool):
    def errors(xp, dtype, rng):
        from lamina.errors import ShapeError
        from lamina.testing import ErrorInput, Sample

        bad = xp.asarray(rng.standard_normal((5, 2, 7)).astype(dtype))
        four = xp.asarray(rng.standard_normal((1, 5, 2, 3)).astype(dtype))
        features = rf"{name}: expected input with 3 features \(input_size\), got 7"
        return [ErrorInput(Sample((bad,)), ShapeError, features),
                ErrorInput(Sample((four,)), ShapeError, rf"{name}: Expected input to be 2D or 3D, got 4D"),
                ErrorInput(Sample(()), ValueError, "must be greater than zero",
                           init_kwargs=dict(input_size=3, hidden_size=0))]

    return errors


def _cell_samples(lstm: bool):
    def samples(xp, dtype, rng):
        from lamina.testing import Sample

        def arr(*shape):
            return xp.asarray(rng.standard_normal(shape).astype(dtype))

        out = [Sample((arr(3, 3),), name="batched"), Sample((arr(3),), name="unbatched")]
        if not lstm:
            out.append(Sample((arr(3, 3), arr(3, 4)), name="with hx"))
        return out

    return samples


def _cell_errors(name: str):
    def errors(xp, dtype, rng):
        from lamina.errors import ShapeError
        from lamina.testing import ErrorInput, Sample

        return [ErrorInput(Sample((xp.asarray(rng.standard_normal((2, 5)).astype(dtype)),)), ShapeError,
                           rf"{name}: expected input with 3 features \(input_size\), got 5"),
                ErrorInput(Sample((xp.asarray(rng.standard_normal((2, 2, 3)).astype(dtype)),)), ShapeError,
                           rf"{name}: Expected input to be 1D or 2D, got 3D")]

    return errors


SEQ_CONFIGS = [
    ("RNN", "RNN_TANH", dict(num_layers=2, bidirectional=True)),
    ("RNN", "RNN_RELU", dict(nonlinearity="relu", batch_first=True)),
    ("LSTM", "LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", "LSTM", dict(proj_size=2, batch_first=True)),
    ("GRU", "GRU", dict(num_layers=2, bidirectional=True)),
    ("GRU", "GRU", dict(bias=False, batch_first=True)),
]


#: the fused layers differentiate twice (create_graph=True, ``_graph``): the kit runs gradgradcheck on them
DBL = frozenset({"double_backward"})


def records() -> list:
    from lamina.testing import ModuleInfo

    from . import cells, rnn

    out = []
    for cls_name, mode, extra in SEQ_CONFIGS:
        layers, bidir = extra.get("num_layers", 1), extra.get("bidirectional", False)
        bf, proj = extra.get("batch_first", False), extra.get("proj_size", 0)
        H = 4
        D = 2 if bidir else 1
        tag = ",".join(f"{k}={v}" for k, v in extra.items())
        out.append(ModuleInfo(
            cls=getattr(rnn, cls_name), name=f"{cls_name}({tag})",
            init_kwargs=dict(input_size=3, hidden_size=H, **extra),
            sample_inputs=_seq_samples(mode == "LSTM", layers, D, proj or H, H, bf),
            reference=_seq_reference(mode, layers, bidir, bf, H, proj),
            error_inputs=_seq_errors(cls_name, bf),
            tags=DBL | ({"batch_independent"} if bf else set()),
        ))
    for cls_name, mode, extra in [("RNNCell", "RNN_TANH", {}), ("RNNCell", "RNN_RELU", {"nonlinearity": "relu"}),
                                  ("LSTMCell", "LSTM", {}), ("GRUCell", "GRU", {})]:
        tag = ",".join(f"{k}={v}" for k, v in extra.items())
        out.append(ModuleInfo(
            cls=getattr(cells, cls_name), name=f"{cls_name}({tag})",
            init_kwargs=dict(input_size=3, hidden_size=4, **extra),
            sample_inputs=_cell_samples(mode == "LSTM"), reference=_cell_reference(mode),
            error_inputs=_cell_errors(cls_name), tags=DBL | {"batch_independent"},
        ))
    # the public bases: RNNBase(mode, ...) runs as that layer; RNNCellBase has no forward (as in PyTorch), so
    # its record holds constructor and state checks only
    out.append(ModuleInfo(cls=rnn.RNNBase, name="RNNBase(LSTM)", init_kwargs=dict(mode="LSTM", input_size=3,
                          hidden_size=4), sample_inputs=_seq_samples(True, 1, 1, 4, 4, False),
                          reference=_seq_reference("LSTM", 1, False, False, 4, 0), tags=DBL))
    out.append(ModuleInfo(cls=cells.RNNCellBase, init_kwargs=dict(input_size=3, hidden_size=4, bias=True,
                                                                  num_chunks=3)))
    return out
