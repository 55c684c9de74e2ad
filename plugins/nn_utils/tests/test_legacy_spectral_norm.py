"""lamina.nn.utils.spectral_norm (the legacy hook-based spectral norm) against torch.nn.utils.spectral_norm:
same weights and the same u/v (torch draws them with normal_, so lamina's are set from torch's), then
state_dict keys, values and metadata, power iteration in training mode only, gradients, the version-0
state-dict loader, errors and remove round trips."""

from __future__ import annotations

import importlib

import lamina
import numpy as np
import pytest
import torch
from lamina.testing import gradcheck

# the modules (``import torch.nn.utils.spectral_norm as m`` gives the function of that name, in both)
LS = importlib.import_module("lamina.nn.utils.spectral_norm")
TS = importlib.import_module("torch.nn.utils.spectral_norm")


def _np(t):
    return np.asarray(t.detach().numpy())


def _close(a, b, tol=1e-12):
    assert tuple(a.shape) == tuple(b.shape)
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


def _apply(lm, tm, name="weight", **kw):
    assert LS.spectral_norm(lm, name, **kw) is lm
    TS.spectral_norm(tm, name, **kw)
    for suffix in ("_u", "_v"):  # torch's random start, in both
        with lamina.no_grad():
            getattr(lm, name + suffix).copy_(lamina.tensor(_np(getattr(tm, name + suffix))))


def _same_state(lm, tm, tol=1e-12):
    lsd, tsd = lm.state_dict(), tm.state_dict()
    assert list(lsd) == list(tsd)
    for k in tsd:
        _close(lsd[k], tsd[k], tol)
    assert dict(lsd._metadata) == dict(tsd._metadata)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-11), ("float32", 3e-5)])
@pytest.mark.parametrize("n_iter", [1, 3])
@pytest.mark.parametrize("kind,args,kw,xshape", [
    ("Linear", (3, 4), {}, (2, 3)),
    ("Linear", (3, 4), {"dim": 1, "eps": 1e-3}, (2, 3)),
    ("Conv2d", (2, 3, 2), {}, (2, 2, 4, 4)),
    ("ConvTranspose2d", (2, 3, 2), {}, (1, 2, 3, 3)),  # dim=1 by default
    ("ConvTranspose1d", (2, 3, 2), {"dim": 0}, (1, 2, 3)),
])
def test_training_and_eval_match_torch(kind, args, kw, xshape, n_iter, dtype, tol):
    lm, tm = _pair(kind, args, dtype)
    _apply(lm, tm, n_power_iterations=n_iter, **kw)
    (hook,), (torch_hook,) = lm._forward_pre_hooks.values(), tm._forward_pre_hooks.values()
    assert isinstance(hook, LS.SpectralNorm)
    assert (hook.dim, hook.n_power_iterations, hook.eps) == (torch_hook.dim, n_iter, kw.get("eps", 1e-12))
    _same_state(lm, tm)
    assert not isinstance(lm.weight, lamina.nn.Parameter)
    _close(lm.weight, tm.weight)  # the raw weight until the first forward, as torch
    u_buffer = lm.weight_u
    x = np.random.default_rng(1).standard_normal(xshape)
    lt, tt = getattr(lamina, dtype), getattr(torch, dtype)
    for _ in range(2):  # each training call runs n_iter steps on u and v, in place
        lo, to = lm(lamina.tensor(x, dtype=lt)), tm(torch.tensor(x, dtype=tt))
        _close(lo, to, tol)
        (lo * lo).sum().backward()
        (to * to).sum().backward()
        for lp, tp in zip(lm.parameters(), tm.parameters(), strict=True):
            _close(lp.grad, tp.grad, 20 * tol)
        assert lm.weight_u is u_buffer
        _same_state(lm, tm, tol)
    lm.eval()
    tm.eval()
    u_before = _np(lm.weight_u).copy()
    _close(lm(lamina.tensor(x, dtype=lt)), tm(torch.tensor(x, dtype=tt)), tol)
    np.testing.assert_array_equal(_np(lm.weight_u), u_before)  # eval: no power iteration
    _close(lm.weight, tm.weight, tol)


def test_two_forwards_then_backward_of_the_first():
    # the weight's graph keeps copies of u and v: the second call's in-place update must not change them
    lm, tm = _pair("Linear", (3, 4))
    _apply(lm, tm, n_power_iterations=2)
    x = np.random.default_rng(6).standard_normal((2, 3))
    lo1, to1 = lm(lamina.tensor(x)), tm(torch.tensor(x))
    lo2, to2 = lm(lamina.tensor(x)), tm(torch.tensor(x))
    (lo1 * lo1).sum().backward()
    (to1 * to1).sum().backward()
    _close(lm.weight_orig.grad, tm.weight_orig.grad, 1e-11)
    _close(lo2, to2, 1e-11)


def test_gradcheck_eval_weight():
    conv = lamina.nn.Conv2d(2, 3, 2, dtype=lamina.float64)
    fn = LS.SpectralNorm.apply(conv, "weight", 2, 0, 1e-12)
    u, v = conv.weight_u, conv.weight_v

    def weight(w):
        holder = lamina.nn.Module()
        holder.weight_orig = w
        holder.register_buffer("weight_u", u)
        holder.register_buffer("weight_v", v)
        return fn.compute_weight(holder, do_power_iteration=False)

    assert gradcheck(weight, (conv.weight_orig.detach().clone().requires_grad_(),))


def test_state_dict_round_trip_and_nested_metadata():
    seq_l = lamina.nn.Sequential(lamina.nn.Linear(3, 4, dtype=lamina.float64), lamina.nn.ReLU())
    seq_t = torch.nn.Sequential(torch.nn.Linear(3, 4, dtype=torch.float64), torch.nn.ReLU())
    _apply(seq_l[0], seq_t[0])
    seq_l(lamina.ones(2, 3, dtype=lamina.float64))
    seq_t(torch.ones(2, 3, dtype=torch.float64))
    sd = seq_l.state_dict()
    assert list(sd) == list(seq_t.state_dict()) == ["0.bias", "0.weight_orig", "0.weight_u", "0.weight_v"]
    assert sd._metadata["0"]["spectral_norm"] == seq_t.state_dict()._metadata["0"]["spectral_norm"] \
        == {"weight.version": 1}
    fresh = lamina.nn.Sequential(lamina.nn.Linear(3, 4, dtype=lamina.float64), lamina.nn.ReLU())
    LS.spectral_norm(fresh[0])
    assert str(fresh.load_state_dict(sd)) == "<All keys matched successfully>"
    fresh.eval()
    seq_l.eval()
    _close(fresh(lamina.ones(1, 3, dtype=lamina.float64)), seq_l(lamina.ones(1, 3, dtype=lamina.float64)))
    sd_plain = dict(sd)  # no metadata at all: the current keys load as they are
    LS.spectral_norm(again := lamina.nn.Linear(3, 4, dtype=lamina.float64))
    again.load_state_dict({k[2:]: v for k, v in sd_plain.items()})
    _close(again.weight_v, seq_l[0].weight_v)


def test_version_0_state_dict_solves_v_as_torch():
    lm, tm = _pair("Linear", (3, 5))
    _apply(lm, tm)
    lm(lamina.ones(1, 3, dtype=lamina.float64))
    tm(torch.ones(1, 3, dtype=torch.float64))
    lsd, tsd = lm.state_dict(), tm.state_dict()
    for sd, m in ((lsd, lm), (tsd, tm)):  # a first-version checkpoint: the weight saved, no version recorded
        sd["weight"] = m.weight.detach().clone()
        del sd._metadata[""]["spectral_norm"]
        del sd["weight_v"]
    l2, t2 = _pair("Linear", (3, 5), seed=4)
    _apply(l2, t2)
    assert str(l2.load_state_dict(lsd)) == str(t2.load_state_dict(tsd)) == "<All keys matched successfully>"
    _close(l2.weight_v, t2.weight_v, 1e-10)
    _close(l2.weight_orig, t2.weight_orig)
    # missing keys of such a checkpoint are reported, as torch reports them
    for sd in (lsd, tsd):
        del sd["weight_u"]
    l3, t3 = _pair("Linear", (3, 5), seed=5)
    _apply(l3, t3)
    with pytest.raises(RuntimeError) as le:
        l3.load_state_dict(lsd)
    with pytest.raises(RuntimeError) as te:
        t3.load_state_dict(tsd)
    assert '"weight_u"' in str(le.value) and '"weight_u"' in str(te.value)


def test_remove_round_trip():
    lm, tm = _pair("Conv2d", (2, 3, 2))
    _apply(lm, tm, n_power_iterations=2)
    x = np.random.default_rng(2).standard_normal((1, 2, 3, 3))
    lm(lamina.tensor(x))
    tm(torch.tensor(x))
    assert LS.remove_spectral_norm(lm) is lm
    TS.remove_spectral_norm(tm)
    assert isinstance(lm.weight, lamina.nn.Parameter) and lm.weight.requires_grad and lm.weight.is_leaf
    assert list(lm.state_dict()) == list(tm.state_dict()) == ["bias", "weight"]
    _close(lm.weight, tm.weight)
    assert "spectral_norm" not in lm.state_dict()._metadata[""]
    assert not lm._forward_pre_hooks and not lm._state_dict_hooks and not lm._load_state_dict_pre_hooks
    assert str(lm.load_state_dict(lm.state_dict())) == "<All keys matched successfully>"  # torch's fails here
    _close(lm(lamina.tensor(x)), tm(torch.tensor(x)))
    _apply(lm, tm)  # again after removal
    assert list(lm.state_dict()) == list(tm.state_dict())


def test_errors_match_torch():
    lm, tm = _pair("Linear", (3, 4))
    _apply(lm, tm)
    for mod, sn in ((lm, LS), (tm, TS)):
        with pytest.raises(RuntimeError, match="^Cannot register two spectral_norm hooks on the same parameter "
                                               "weight$"):
            sn.spectral_norm(mod)
        with pytest.raises(ValueError, match="^spectral_norm of 'bias' not found in Linear"):
            sn.remove_spectral_norm(mod, "bias")
    nobias_l, nobias_t = lamina.nn.Linear(2, 2, bias=False), torch.nn.Linear(2, 2, bias=False)
    for mod, sn in ((nobias_l, LS), (nobias_t, TS)):
        with pytest.raises(ValueError, match="^Expected n_power_iterations to be positive, but got "
                                             "n_power_iterations=0$"):
            sn.spectral_norm(mod, n_power_iterations=0)
        with pytest.raises(ValueError, match=r"^`SpectralNorm` cannot be applied as parameter `bias` is None$"):
            sn.spectral_norm(mod, "bias")
        with pytest.raises(KeyError, match="foo"):
            sn.spectral_norm(mod, "foo")
        with pytest.raises(ValueError, match="^spectral_norm of 'weight' not found in Linear"):
            sn.remove_spectral_norm(mod)
    with pytest.raises(ValueError, match="^The module passed to `SpectralNorm` can't have uninitialized parameters"):
        LS.spectral_norm(lamina.nn.LazyLinear(3))
    assert str(pytest.raises(RuntimeError, LS.SpectralNormStateDictHook(LS.SpectralNorm()), None, {}, "",
                             {"spectral_norm": {"weight.version": 1}}).value) \
        == "Unexpected key in metadata['spectral_norm']: weight.version"
