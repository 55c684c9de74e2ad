"""AdaptiveLogSoftmaxWithLoss and the deprecated NLLLoss2d against PyTorch: structure (repr, state_dict keys and
shapes), forward output and loss, log_prob, predict, gradients to the input and every parameter (same weights),
errors."""

from __future__ import annotations

import lamina
import lamina.nn as nn
import numpy as np
import pytest
from lamina.testing import gradcheck

torch = pytest.importorskip("torch")


def _pair(dtype=np.float64, **kw):
    kw = {"in_features": 8, "n_classes": 10, "cutoffs": [3, 6], "div_value": 2.0, **kw}
    lm = nn.AdaptiveLogSoftmaxWithLoss(**kw, dtype=getattr(lamina, np.dtype(dtype).name))
    tm = torch.nn.AdaptiveLogSoftmaxWithLoss(**kw, dtype=getattr(torch, np.dtype(dtype).name))
    with torch.no_grad():
        for p, q in zip(lm.parameters(), tm.parameters()):
            q.copy_(torch.tensor(p.detach().numpy()))
    return lm, tm


@pytest.mark.parametrize("kw", [{}, {"head_bias": True}, {"cutoffs": [2], "div_value": 4.0},
                                {"cutoffs": [1, 4, 8], "n_classes": 9}])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_forward_log_prob_predict_match_torch(kw, dtype):
    lm, tm = _pair(dtype, **kw)
    assert repr(lm) == repr(tm)
    assert [(k, tuple(v.shape)) for k, v in lm.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tm.state_dict().items()]
    rng = np.random.default_rng(0)
    n = tm.n_classes
    # every class twice: PyTorch's forward fails on a cluster with exactly one row (its squeeze drops the dim)
    t = rng.permutation(np.tile(np.arange(n), 2))
    x = rng.standard_normal((2 * n, 8)).astype(dtype)
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, to = lm(lx, lamina.tensor(t)), tm(tx, torch.tensor(t))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(lo.output.detach().numpy(), to.output.detach().numpy(), **tol)
    np.testing.assert_allclose(lo.loss.detach().numpy(), to.loss.detach().numpy(), **tol)
    assert lo._fields == to._fields == ("output", "loss")
    lo.loss.backward()
    to.loss.backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), **tol)
    for (k, p), (_, q) in zip(lm.named_parameters(), tm.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **tol, err_msg=k)
    with torch.no_grad():
        np.testing.assert_allclose(lm.log_prob(lamina.tensor(x)).detach().numpy(), tm.log_prob(torch.tensor(x)).numpy(),
                                   **tol)
        np.testing.assert_array_equal(lm.predict(lamina.tensor(x * 3)).numpy(), tm.predict(torch.tensor(x * 3)).numpy())
        # torch 2.13's log_prob fails on a 1-D input (its log_softmax runs before the unsqueeze): lamina's equals
        # the batched row
        np.testing.assert_allclose(lm.log_prob(lamina.tensor(x[0])).detach().numpy(),
                                   tm.log_prob(torch.tensor(x[:1])).numpy()[0], **tol)


def test_unbatched_matches_torch():
    lm, tm = _pair()
    x = np.random.default_rng(1).standard_normal(8)
    lo, to = lm(lamina.tensor(x), lamina.tensor(7)), tm(torch.tensor(x), torch.tensor(7))
    assert tuple(lo.output.shape) == tuple(to.output.shape) == ()
    np.testing.assert_allclose(lo.output.detach().numpy(), to.output.detach().numpy(), rtol=1e-12)


def test_gradcheck():
    lm, _ = _pair()
    x = lamina.tensor(np.random.default_rng(2).standard_normal((5, 8)), requires_grad=True)
    t = lamina.tensor(np.array([0, 4, 9, 2, 7]))  # rows of the shortlist and of both clusters
    assert gradcheck(lambda v: lm(v, t).output, (x,))


@pytest.mark.parametrize("kw, match", [({"cutoffs": []}, "cutoffs should be a sequence of length larger than 0"),
                                       ({"cutoffs": [6, 3]}, "cutoffs should be a sequence of unique"),
                                       ({"cutoffs": [3, 10]}, "cutoffs should be a sequence of unique"),
                                       ({"cutoffs": [3, 3]}, "cutoffs should be a sequence of unique")])
def test_bad_cutoffs_raise_as_torch(kw, match):
    args = {"in_features": 4, "n_classes": 10, **kw}
    with pytest.raises(ValueError, match=match):
        torch.nn.AdaptiveLogSoftmaxWithLoss(**args)
    with pytest.raises(ValueError, match=match):
        nn.AdaptiveLogSoftmaxWithLoss(**args)


@pytest.mark.parametrize("xs, ts, match", [((4, 8), (3,), "same size in the batch dimension"),
                                           ((4, 8), (4, 1), "0D or 1D target tensor expected"),
                                           ((4, 8), (), "0D target tensor expects 1D input"),
                                           ((4, 8), (4,), "Target values should be in")])
def test_bad_inputs_raise_as_torch(xs, ts, match):
    lm, tm = _pair()
    t = np.full(ts, 10 if match.startswith("Target") else 1)
    with pytest.raises(RuntimeError, match=match):
        tm(torch.zeros(xs, dtype=torch.float64), torch.tensor(t))
    with pytest.raises(RuntimeError, match=match):
        lm(lamina.zeros(xs, dtype=lamina.float64), lamina.tensor(t))


def test_nll_loss2d_warns_and_is_nll_loss():
    with pytest.warns(FutureWarning, match="`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead"):
        lm = nn.NLLLoss2d(ignore_index=1, reduction="sum")
    with pytest.warns(FutureWarning):
        tm = torch.nn.NLLLoss2d(ignore_index=1, reduction="sum")
    assert repr(lm) == repr(tm) and isinstance(lm, nn.NLLLoss)
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((2, 3, 4, 5)), rng.integers(0, 3, (2, 4, 5))
    np.testing.assert_allclose(lm(lamina.tensor(x), lamina.tensor(t)).numpy(),
                               tm(torch.tensor(x), torch.tensor(t)).numpy(), rtol=1e-12)
