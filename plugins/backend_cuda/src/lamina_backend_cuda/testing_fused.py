"""Records (samples + NumPy float64 references) of the kernels for other plugins' ops: ConvNd,
MaxPoolNd, CrossEntropyIndex, LSTMLayer, GRULayer, Normalize. The pack never imports those plugins:
``target_op`` finds each op by name after using one of its plugin's public names (``DEFINED_BY``),
and the records are left out where that plugin is not installed."""

from __future__ import annotations

from typing import Any

import numpy as np

__lamina_plugin_api__ = "1.0"

#: op name -> a public name whose use imports the module defining the op
DEFINED_BY = {"ConvNd": "nn.Conv2d", "MaxPoolNd": "nn.MaxPool2d", "CrossEntropyIndex": "nn.CrossEntropyLoss",
              "LSTMLayer": "nn.LSTM", "GRULayer": "nn.GRU", "Normalize": "nn.BatchNorm1d",
              "AdamStep": "optim.Adam", "SGDStep": "optim.SGD"}


def target_op(name: str) -> type | None:
    """The op ``name`` of another plugin, reached through the public name ``DEFINED_BY[name]`` (None when
    the plugin is not installed)."""
    import lamina
    from lamina.errors import PluginNotFoundError

    if lamina.kernels.find_op(name) is None:
        namespace, _, attr = DEFINED_BY[name].partition(".")
        try:
            getattr(getattr(lamina, namespace), attr)
        except PluginNotFoundError:
            return None
    return lamina.kernels.find_op(name)


# (x shape, weight shape, stride, pads, dilation, groups)
CONV_CASES = (((2, 3, 9, 8), (4, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
              ((2, 4, 11, 7), (6, 2, 3, 2), (2, 3), ((2, 2), (0, 0)), (2, 1), 2),
              ((3, 5, 17), (4, 5, 4), (3,), ((1, 1),), (2,), 1),
              ((1, 2, 5, 5), (3, 2, 1, 1), (1, 1), ((0, 0), (0, 0)), (1, 1), 1))
# (x shape, kernel, stride, pad, dilation)
POOL_CASES = (((2, 3, 9, 8), (3, 3), (2, 2), (1, 1), (1, 1)),
              ((1, 2, 10, 9), (2, 3), (1, 2), (0, 1), (2, 1)),
              ((2, 3, 13), (4,), (3,), (2,), (1,)),
              ((1, 1, 4, 4), (2, 2), (2, 2), (0, 0), (1, 1)))


def pool_out(size: int, k: int, s: int, p: int, d: int) -> int:
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv_reference(x, w, b, stride, pads, dilation, groups):
    """Direct N-d grouped convolution in float64 (padding, strided windows, one einsum per group)."""
    n = x.ndim - 2
    xp_ = np.pad(x, ((0, 0), (0, 0)) + tuple(pads))
    k = w.shape[2:]
    win = np.lib.stride_tricks.sliding_window_view(xp_, tuple(d * (kk - 1) + 1 for kk, d in zip(k, dilation)),
                                                   axis=tuple(range(2, 2 + n)))
    win = win[(Ellipsis,) + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)]
    cg, og = x.shape[1] // groups, w.shape[0] // groups
    letters = "abc"[:n]
    ys = [np.einsum(f"nc{letters}{letters.upper()},oc{letters.upper()}->no{letters}",
                    win[:, g * cg:(g + 1) * cg], w[g * og:(g + 1) * og]) for g in range(groups)]
    y = np.concatenate(ys, axis=1)
    return y if b is None else y + b.reshape((1, -1) + (1,) * n)


def maxpool_reference(x, kernel, stride, pad, dilation, out, return_indices):
    n = len(kernel)
    xp_ = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p + k * s) for p, k, s in zip(pad, kernel, stride)),
                 constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(xp_, tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation)),
                                                   axis=tuple(range(2, 2 + n)))
    win = win[(Ellipsis,) + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, d) for d in dilation)]
    win = win[(slice(None), slice(None)) + tuple(slice(0, o) for o in out)]
    return win.reshape(win.shape[:2 + n] + (-1,)).max(axis=-1)


def _conv_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for xs, ws, stride, pads, dil, groups in CONV_CASES:
        arrays = [rng.standard_normal(s).astype(dtype) for s in (xs, ws, (ws[0],))]
        out.append(Sample(tuple(xp.asarray(a) for a in arrays) + (stride, pads, dil, groups), name=f"{xs}x{ws}"))
    return out


def _pool_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for xs, k, s, p, d in POOL_CASES:
        x = rng.standard_normal(xs)
        x.flat[1] = x.flat[0]  # ties: the first max wins
        o = tuple(pool_out(v, *a) for v, a in zip(xs[2:], zip(k, s, p, d)))
        out.append(Sample((xp.asarray(x.astype(dtype)), k, s, p, d, o, False), name=f"{xs}k{k}"))
    return out


XENT_CASES = ((None, -100, 0.0, "mean"), ("w", 2, 0.0, "mean"), (None, -100, 0.1, "sum"), ("w", 1, 0.2, "none"),
              (None, 0, 0.0, "none"))


def _xent_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for k, (w, ignore, eps, red) in enumerate(XENT_CASES):
        N, C = (7, 5) if k % 2 else (4, 1100)
        x = rng.standard_normal((N, C)) * 4
        x[0, :] = 60.0 + x[0, :]  # large logits
        t = rng.integers(0, C, N)
        t[1] = ignore if ignore >= 0 and ignore < C else t[1]
        weight = xp.asarray(rng.random(C).astype(dtype) + 0.5) if w else None
        out.append(Sample((xp.asarray(x.astype(dtype)), xp.asarray(t), weight, ignore, eps, red), name=f"xent{k}"))
    return out


def xent_reference(x, target, weight, ignore_index, smoothing, reduction):
    N, C = x.shape
    logp = x - x.max(1, keepdims=True)
    logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
    w = np.ones(C) if weight is None else weight
    valid = target != ignore_index
    tc = np.where(valid, target, 0)
    nll = -w[tc] * logp[np.arange(N), tc]
    smooth = -(logp * w).sum(1)
    loss = np.where(valid, (1 - smoothing) * nll + smoothing / C * smooth, 0.0)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.sum() / np.where(valid, w[tc], 0).sum()


def _sig(v):
    return 1 / (1 + np.exp(-v))


# (steps, reverse): padded batch of 3 and a packed sequence with batch sizes 3, 2, 2, 1
RNN_STEPS = ((((0, 3), (3, 3), (6, 3)), False), (((0, 3), (3, 2), (5, 2), (7, 1)), True))


def _lstm_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    I, H = 4, 5
    for k, (steps, reverse) in enumerate(RNN_STEPS):
        S = sum(n for _, n in steps)
        arrays = [rng.standard_normal(s) * 0.7 for s in ((S, I), (3, H), (3, H), (4 * H, I), (4 * H, H), (4 * H,),
                                                         (4 * H,))]
        args = tuple(xp.asarray(a.astype(dtype)) for a in arrays)
        out.append(Sample(args + (None, steps, reverse), name=f"lstm{k}"))
    return out


def lstm_reference(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, steps, reverse):
    """y (S, H) of one LSTM direction in packed layout, float64."""
    H = w_hh.shape[0] // 4
    h, c = h0.copy(), c0.copy()
    y = np.empty((x.shape[0], H))
    for a, n in (steps[::-1] if reverse else steps):
        g = x[a:a + n] @ w_ih.T + b_ih + h[:n] @ w_hh.T + b_hh
        i, f, gg, o = _sig(g[:, :H]), _sig(g[:, H:2 * H]), np.tanh(g[:, 2 * H:3 * H]), _sig(g[:, 3 * H:])
        c[:n] = f * c[:n] + i * gg
        h[:n] = o * np.tanh(c[:n])
        y[a:a + n] = h[:n]
    return y


def _gru_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    I, H = 4, 5
    for k, (steps, reverse) in enumerate(RNN_STEPS):
        S = sum(n for _, n in steps)
        arrays = [rng.standard_normal(s) * 0.7 for s in ((S, I), (3, H), (3 * H, I), (3 * H, H), (3 * H,), (3 * H,))]
        out.append(Sample(tuple(xp.asarray(a.astype(dtype)) for a in arrays) + (steps, reverse), name=f"gru{k}"))
    return out


def gru_reference(x, h0, w_ih, w_hh, b_ih, b_hh, steps, reverse):
    H = w_hh.shape[0] // 3
    h = h0.copy()
    y = np.empty((x.shape[0], H))
    for a, n in (steps[::-1] if reverse else steps):
        gi = x[a:a + n] @ w_ih.T + b_ih
        gh = h[:n] @ w_hh.T + b_hh
        r, z = _sig(gi[:, :H] + gh[:, :H]), _sig(gi[:, H:2 * H] + gh[:, H:2 * H])
        nt = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
        h[:n] = (1 - z) * nt + z * h[:n]
        y[a:a + n] = h[:n]
    return y


def norm_specs():
    """(name, x shape, Spec) of the layouts the Normalize kernel serves; [] without lamina-norms."""
    op = target_op("Normalize")
    if op is None:
        return ()
    Spec = op.Spec
    return (("batch", (4, 3, 10), Spec((4, 3, 10), (0, 2), (1, 3, 1), 1e-5)),
            ("instance", (2, 3, 17), Spec((2, 3, 17), (2,), (1, 3, 1), 1e-5)),
            ("layer", (6, 1500), Spec((6, 1500), (1,), (1, 1500), 1e-5)),
            ("rms", (5, 33), Spec((5, 33), (1,), (1, 33), 1e-6, center=False)))


def _norm_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for name, shape, spec in norm_specs():
        x = rng.standard_normal(shape) * 3 + 1
        P = int(np.prod(spec.pshape))
        w, b = rng.standard_normal(P) + 1, rng.standard_normal(P)
        arrays = tuple(xp.asarray(a.astype(dtype)) for a in (x, w, b))
        out.append(Sample((arrays[0], arrays[1], None if name == "rms" else arrays[2], None, None, spec), name=name))
    return out


def norm_reference(x, weight, bias, mean, var, spec):
    xv = x.reshape(spec.view)
    m = xv.mean(axis=spec.axes, keepdims=True) if spec.center else 0.0
    v = ((xv - m) ** 2).mean(axis=spec.axes, keepdims=True)
    y = (xv - m) / np.sqrt(v + spec.eps)
    if weight is not None:
        y = y * weight.reshape(spec.pshape)
    if bias is not None:
        y = y + bias.reshape(spec.pshape)
    return y.reshape(x.shape)


def fused_records(kernel: Any) -> list[Any]:
    """``kernel(op, impl, samples, reference)`` for every installed target plugin."""
    from .kernels import conv, norm, pool, rnn, xent

    rows = (("ConvNd", conv.conv_kernel, _conv_samples, conv_reference),
            ("MaxPoolNd", pool.maxpool_kernel, _pool_samples, maxpool_reference),
            ("CrossEntropyIndex", xent.xent_kernel, _xent_samples, xent_reference),
            ("LSTMLayer", rnn.lstm_kernel, _lstm_samples, lstm_reference),
            ("GRULayer", rnn.gru_kernel, _gru_samples, gru_reference),
            ("Normalize", norm.norm_kernel, _norm_samples, norm_reference))
    out = []
    for name, make, samples, reference in rows:
        op = target_op(name)
        if op is not None:
            out.append(kernel(op, make(op), samples, reference))
    return out
