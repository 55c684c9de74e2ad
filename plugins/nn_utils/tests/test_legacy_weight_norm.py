"""lamina.nn.utils.weight_norm (the legacy hook-based weight norm) against torch.nn.utils.weight_norm: same
weights, then state_dict keys and values, the recomputed weight, gradients of g, v and bias, the
FutureWarning, errors, and remove round trips."""

from __future__ import annotations

import importlib

import lamina
import lamina.nn.utils.parametrizations as LZ
import numpy as np
import pytest
import torch
from lamina.testing import gradcheck, gradgradcheck

# the modules (``import torch.nn.utils.weight_norm as m`` gives the function of that name, in both)
LW = importlib.import_module("lamina.nn.utils.weight_norm")
TW = importlib.import_module("torch.nn.utils.weight_norm")

WARNING = (r"^`torch\.nn\.utils\.weight_norm` is deprecated in favor of "
           r"`torch\.nn\.utils\.parametrizations\.weight_norm`\.$")


def _np(t):
    return np.asarray(t.detach().numpy())


def _close(a, b, tol=1e-12):
    assert a.shape == b.shape
    np.testing.assert_allclose(_np(a), _np(b), rtol=tol, atol=tol)


def _pair(kind, args, dtype="float64", seed=0):
    lm = getattr(lamina.nn, kind)(*args, dtype=getattr(lamina, dtype))
    tm = getattr(torch.nn, kind)(*args, dtype=getattr(torch, dtype))
    rng = np.random.default_rng(seed)
    for lp, tp in zip(lm.parameters(), tm.parameters(), strict=True):
        v = rng.standard_normal(tuple(tp.shape))
        with lamina.no_grad():
            lp.copy_(lamina.tensor(v))
        with torch.no_grad():
            tp.copy_(torch.tensor(v))
    return lm, tm


def _apply(lm, tm, **kw):
    with pytest.warns(FutureWarning, match=WARNING):
        assert LW.weight_norm(lm, **kw) is lm
    with pytest.warns(FutureWarning, match=WARNING):
        TW.weight_norm(tm, **kw)


def _same_state(lm, tm, tol=1e-12):
    lsd, tsd = lm.state_dict(), tm.state_dict()
    assert list(lsd) == list(tsd)
    for k in tsd:
        assert str(lsd[k].dtype).rpartition(".")[2] == str(tsd[k].dtype).rpartition(".")[2]
        _close(lsd[k], tsd[k], tol)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 2e-6)])
@pytest.mark.parametrize("dim", [0, 1, -1, -2, None])
@pytest.mark.parametrize("kind,args,xshape", [("Linear", (3, 4), (2, 3)), ("Conv1d", (2, 3, 2), (2, 2, 5))])
def test_values_state_dict_and_gradients(kind, args, xshape, dim, dtype, tol):
    lm, tm = _pair(kind, args, dtype)
    _apply(lm, tm, dim=dim)
    _same_state(lm, tm, tol)
    assert "weight" not in dict(lm.named_parameters())
    assert not isinstance(lm.weight, lamina.nn.Parameter)
    _close(lm.weight, tm.weight, tol)
    assert repr(lm) == repr(tm)
    x = np.random.default_rng(1).standard_normal(xshape)
    for step in range(2):  # the pre-hook recomputes the weight from g and v at every call
        lo = lm(lamina.tensor(x, dtype=getattr(lamina, dtype)))
        to = tm(torch.tensor(x, dtype=getattr(torch, dtype)))
        _close(lo, to, 10 * tol)
        (lo.tanh() * 2).sum().backward()
        (to.tanh() * 2).sum().backward()
        for lp, tp in zip(lm.parameters(), tm.parameters(), strict=True):
            _close(lp.grad, tp.grad, 10 * tol)
        with lamina.no_grad():
            for p in lm.parameters():
                p.sub_(0.1 * p.grad)
                p.grad = None
        with torch.no_grad():
            for p in tm.parameters():
                p.sub_(0.1 * p.grad)
                p.grad = None
        assert step == 0 or not np.allclose(_np(lm.weight), _np(lm.weight_v))


@pytest.mark.parametrize("dim", [0, 2, None])
def test_gradcheck_compute_weight(dim):
    conv = lamina.nn.Conv2d(2, 3, 2, dtype=lamina.float64)
    with pytest.warns(FutureWarning, match=WARNING):
        fn = LW.WeightNorm.apply(conv, "weight", dim)
    g0 = conv.weight_g.detach().clone()
    v0 = conv.weight_v.detach().clone()

    def weight(g, v):
        holder = lamina.nn.Module()
        holder.weight_g, holder.weight_v = g, v
        return fn.compute_weight(holder)

    args = (g0.abs().add(0.5).requires_grad_(), v0.requires_grad_())
    assert gradcheck(weight, args)
    assert gradgradcheck(weight, args)


def test_other_name_and_module_with_children():
    lm, tm = _pair("GRU", (3, 4))
    _apply(lm, tm, name="weight_hh_l0", dim=0)
    _same_state(lm, tm)
    _close(lm.weight_hh_l0, tm.weight_hh_l0)
    x = np.random.default_rng(2).standard_normal((5, 2, 3))
    _close(lm(lamina.tensor(x))[0], tm(torch.tensor(x))[0], 1e-11)
    seq_l = lamina.nn.Sequential(lamina.nn.Linear(3, 4, dtype=lamina.float64))
    seq_t = torch.nn.Sequential(torch.nn.Linear(3, 4, dtype=torch.float64))
    _apply(seq_l[0], seq_t[0])
    assert list(seq_l.state_dict()) == list(seq_t.state_dict()) == ["0.bias", "0.weight_g", "0.weight_v"]


def test_remove_round_trip():
    lm, tm = _pair("Conv1d", (2, 3, 2))
    _apply(lm, tm)
    with lamina.no_grad():
        lm.weight_g.mul_(3.0)
    with torch.no_grad():
        tm.weight_g.mul_(3.0)
    assert LW.remove_weight_norm(lm) is lm
    TW.remove_weight_norm(tm)
    assert isinstance(lm.weight, lamina.nn.Parameter) and lm.weight.requires_grad
    _same_state(lm, tm)
    assert list(lm.state_dict()) == ["bias", "weight"]
    assert not lm._forward_pre_hooks
    x = lamina.tensor(np.random.default_rng(3).standard_normal((1, 2, 4)))
    _close(lm(x), tm(torch.tensor(x.numpy())))
    # applied again after removal, it starts from the scaled weight
    _apply(lm, tm, dim=None)
    _same_state(lm, tm)


def test_errors_match_torch():
    lm, tm = _pair("Linear", (3, 4))
    _apply(lm, tm)
    for mod, wn in ((lm, LW), (tm, TW)):
        with pytest.warns(FutureWarning, match=WARNING), \
                pytest.raises(RuntimeError, match="^Cannot register two weight_norm hooks on the same parameter "
                                                  "weight$"):
            wn.weight_norm(mod)
    with pytest.raises(ValueError) as le:
        LW.remove_weight_norm(lm, "bias")
    with pytest.raises(ValueError) as te:
        TW.remove_weight_norm(tm, "bias")
    assert str(le.value) == str(te.value) \
        == "weight_norm of 'bias' not found in Linear(in_features=3, out_features=4, bias=True)"
    plain_l, plain_t = _pair("Linear", (2, 2))
    with pytest.raises(ValueError, match="^weight_norm of 'weight' not found in Linear"):
        LW.remove_weight_norm(plain_l)
    with pytest.raises(ValueError, match="^weight_norm of 'weight' not found in Linear"):
        TW.remove_weight_norm(plain_t)
    with pytest.warns(FutureWarning, match=WARNING), pytest.raises(AttributeError, match="has no attribute 'foo'"):
        LW.weight_norm(plain_l, "foo")
    with pytest.warns(FutureWarning, match=WARNING), pytest.raises(AttributeError, match="has no attribute 'foo'"):
        TW.weight_norm(plain_t, "foo")


def test_uninitialized_parameter():
    lazy = lamina.nn.LazyLinear(3)
    with pytest.warns(FutureWarning, match=WARNING), \
            pytest.raises(ValueError, match="^The module passed to `WeightNorm` can't have uninitialized parameters"):
        LW.weight_norm(lazy)


def test_state_dict_loads_into_legacy_and_parametrized_modules():
    lm, tm = _pair("Linear", (3, 4))
    _apply(lm, tm)
    with lamina.no_grad():
        lm.weight_v.mul_(-2.0)
        lm.weight_g.add_(1.0)
    sd = lm.state_dict()
    other, _ = _pair("Linear", (3, 4), seed=7)
    with pytest.warns(FutureWarning, match=WARNING):
        LW.weight_norm(other)
    assert str(other.load_state_dict(sd)) == "<All keys matched successfully>"
    other(lamina.zeros(1, 3, dtype=lamina.float64))  # the hook recomputes the weight from the loaded g, v
    lm(lamina.zeros(1, 3, dtype=lamina.float64))
    _close(other.weight, lm.weight)
    modern, _ = _pair("Linear", (3, 4), seed=8)
    LZ.weight_norm(modern)
    modern.load_state_dict(sd)  # the parametrization reads the legacy keys
    _close(modern.weight, lm.weight)
