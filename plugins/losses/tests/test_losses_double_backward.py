"""Double backward (create_graph=True) through the fused losses: gradgradcheck in float64 per option, and the
second derivatives (a Hessian-vector product through the create_graph gradient) equal to PyTorch's on the same
inputs. ctc_loss differentiates once, as PyTorch's: its second derivative raises in both."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.testing import gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

R = np.random.default_rng(7)
X, X4 = R.standard_normal((6, 5)), R.standard_normal((3, 5, 4, 2))
IDX, IDX4 = R.integers(0, 5, 6), R.integers(0, 5, (3, 4, 2))
IDX[[1, 4]] = 2                               # rows that ignore_index=2 drops
W5 = R.uniform(0.5, 2.0, 5)
PROB = R.dirichlet(np.ones(5), 6)
P, U = R.uniform(0.05, 0.95, (6, 5)), R.uniform(size=(6, 5))
LOGP, LOGQ = np.log(R.dirichlet(np.ones(5), 6)), np.log(R.dirichlet(np.ones(5), 6))
SIGN = np.sign(R.standard_normal((6, 5)))
MLT = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 1, 1, 1], [4, 4, -1, 0, 0], [0, -1, 2, 2, 2],
                [2, 1, 0, 3, -1]])
INT = "int"   # an integer argument (class indices): never differentiated

def _torch_multi_margin(x, t, p=1, margin=1.0, weight=None):
    """sum_{j != y} w_y max(0, margin - x_y + x_j)^p / C, averaged: F.multi_margin_loss in torch ops."""
    x_y = x.gather(1, t[:, None])
    h = (margin - x_y + x).clamp(min=0) ** p * weight[t][:, None]
    own = torch.arange(x.shape[1])[None, :] == t[:, None]
    return torch.where(own, 0.0, h).sum(1).div(x.shape[1]).mean()


def _torch_multilabel_margin(x, t):
    """F.multilabel_margin_loss in torch ops (targets end at the first -1)."""
    losses = []
    for i in range(x.shape[0]):
        labels = []
        for c in t[i].tolist():
            if c < 0:
                break
            labels.append(c)
        others = [j for j in range(x.shape[1]) if j not in labels]
        terms = [(1 - (x[i, k] - x[i, j])).clamp(min=0) for k in labels for j in others]
        losses.append(sum(terms) / x.shape[1] if terms else x[i].sum() * 0)
    return torch.stack(losses).mean()


# (id, lamina fn, torch fn, [(array, differentiable)], kwargs; arrays in kwargs are passed as constants)
CASES = [
    ("ce", F.cross_entropy, TF.cross_entropy, [(X, True), (IDX, INT)], {}),
    ("ce-sum", F.cross_entropy, TF.cross_entropy, [(X, True), (IDX, INT)], {"reduction": "sum"}),
    ("ce-none", F.cross_entropy, TF.cross_entropy, [(X, True), (IDX, INT)], {"reduction": "none"}),
    ("ce-weight-ignore", F.cross_entropy, TF.cross_entropy, [(X, True), (IDX, INT)],
     {"weight": W5, "ignore_index": 2}),
    ("ce-smoothing", F.cross_entropy, TF.cross_entropy, [(X, True), (IDX, INT)],
     {"label_smoothing": 0.2, "ignore_index": 2, "weight": W5}),
    ("ce-kdim", F.cross_entropy, TF.cross_entropy, [(X4, True), (IDX4, INT)], {"label_smoothing": 0.1}),
    ("ce-kdim-none", F.cross_entropy, TF.cross_entropy, [(X4, True), (IDX4, INT)],
     {"reduction": "none", "weight": W5}),
    ("ce-unbatched", F.cross_entropy, TF.cross_entropy, [(X[0], True), (IDX[0], INT)], {}),
    ("ce-probabilities", F.cross_entropy, TF.cross_entropy, [(X, True), (PROB, True)], {}),
    ("ce-probabilities-smoothing-weight", F.cross_entropy, TF.cross_entropy, [(X, True), (PROB, True)],
     {"label_smoothing": 0.3, "weight": W5, "reduction": "sum"}),
    ("nll", F.nll_loss, TF.nll_loss, [(LOGP, True), (IDX, INT)], {}),
    ("nll-weight-ignore-none", F.nll_loss, TF.nll_loss, [(LOGP, True), (IDX, INT)],
     {"weight": W5, "ignore_index": 2, "reduction": "none"}),
    ("nll-kdim", F.nll_loss, TF.nll_loss, [(X4, True), (IDX4, INT)], {"weight": W5}),
    ("bce", F.binary_cross_entropy, TF.binary_cross_entropy, [(P, True), (U, True)], {}),
    ("bce-weight-sum", F.binary_cross_entropy, TF.binary_cross_entropy, [(P, True), (U, True)],
     {"weight": R.uniform(0.5, 2, (6, 5)), "reduction": "sum"}),
    ("bce-logits", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
     [(3 * X, True), (U, True)], {}),
    ("bce-logits-pos-weight", F.binary_cross_entropy_with_logits, TF.binary_cross_entropy_with_logits,
     [(3 * X, True), (U, True)], {"pos_weight": W5, "weight": R.uniform(0.5, 2, 5), "reduction": "none"}),
    ("kl", F.kl_div, TF.kl_div, [(LOGP, True), (PROB, True)], {"reduction": "batchmean"}),
    ("kl-log-target", F.kl_div, TF.kl_div, [(LOGP, True), (LOGQ, True)], {"reduction": "sum", "log_target": True}),
    ("soft-margin", F.soft_margin_loss, TF.soft_margin_loss, [(X, True), (SIGN, False)], {}),
    ("multilabel-soft-margin", F.multilabel_soft_margin_loss, TF.multilabel_soft_margin_loss,
     [(X, True), (U, True)], {"weight": W5}),
    # torch's multi_margin_loss / multilabel_margin_loss differentiate once (their backward has no derivative):
    # lamina's twice, compared with the same formula composed of torch ops
    ("multi-margin-p2", F.multi_margin_loss, _torch_multi_margin, [(X, True), (IDX, INT)],
     {"p": 2, "margin": 0.5, "weight": W5}),
    ("multilabel-margin", F.multilabel_margin_loss, _torch_multilabel_margin, [(X, True), (MLT, INT)], {}),
    ("mse", F.mse_loss, TF.mse_loss, [(X, True), (U, True)], {}),
    ("huber", F.huber_loss, TF.huber_loss, [(X, True), (U, True)], {"delta": 0.7}),
    ("poisson-nll", F.poisson_nll_loss, TF.poisson_nll_loss, [(X, True), (U, False)], {}),
    ("gaussian-nll", F.gaussian_nll_loss, TF.gaussian_nll_loss, [(X, True), (U, True), (P + 0.5, True)], {}),
]


def _args(spec, lib):
    out = []
    for a, diff in spec:
        if diff is INT:
            out.append(lib.tensor(np.asarray(a, dtype=np.int64)))
        else:
            out.append(lib.tensor(np.asarray(a, dtype=np.float64), requires_grad=bool(diff)))
    return out


def _kwargs(kwargs, lib):
    return {k: lib.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}


def hessian_vector(lib, fn, inputs, seed: int) -> list:
    """d/d (inputs, v) of sum_i <d out/d input_i (v), u_i>, v and u seeded: every second derivative in one
    direction (the cotangent v is differentiated too: linear losses have only that one)."""
    rng = np.random.default_rng(seed)
    wanted = [t for t in inputs if t.requires_grad]
    out = fn(*inputs)
    v = lib.tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
    grads = lib.autograd.grad(out, wanted, v, create_graph=True)
    s = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
    second = lib.autograd.grad(s, wanted + [v], allow_unused=True)
    return [None if h is None else np.array(h.detach().numpy()) for h in second]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradgradcheck(case):
    _, lfn, _, spec, kwargs = case
    args = _args(spec, lamina)
    kw = _kwargs(kwargs, lamina)
    assert gradgradcheck(lambda *xs: lfn(*xs, **kw), tuple(args))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_match_torch(case):
    _, lfn, tfn, spec, kwargs = case
    lkw, tkw = _kwargs(kwargs, lamina), _kwargs(kwargs, torch)
    got = hessian_vector(lamina, lambda *xs: lfn(*xs, **lkw), _args(spec, lamina), seed=3)
    want = hessian_vector(torch, lambda *xs: tfn(*xs, **tkw), _args(spec, torch), seed=3)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        if w is None or g is None:    # torch: no path from the first derivative to this input (= zero)
            other = w if g is None else g
            assert other is None or not np.any(other), f"input {k}: one side is zero, the other is not"
            continue
        np.testing.assert_allclose(g, w, rtol=1e-7, atol=1e-9, err_msg=f"second derivative of input {k}")


def test_create_graph_first_derivative_equals_the_plain_one():
    x = lamina.tensor(X4, requires_grad=True)
    t = lamina.tensor(IDX4)
    plain, = lamina.autograd.grad(F.cross_entropy(x, t, label_smoothing=0.1), [x])
    graph, = lamina.autograd.grad(F.cross_entropy(x, t, label_smoothing=0.1), [x], create_graph=True)
    assert graph.requires_grad
    np.testing.assert_allclose(graph.detach().numpy(), plain.numpy(), rtol=1e-12, atol=1e-15)


def _ctc(lib, x):
    lp = x.log_softmax(-1)
    targets = lib.tensor([[1, 2, 3], [2, 4, 0]])
    return lib.nn.functional.ctc_loss(lp, targets, [6, 5], [3, 2])


def test_ctc_differentiates_once_like_torch():
    """torch: 'derivative for aten::_ctc_loss_backward is not implemented' (a RuntimeError) at the second
    derivative; lamina gives the same first derivative under create_graph and raises RuntimeError too."""
    a = R.standard_normal((6, 2, 5))
    lx, tx = lamina.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    lg, = lamina.autograd.grad(_ctc(lamina, lx), [lx], create_graph=True)
    tg, = torch.autograd.grad(_ctc(torch, tx), [tx], create_graph=True)
    np.testing.assert_allclose(lg.detach().numpy(), tg.detach().numpy(), rtol=1e-7, atol=1e-10)
    with pytest.raises(RuntimeError, match="not implemented"):
        torch.autograd.grad(tg.sum(), [tx])
    with pytest.raises(RuntimeError, match="ctc_loss.*not implemented"):
        lamina.autograd.grad(lg.sum(), [lx])


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_gives_zero_second_derivatives_like_torch(loss):
    """'mean' over no target: the loss is NaN, the first and second derivatives are zeros (and nothing warns)."""
    a = R.standard_normal((3, 4))
    for lib in (lamina, torch):
        x = lib.tensor(a.copy(), requires_grad=True)
        inp = x if loss == "cross_entropy" else x.log_softmax(1)   # (nll's own gradient does not depend on x)
        out = getattr(lib.nn.functional, loss)(inp, lib.tensor([1, 1, 1]), ignore_index=1)
        g, = lib.autograd.grad(out, [x], create_graph=True)
        h, = lib.autograd.grad((g * g).sum() + g.sum(), [x])
        assert np.isnan(out.item())
        np.testing.assert_array_equal(g.detach().numpy(), np.zeros((3, 4)))
        np.testing.assert_array_equal(h.numpy(), np.zeros((3, 4)))


@pytest.mark.parametrize("loss,args", [("cross_entropy", {"label_smoothing": 0.2, "weight": W5}),
                                       ("binary_cross_entropy_with_logits", {"pos_weight": W5})])
def test_third_derivative_matches_torch(loss, args):
    """The create_graph gradient differentiates again: a third derivative along seeded directions equals torch's."""
    rng = np.random.default_rng(19)
    d1, d2 = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    results = []
    for lib in (lamina, torch):
        x = lib.tensor(X.copy(), requires_grad=True)
        target = lib.tensor(IDX) if loss == "cross_entropy" else lib.tensor(U)
        kw = {k: lib.tensor(v) for k, v in args.items()}
        out = getattr(lib.nn.functional, loss)(x, target, **kw)
        g, = lib.autograd.grad(out, [x], create_graph=True)
        h, = lib.autograd.grad((g * lib.tensor(d1)).sum(), [x], create_graph=True)
        third, = lib.autograd.grad((h * lib.tensor(d2)).sum(), [x])
        results.append(third.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-7, atol=1e-10)
