"""Adafactor and Muon against PyTorch 2.13: 10-step trajectories on the same parameters and gradients
(float32 and float64, every option), state_dict keys and values, Muon's bfloat16 Newton-Schulz
iteration, hyperparameter errors with PyTorch's messages, and a resumed run equal to an uninterrupted one."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina_optim.adafactor import Adafactor
from lamina_optim.muon import Muon, to_bfloat16, zeropower_via_newtonschulz

torch = pytest.importorskip("torch")

DTYPES = ["float32", "float64"]


def _pair(shapes, dtype, seed):
    rng = np.random.default_rng(seed)
    ps = [rng.standard_normal(s) for s in shapes]
    lp = [lamina.tensor(p, dtype=getattr(lamina, dtype), requires_grad=True) for p in ps]
    tp = [torch.tensor(p, dtype=getattr(torch, dtype), requires_grad=True) for p in ps]
    return lp, tp, rng


def _run(cls_l, cls_t, shapes, dtype, cfg, steps=10, seed=0):
    lp, tp, rng = _pair(shapes, dtype, seed)
    ol, ot = cls_l(lp, **cfg), cls_t(tp, **cfg)
    history = []
    for _ in range(steps):
        for a, b in zip(lp, tp):
            g = rng.standard_normal(tuple(a.shape))
            a.grad = lamina.tensor(g, dtype=a.dtype)
            b.grad = torch.tensor(g, dtype=b.dtype)
        ol.step()
        ot.step()
        history.append([(a.detach().numpy().copy(), b.detach().numpy().copy()) for a, b in zip(lp, tp)])
    return ol, ot, lp, tp, history


ADAFACTOR_CFGS = [{}, {"lr": 0.1, "weight_decay": 0.1}, {"maximize": True, "d": 2.0, "beta2_decay": -0.5},
                  {"eps": (1e-3, 1e-2)}, {"eps": (None, 0.0), "lr": 0.5}]
SHAPES = [(3, 4), (5,), (2, 3, 4), (), (1, 6)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", ADAFACTOR_CFGS, ids=str)
def test_adafactor_trajectory_equals_torch(cfg, dtype):
    ol, ot, lp, tp, hist = _run(Adafactor, torch.optim.Adafactor, SHAPES, dtype, cfg)
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == "float64" else dict(rtol=2e-6, atol=2e-6)
    for step in hist:
        for a, b in step:
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, **tol)
    for a, b in zip(lp, tp):
        sl, st = ol.state[a], ot.state[b]
        assert list(sl) == list(st)
        for k in st:
            np.testing.assert_allclose(sl[k].numpy(), st[k].numpy(), **tol)
            assert tuple(sl[k].shape) == tuple(st[k].shape)
            assert str(sl[k].dtype).split(".")[1] == str(st[k].dtype).split(".")[1]


def test_adafactor_state_dict_layout_and_resume_bitwise():
    lp, tp, rng = _pair([(3, 4), (4,)], "float32", 1)
    opt = Adafactor(lp, lr=0.05)
    grads = [[rng.standard_normal(tuple(p.shape)) for p in lp] for _ in range(6)]

    def feed(params, k):
        for p, g in zip(params, grads[k]):
            p.grad = lamina.tensor(g, dtype=p.dtype)

    for k in range(3):
        feed(lp, k)
        opt.step()
    sd = opt.state_dict()
    t_opt = torch.optim.Adafactor(tp, lr=0.05)
    t_sd = t_opt.state_dict()
    assert sd["param_groups"][0].keys() == t_sd["param_groups"][0].keys()
    assert sorted(sd["state"][0]) == ["col_var", "row_var", "step"] and sorted(sd["state"][1]) == ["step", "variance"]
    clone = [lamina.tensor(p.detach().numpy(), requires_grad=True) for p in lp]
    opt2 = Adafactor(clone, lr=0.05)
    opt2.load_state_dict(sd)
    for k in range(3, 6):
        feed(lp, k)
        feed(clone, k)
        opt.step()
        opt2.step()
    for a, b in zip(lp, clone):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())


def test_adafactor_eps1_none_uses_first_param_dtype_eps():
    """eps1=None becomes finfo(dtype).eps of the first parameter with a gradient, as in PyTorch: a zero gradient
    hits the eps1^2 clamp, so the step is visible."""
    for dtype in ("float32", "float64"):
        la = lamina.zeros(4, dtype=getattr(lamina, dtype), requires_grad=True)
        ta = torch.zeros(4, dtype=getattr(torch, dtype), requires_grad=True)
        la.grad = lamina.tensor([1e-30, 0.0, -1e-30, 1.0], dtype=la.dtype)
        ta.grad = torch.tensor([1e-30, 0.0, -1e-30, 1.0], dtype=ta.dtype)
        Adafactor([la]).step()
        torch.optim.Adafactor([ta]).step()
        np.testing.assert_allclose(la.detach().numpy(), ta.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize(("kw", "match"), [
    ({"lr": -1.0}, "Learning rate should be >= 0 but is: -1.0"),
    ({"beta2_decay": 0.1}, "beta2_decay should be <= 0 but is: 0.1"),
    ({"eps": (-1.0, 1e-3)}, "epsilon1 should be >= 0 but is: -1.0"),
    ({"eps": (None, -2.0)}, "epsilon2 should be >= 0 but is: -2.0"),
    ({"d": 0.0}, "Clipping threshold d should be >= 1 but is: 0.0"),
    ({"weight_decay": -0.5}, "weight_decay should be >= 0 but is: -0.5"),
])
def test_adafactor_errors_as_torch(kw, match):
    with pytest.raises(ValueError) as t_err:
        torch.optim.Adafactor([torch.zeros(2, requires_grad=True)], **kw)
    with pytest.raises(ValueError) as l_err:
        Adafactor([lamina.zeros(2, requires_grad=True)], **kw)
    assert str(l_err.value) == str(t_err.value) == match


def test_adafactor_tensor_lr_and_defaults():
    opt = Adafactor([lamina.zeros(2, requires_grad=True)])
    t = torch.optim.Adafactor([torch.zeros(2, requires_grad=True)])
    assert opt.defaults == t.defaults
    with pytest.raises(ValueError, match="Tensor lr must be 1-element"):
        Adafactor([lamina.zeros(2, requires_grad=True)], lr=lamina.ones(2))


# --- Muon ------------------------------------------------------------------------------------------------
def test_bfloat16_rounding_equals_torch():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-30, 30, 5000),
                        [0.0, -0.0, np.inf, -np.inf, 1.00390625, 1.01171875, 3.4e38]])
    for dtype in (np.float32, np.float64):
        a = x.astype(dtype)
        ours = to_bfloat16(np, a)
        theirs = torch.tensor(a).bfloat16().float().numpy()
        assert np.array_equal(ours, theirs)
    assert np.isnan(to_bfloat16(np, np.array([np.nan], dtype=np.float32)))[0]


@pytest.mark.parametrize("shape", [(4, 4), (3, 7), (9, 2), (1, 5)])
def test_newton_schulz_equals_torch(shape):
    from torch.optim._muon import _zeropower_via_newtonschulz

    g = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    ours = zeropower_via_newtonschulz(np, g, (3.4445, -4.7750, 2.0315), 5, 1e-7)
    theirs = _zeropower_via_newtonschulz(torch.tensor(g), (3.4445, -4.7750, 2.0315), 5, 1e-7).float().numpy()
    assert ours.shape == theirs.shape
    # each product rounds once to bfloat16 as torch's does; a float32 sum order may flip a tie: at most one bf16 ulp
    np.testing.assert_allclose(ours, theirs, rtol=2**-7, atol=1e-6)
    assert np.mean(ours == theirs) > 0.95


MUON_CFGS = [{}, {"lr": 0.02, "nesterov": False}, {"adjust_lr_fn": "match_rms_adamw", "momentum": 0.5},
             {"lr": 0.05, "weight_decay": 0.0, "ns_steps": 3, "adjust_lr_fn": "original"}]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cfg", MUON_CFGS, ids=str)
def test_muon_trajectory_equals_torch(cfg, dtype):
    ol, ot, lp, tp, hist = _run(Muon, torch.optim.Muon, [(3, 4), (6, 2), (5, 5)], dtype, cfg)
    lr = cfg.get("lr", 1e-3)
    # the update is bfloat16: where a float32 sum order flips a rounding tie, an entry moves by one bf16 ulp
    # (2^-7 at magnitude ~1) times the adjusted lr; the rest agree to round-off
    exact = 0
    for step in hist:
        for a, b in step:
            assert a.dtype == b.dtype
            np.testing.assert_allclose(a, b, rtol=0, atol=lr * 2 ** -4)
            exact += np.mean(np.abs(a - b) <= (1e-13 if dtype == "float64" else 1e-6))
    assert exact / (len(hist) * 3) > 0.9
    for a, b in zip(lp, tp):
        assert list(ol.state[a]) == list(ot.state[b]) == ["momentum_buffer"]
        np.testing.assert_allclose(ol.state[a]["momentum_buffer"].numpy(), ot.state[b]["momentum_buffer"].numpy(),
                                   rtol=1e-6, atol=1e-7)
    assert ol.state_dict()["param_groups"][0].keys() == ot.state_dict()["param_groups"][0].keys()


def test_muon_defaults_and_errors_as_torch():
    la, ta = lamina.zeros(2, 3, requires_grad=True), torch.zeros(2, 3, requires_grad=True)
    assert Muon([la]).defaults == torch.optim.Muon([ta]).defaults
    cases = [({"lr": -1.0}, None), ({"momentum": -0.5}, None), ({"weight_decay": -0.1}, None),
             ({"adjust_lr_fn": "sqrt"}, None)]
    for kw, _ in cases:
        with pytest.raises(ValueError) as t_err:
            torch.optim.Muon([ta], **kw)
        with pytest.raises(ValueError) as l_err:
            Muon([la], **kw)
        assert str(l_err.value) == str(t_err.value)
    with pytest.raises(ValueError, match=r"Muon only supports 2D parameters whereas we found a parameter with size: "
                                         r"lamina.Size\(\[5\]\)"):
        Muon([lamina.zeros(5, requires_grad=True)])
    opt = Muon([la], ns_steps=100)
    la.grad = lamina.ones(2, 3)
    with pytest.raises(ValueError, match="Number of steps must be less than 100"):
        opt.step()


def test_muon_skips_params_without_grad_and_maximizes_quadratic():
    a = lamina.tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    b = lamina.zeros(3, 3, requires_grad=True)
    opt = Muon([a, b], lr=0.05)
    start = float(((a - 1.5) ** 2).sum())
    for _ in range(30):
        opt.zero_grad()
        ((a - 1.5) ** 2).sum().backward()
        b.grad = None
        opt.step()
    assert float(((a - 1.5) ** 2).sum()) < start
    assert b not in opt.state and float(b.abs().sum()) == 0.0
