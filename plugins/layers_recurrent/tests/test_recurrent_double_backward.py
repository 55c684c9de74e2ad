"""Double backward (create_graph=True) through the fused recurrent layers and cells: gradgradcheck in float64
per option, second derivatives (seeded Hessian-vector products through inputs, initial states and every
parameter) equal to PyTorch's on the same weights, and a MAML-style inner step on a small LSTM equal to torch's."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _layers_recurrent_helpers import to_np, twins
from lamina.testing import gradgradcheck

torch = pytest.importorskip("torch")

R = np.random.default_rng(21)

# (id, class, constructor kwargs, input shape, with initial states, packed lengths or None)
LAYERS = [
    ("rnn-tanh", "RNN", dict(input_size=3, hidden_size=4), (5, 2, 3), False, None),
    ("rnn-relu-2layers-bi-nobias", "RNN", dict(input_size=3, hidden_size=4, nonlinearity="relu", num_layers=2,
                                               bidirectional=True, bias=False), (4, 2, 3), True, None),
    ("lstm", "LSTM", dict(input_size=3, hidden_size=4), (5, 2, 3), True, None),
    ("lstm-2layers-bi-batch-first", "LSTM", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True,
                                                 batch_first=True), (2, 4, 3), False, None),
    ("lstm-proj", "LSTM", dict(input_size=3, hidden_size=4, proj_size=2, num_layers=2), (4, 2, 3), True, None),
    ("lstm-packed-bi", "LSTM", dict(input_size=3, hidden_size=4, bidirectional=True), (5, 3, 3), True, [5, 2, 3]),
    ("gru", "GRU", dict(input_size=3, hidden_size=4), (5, 2, 3), True, None),
    ("gru-2layers-bi", "GRU", dict(input_size=3, hidden_size=4, num_layers=2, bidirectional=True), (4, 2, 3), False,
     None),
    ("gru-packed", "GRU", dict(input_size=3, hidden_size=4, batch_first=True), (3, 5, 3), True, [2, 5, 4]),
    ("unbatched-gru", "GRU", dict(input_size=3, hidden_size=4), (5, 3), True, None),
]


def _states(cls, kw, shape, lib, arrays=None):
    D = 2 if kw.get("bidirectional") else 1
    L = kw.get("num_layers", 1)
    N = shape[0 if kw.get("batch_first") else 1] if len(shape) == 3 else None
    H, P = kw["hidden_size"], kw.get("proj_size") or kw["hidden_size"]
    sizes = [P, H] if cls == "LSTM" else [P]
    if arrays is None:
        arrays = [R.standard_normal((L * D,) + ((N,) if N is not None else ()) + (s,)) for s in sizes]
    return [lib.tensor(a.copy(), requires_grad=True) for a in arrays], arrays


def _run(lib, m, x, states, lengths, batch_first):
    """The layer on x (packed when lengths are given) -> (output data, final states...)."""
    inp = x
    if lengths is not None:
        inp = lib.nn.utils.rnn.pack_padded_sequence(x, lib.tensor(lengths), batch_first=batch_first,
                                                    enforce_sorted=False)
    hx = None if not states else (tuple(states) if len(states) == 2 else states[0])
    y, h = m(inp) if hx is None else m(inp, hx)
    y = y.data if lengths is not None else y
    return (y,) + (tuple(h) if isinstance(h, tuple) else (h,))


def hessian_vector(lib, fn, leaves, seed):
    """d/d leaves of sum_i <d outputs/d leaf_i (v), u_i> (v, u seeded in a fixed order). -> arrays"""
    rng = np.random.default_rng(seed)
    outs = fn()
    vs = [lib.tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
    us = [lib.tensor(rng.standard_normal(tuple(t.shape))) for t in leaves]
    grads = lib.autograd.grad(list(outs), leaves, vs, create_graph=True, allow_unused=True)
    s = sum((g * u).sum() for g, u in zip(grads, us) if g is not None)
    return [None if h is None else to_np(h) for h in lib.autograd.grad(s, leaves, allow_unused=True)]


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_second_derivatives_match_torch(case):
    _, cls, kw, shape, with_states, lengths = case
    m, t = twins(torch, cls, "float64", **kw)
    x = R.standard_normal(shape)
    got_want, arrays = [], None
    for lib, mod in ((lamina, m), (torch, t)):
        xt = lib.tensor(x.copy(), requires_grad=True)
        states, arrays = _states(cls, kw, shape, lib, arrays) if with_states else ([], None)
        leaves = [xt] + states + list(mod.parameters())
        got_want.append(hessian_vector(lib, lambda lib=lib, mod=mod, xt=xt, st=states: _run(
            lib, mod, xt, st, lengths, kw.get("batch_first", False)), leaves, seed=2))
    names = ["input"] + [f"state {k}" for k in range(len(leaves) - 1 - len(list(m.parameters())))] + [
        n for n, _ in m.named_parameters()]
    for name, g, w in zip(names, *got_want):
        if g is None or w is None:
            other = w if g is None else g
            assert other is None or not np.any(other), f"{name}: one side is zero, the other is not"
            continue
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-9, err_msg=f"second derivative of {name}")


@pytest.mark.parametrize("case", [c for c in LAYERS if c[0] in ("rnn-relu-2layers-bi-nobias", "lstm-proj",
                                                                 "lstm-packed-bi", "gru-packed")],
                         ids=lambda c: c[0])
def test_layer_gradgradcheck(case):
    _, cls, kw, shape, with_states, lengths = case
    lamina.manual_seed(0)
    m = getattr(lamina.nn, cls)(**kw, dtype=lamina.float64)
    x = lamina.tensor(R.standard_normal(shape), requires_grad=True)
    states, _ = _states(cls, kw, shape, lamina) if with_states else ([], None)
    n = 1 + len(states)
    assert gradgradcheck(lambda *xs: _run(lamina, m, xs[0], list(xs[1:n]), lengths, kw.get("batch_first", False)),
                         (x, *states, *m.parameters()), fast_mode=True)


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}), ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("cls,kw", CELLS, ids=[f"{c}{k}" for c, k in CELLS])
def test_cell_gradgradcheck_and_second_derivatives_match_torch(cls, kw):
    m, t = twins(torch, cls, "float64", input_size=3, hidden_size=4, **kw)
    x, h, c = R.standard_normal((2, 3)), R.standard_normal((2, 4)), R.standard_normal((2, 4))
    lstm = cls == "LSTMCell"
    results = []
    for lib, mod in ((lamina, m), (torch, t)):
        xs = [lib.tensor(a.copy(), requires_grad=True) for a in ((x, h, c) if lstm else (x, h))]
        out = (lambda mod=mod, xs=xs: tuple(mod(xs[0], (xs[1], xs[2])))) if lstm else (
            lambda mod=mod, xs=xs: (mod(xs[0], xs[1]),))
        results.append(hessian_vector(lib, out, xs + list(mod.parameters()), seed=4))
    for g, w in zip(*results):
        np.testing.assert_allclose(g if g is not None else 0.0, w if w is not None else 0.0, rtol=1e-7, atol=1e-9)
    lx = [lamina.tensor(a.copy(), requires_grad=True) for a in ((x, h, c) if lstm else (x, h))]
    fn = (lambda a, b, d, *p: m(a, (b, d))) if lstm else (lambda a, b, *p: m(a, b))
    assert gradgradcheck(fn, (*lx, *m.parameters()))


def test_maml_inner_step_on_a_small_lstm_matches_torch():
    """One inner SGD step with create_graph=True, then the outer loss at the adapted weights: the meta-gradient
    of every parameter (it goes through the inner gradient: second derivatives of the LSTM) equals torch's."""
    def build(lib, dtype):
        return lib.nn.ModuleDict({"rnn": lib.nn.LSTM(3, 5, dtype=dtype), "head": lib.nn.Linear(5, 2, dtype=dtype)})

    def model(lib, m, params, x):
        call = lib.func.functional_call
        y, _ = call(m["rnn"], {k[4:]: v for k, v in params.items() if k.startswith("rnn.")}, (x,))
        return call(m["head"], {k[5:]: v for k, v in params.items() if k.startswith("head.")}, (y[-1],))

    lamina.manual_seed(3)
    lm, tm = build(lamina, lamina.float64), build(torch, torch.float64)
    tm.load_state_dict({k: torch.tensor(to_np(v).copy()) for k, v in lm.state_dict().items()})
    xs, xq = R.standard_normal((6, 4, 3)), R.standard_normal((6, 4, 3))
    ys, yq = R.standard_normal((4, 2)), R.standard_normal((4, 2))
    meta = []
    for lib, m in ((lamina, lm), (torch, tm)):
        params = dict(m.named_parameters())
        mse = lib.nn.functional.mse_loss
        inner = mse(model(lib, m, params, lib.tensor(xs)), lib.tensor(ys))
        grads = lib.autograd.grad(inner, list(params.values()), create_graph=True)
        fast = {k: p - 0.4 * g for (k, p), g in zip(params.items(), grads)}
        outer = mse(model(lib, m, fast, lib.tensor(xq)), lib.tensor(yq))
        meta.append((outer.item(), [to_np(g) for g in lib.autograd.grad(outer, list(params.values()))]))
    (l_loss, l_grads), (t_loss, t_grads) = meta
    np.testing.assert_allclose(l_loss, t_loss, rtol=1e-10)
    for name, a, b in zip(dict(lm.named_parameters()), l_grads, t_grads):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-10, err_msg=f"meta-gradient of {name}")


def test_lstm_third_derivative_matches_torch():
    """The create_graph gradient is differentiable again: a third derivative along seeded directions equals
    torch's (batch-first input: the layer sees a transposed, non-contiguous view)."""
    m, t = twins(torch, "LSTM", "float64", input_size=3, hidden_size=4, batch_first=True)
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, 4, 3))
    d1, d2, d3 = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4, 3))
    results = []
    for lib, mod in ((lamina, m), (torch, t)):
        xt = lib.tensor(x.copy(), requires_grad=True)
        y, _ = mod(xt)
        g, = lib.autograd.grad(y, [xt], lib.tensor(d1), create_graph=True)
        h, = lib.autograd.grad((g * lib.tensor(d2)).sum(), [xt], create_graph=True)
        third = lib.autograd.grad((h * lib.tensor(d3)).sum(), [xt] + list(mod.parameters()))
        results.append([to_np(a) for a in third])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
