"""The loss checks of TESTKIT.md that the records cannot express: extreme and -inf logits, shift invariance,
ignore_index / weight semantics, error messages, legacy reduction arguments, CTC through log_softmax."""

from __future__ import annotations

import math

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import numpy as np
import pytest
from lamina.errors import DTypeError, ShapeError
from lamina.testing import gradcheck

INF = math.inf


def _t(a, dtype="float64", grad=False):
    return lamina.tensor(np.asarray(a, dtype=dtype), requires_grad=grad)


def _grad_of(fn, *arrays, dtype="float64"):
    ts = [_t(a, dtype, True) for a in arrays]
    out = fn(*ts)
    out.sum().backward()
    return out.detach().array, [t.grad.array for t in ts]


SOFT = [
    ("cross_entropy", lambda x: F.cross_entropy(x, lamina.tensor([0, 2, 1]))),
    ("cross_entropy_smooth", lambda x: F.cross_entropy(x, lamina.tensor([0, 2, 1]), label_smoothing=0.2)),
    ("cross_entropy_prob", lambda x: F.cross_entropy(x, _t(np.full((3, 3), 1 / 3), x.dtype.name))),
    ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, _t(np.eye(3), x.dtype.name),
                                                                     pos_weight=_t([1., 2., 3.], x.dtype.name))),
    ("soft_margin", lambda x: F.soft_margin_loss(x, _t(np.sign(np.eye(3) - 0.5), x.dtype.name))),
    ("multilabel_soft_margin", lambda x: F.multilabel_soft_margin_loss(x, _t(np.eye(3), x.dtype.name))),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [20.0, 88.0, 1e4])
@pytest.mark.parametrize("name,fn", SOFT, ids=[s[0] for s in SOFT])
def test_losses_extreme_logits_finite(name, fn, scale, dtype):
    x = scale * np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, -0.5], [1.0, 1.0, -1.0]])
    out, (g,) = _grad_of(fn, x, dtype=dtype)
    assert out.dtype == np.dtype(dtype) and g.dtype == np.dtype(dtype)
    assert np.isfinite(out).all() and np.isfinite(g).all(), f"{name} at +-{scale}: {out}, {g}"


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("scale", [20.0, 88.0, 1e4])
@pytest.mark.parametrize("name,fn", SOFT, ids=[s[0] for s in SOFT])
def test_losses_extreme_logits_match_torch(name, fn, scale, dtype):
    torch = pytest.importorskip("torch")
    tf = {"cross_entropy": lambda x: torch.nn.functional.cross_entropy(x, torch.tensor([0, 2, 1])),
          "cross_entropy_smooth": lambda x: torch.nn.functional.cross_entropy(x, torch.tensor([0, 2, 1]),
                                                                             label_smoothing=0.2),
          "cross_entropy_prob": lambda x: torch.nn.functional.cross_entropy(x, torch.full((3, 3), 1 / 3,
                                                                                          dtype=x.dtype)),
          "bce_with_logits": lambda x: torch.nn.functional.binary_cross_entropy_with_logits(
              x, torch.eye(3, dtype=x.dtype), pos_weight=torch.tensor([1., 2., 3.], dtype=x.dtype)),
          "soft_margin": lambda x: torch.nn.functional.soft_margin_loss(
              x, torch.sign(torch.eye(3, dtype=x.dtype) - 0.5)),
          "multilabel_soft_margin": lambda x: torch.nn.functional.multilabel_soft_margin_loss(
              x, torch.eye(3, dtype=x.dtype))}[name]
    x = scale * np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, -0.5], [1.0, 1.0, -1.0]])
    out, (g,) = _grad_of(fn, x, dtype=dtype)
    xt = torch.tensor(x.astype(dtype), requires_grad=True)
    ot = tf(xt)
    ot.sum().backward()
    if not np.isfinite(ot.detach().numpy()).all():
        # PyTorch's soft_margin_loss overflows (log(1 + exp(1e4)) = inf); the stable form stays exact
        assert name == "soft_margin" and scale == 1e4
        exact = np.logaddexp(0, -np.sign(np.eye(3) - 0.5) * x).mean()
        np.testing.assert_allclose(out, exact, rtol=1e-5)
        return
    np.testing.assert_allclose(out, ot.detach().numpy(), rtol=1e-5)
    np.testing.assert_allclose(g, xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"label_smoothing": 0.3}, {"weight": [1.0, 2.0, 0.5, 1.5]}])
def test_losses_cross_entropy_shift_invariant(kw):
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((5, 4)), lamina.tensor(rng.integers(0, 4, 5))
    kw = {k: _t(v) if isinstance(v, list) else v for k, v in kw.items()}
    fn = lambda x: F.cross_entropy(x, t, **kw)  # noqa: E731
    a, (ga,) = _grad_of(fn, x)
    b, (gb,) = _grad_of(fn, x + 1e3)
    np.testing.assert_allclose(a, b, rtol=1e-9)
    np.testing.assert_allclose(ga, gb, atol=1e-12)


def test_losses_cross_entropy_rows_with_minus_inf():
    torch = pytest.importorskip("torch")
    x = np.array([[1.0, -INF, 2.0], [-INF, -INF, -INF], [0.5, 0.1, -INF]])
    for kw in ({}, {"label_smoothing": 0.1}, {"ignore_index": 1}, {"reduction": "sum"}):
        t = np.array([0, 1, 1])
        lx = _t(x, grad=True)
        out = F.cross_entropy(lx, lamina.tensor(t), **kw)
        out.sum().backward()
        tx = torch.tensor(x, requires_grad=True)
        ref = torch.nn.functional.cross_entropy(tx, torch.tensor(t), **kw)
        ref.sum().backward()
        # forward equals PyTorch's (NaN where a non-ignored all -inf row enters the loss)
        np.testing.assert_array_equal(np.isnan(out.array), np.isnan(ref.detach().numpy()))
        np.testing.assert_allclose(out.array, ref.detach().numpy(), rtol=1e-12)
        # rows with some -inf logits: finite gradients, equal to PyTorch's
        np.testing.assert_allclose(lx.grad.array[[0, 2]], tx.grad.numpy()[[0, 2]], rtol=1e-12, atol=1e-15)
        if kw.get("ignore_index") == 1:
            # the ignored all -inf row gets a zero gradient (PyTorch gives NaN there)
            assert np.array_equal(lx.grad.array[1], np.zeros(3))


@pytest.mark.parametrize("kw", [{}, {"weight": [0.2, 1.0, 3.0]}, {"label_smoothing": 0.2}])
def test_losses_cross_entropy_all_ignored_row_grad_is_zero(kw):
    x = np.array([[-INF, -INF, -INF], [1.0, 2.0, 3.0]])
    kw = {k: _t(v) if isinstance(v, list) else v for k, v in kw.items()}
    out, (g,) = _grad_of(lambda x: F.cross_entropy(x, lamina.tensor([-100, 2]), reduction="sum", **kw), x)
    assert np.isfinite(out).all() and np.isfinite(g).all()
    assert np.array_equal(g[0], np.zeros(3))


def test_losses_ignore_index_weighted_mean_denominator():
    x = np.random.default_rng(0).standard_normal((4, 3))
    w, t = np.array([0.5, 2.0, 3.0]), np.array([0, 2, 1, 2])
    per = F.cross_entropy(_t(x), lamina.tensor(t), weight=_t(w), ignore_index=1, reduction="none").array
    mean = F.cross_entropy(_t(x), lamina.tensor(t), weight=_t(w), ignore_index=1).item()
    assert per[2] == 0.0
    np.testing.assert_allclose(mean, per.sum() / (0.5 + 3.0 + 3.0), rtol=1e-12)
    # every target ignored: 0 / 0, as in PyTorch
    assert math.isnan(F.nll_loss(_t(x), lamina.tensor([1, 1, 1, 1]), ignore_index=1).item())


@pytest.mark.parametrize("fn,name", [(F.cross_entropy, "CrossEntropyLoss"), (F.nll_loss, "NLLLoss")])
def test_losses_class_index_out_of_range_message(fn, name):
    x = _t(np.zeros((3, 5)))
    with pytest.raises(IndexError, match=rf"^{name}: target 7 is out of bounds for 5 classes \(expected 0 <= target "
                                         r"< 5 or ignore_index=-100\)$"):
        fn(x, lamina.tensor([0, 7, 1]))
    with pytest.raises(IndexError, match=r"target -3 is out of bounds for 5 classes .*ignore_index=-1\)"):
        fn(x, lamina.tensor([0, -3, -1]), ignore_index=-1)
    with pytest.raises(DTypeError, match=rf"{name}: expected target of an integer dtype \(class indices\)"):
        fn(x, _t([0.0, 1.0, 2.0]))
    fn(x, lamina.tensor([0, -1, 4]), ignore_index=-1)  # the ignore_index itself is in range


@pytest.mark.parametrize("fn", [F.multi_margin_loss])
def test_losses_multi_margin_out_of_range(fn):
    with pytest.raises(IndexError, match=r"MultiMarginLoss: target 5 is out of bounds for 5 classes"):
        fn(_t(np.zeros((2, 5))), lamina.tensor([0, 5]))


MISMATCH = [(F.l1_loss, "L1Loss"), (F.mse_loss, "MSELoss"), (F.smooth_l1_loss, "SmoothL1Loss"),
            (F.huber_loss, "HuberLoss"), (F.binary_cross_entropy, "BCELoss"),
            (F.binary_cross_entropy_with_logits, "BCEWithLogitsLoss"), (F.soft_margin_loss, "SoftMarginLoss"),
            (F.kl_div, "KLDivLoss"), (F.poisson_nll_loss, "PoissonNLLLoss"), (F.hinge_embedding_loss,
                                                                             "HingeEmbeddingLoss")]


@pytest.mark.parametrize("fn,name", MISMATCH, ids=[m[1] for m in MISMATCH])
def test_losses_shape_mismatch_raises(fn, name):
    with pytest.raises(ShapeError, match=rf"^{name}: expected target of the input's shape \(4, 3\), got target "
                                         r"\(4, 1\)"):
        fn(_t(np.full((4, 3), 0.5)), _t(np.full((4, 1), 0.5)), reduction="sum")


def test_losses_bce_clamps_log_and_checks_range():
    out = F.binary_cross_entropy(_t([0.0, 1.0]), _t([1.0, 0.0]), reduction="none")
    np.testing.assert_array_equal(out.array, [100.0, 100.0])
    with pytest.raises(ValueError, match=r"BCELoss: expected all elements of input to be between 0 and 1"):
        F.binary_cross_entropy(_t([1.5]), _t([1.0]))


@pytest.mark.parametrize("size_average", [None, True, False])
@pytest.mark.parametrize("reduce", [None, True, False])
def test_losses_legacy_reduction_arguments(size_average, reduce):
    torch = pytest.importorskip("torch")
    if size_average is None and reduce is None:
        assert nn.MSELoss().reduction == "mean"
        return
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        got = nn.CrossEntropyLoss(size_average=size_average, reduce=reduce).reduction
    with pytest.warns(UserWarning):
        want = torch.nn.CrossEntropyLoss(size_average=size_average, reduce=reduce).reduction
    assert got == want
    x, y = _t(np.arange(6.0).reshape(2, 3)), _t(np.ones((2, 3)))
    np.testing.assert_allclose(F.mse_loss(x, y, size_average=size_average, reduce=reduce).array,
                               F.mse_loss(x, y, reduction=want).array)


def test_losses_kl_div_mean_warns_and_batchmean():
    x, t = np.log(np.full((2, 4), 0.25)), np.random.default_rng(0).dirichlet(np.ones(4), 2)
    none = F.kl_div(_t(x), _t(t), reduction="none").array
    with pytest.warns(UserWarning, match="batchmean"):
        np.testing.assert_allclose(F.kl_div(_t(x), _t(t)).item(), none.mean())
    np.testing.assert_allclose(F.kl_div(_t(x), _t(t), reduction="batchmean").item(), none.sum() / 2)
    with pytest.raises(ValueError, match=r"KLDivLoss: reduction must be one of"):
        F.kl_div(_t(x), _t(t), reduction="avg")


def test_losses_bad_options():
    with pytest.raises(ValueError, match=r"MSELoss: reduction must be one of \['none', 'mean', 'sum'\], got 'avg'"):
        nn.MSELoss(reduction="avg")(_t([1.0]), _t([1.0]))
    with pytest.raises(ValueError, match="label_smoothing must be between 0.0 and 1.0"):
        F.cross_entropy(_t(np.zeros((1, 3))), lamina.tensor([0]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        nn.MultiMarginLoss(p=3)
    with pytest.raises(ShapeError, match=r"CrossEntropyLoss: expected weight of shape \(3,\)"):
        F.cross_entropy(_t(np.zeros((1, 3))), lamina.tensor([0]), weight=_t([1.0, 2.0]))


def test_losses_weight_is_a_buffer_and_float32_stays_float32():
    m = nn.CrossEntropyLoss(weight=lamina.tensor([1.0, 2.0, 3.0], dtype=lamina.float32))
    assert list(m.state_dict()) == ["weight"] and list(dict(m.named_parameters())) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=lamina.ones(3)).state_dict()) == ["pos_weight"]
    x = lamina.randn(4, 3, dtype=lamina.float32, requires_grad=True)
    out = m(x, lamina.tensor([0, 1, 2, 1]))
    out.backward()
    assert out.dtype == lamina.float32 and x.grad.dtype == lamina.float32


@pytest.mark.parametrize("opts", [{}, {"blank": 2}, {"zero_infinity": True}])
def test_losses_ctc_gradcheck_through_log_softmax(opts):
    rng = np.random.default_rng(5)
    x = _t(rng.standard_normal((6, 2, 4)), grad=True)
    targets = lamina.tensor(np.array([[1, 3, 3], [3, 1, 0]]))
    fn = lambda x: F.ctc_loss(lamina.log_softmax(x, -1), targets, [6, 5], [3, 2], reduction="sum", **opts)  # noqa: E731
    assert gradcheck(fn, (x,), eps=1e-6, atol=1e-5, rtol=1e-3)


def test_losses_ctc_unbatched_and_lists_match_batched():
    rng = np.random.default_rng(6)
    lp = np.log(rng.dirichlet(np.ones(5), 9))  # (T, C)
    one = F.ctc_loss(_t(lp), lamina.tensor([1, 2, 2]), 9, 3, reduction="none")
    batched = F.ctc_loss(_t(lp[:, None]), lamina.tensor([[1, 2, 2]]), [9], (3,), reduction="none")
    assert tuple(one.shape) == () and tuple(batched.shape) == (1,)
    np.testing.assert_allclose(one.item(), batched.array[0], rtol=1e-12)


def test_losses_ctc_infeasible_is_inf_unless_zero_infinity():
    lp = _t(np.log(np.full((2, 1, 3), 1 / 3)), grad=True)
    assert F.ctc_loss(lp, lamina.tensor([[1, 1]]), [2], [2], reduction="sum").item() == INF
    out = F.ctc_loss(lp, lamina.tensor([[1, 1]]), [2], [2], reduction="sum", zero_infinity=True)
    out.backward()
    assert out.item() == 0.0 and np.array_equal(lp.grad.array, np.zeros((2, 1, 3)))
