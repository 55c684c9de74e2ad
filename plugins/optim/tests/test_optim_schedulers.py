"""Learning-rate schedules against PyTorch: the lr (and momentum) sequence over many steps."""

from __future__ import annotations

import math

import lamina
import lamina.optim as optim
import numpy as np
import pytest
from lamina.optim import lr_scheduler as L

torch = pytest.importorskip("torch")
T = torch.optim.lr_scheduler


def _two_groups(lib, opt_name="SGD", **kw):
    mod = torch if lib is torch else lamina
    a = mod.zeros(2, requires_grad=True)
    b = mod.zeros(3, requires_grad=True)
    cls = getattr(torch.optim if lib is torch else optim, opt_name)
    return cls([{"params": [a]}, {"params": [b], "lr": 0.05}], lr=0.1, **kw)


def _lam(epoch):
    return 0.95 ** epoch


def _mul(epoch):
    return 0.9 if epoch % 3 else 1.1


# name -> (optimizer name, optimizer kwargs, scheduler factory(sched module, optimizer))
CASES = {
    "LambdaLR": ("SGD", {}, lambda S, o: S.LambdaLR(o, _lam)),
    "LambdaLR-list": ("SGD", {}, lambda S, o: S.LambdaLR(o, [_lam, lambda e: 1 / (e + 1)])),
    "MultiplicativeLR": ("SGD", {}, lambda S, o: S.MultiplicativeLR(o, _mul)),
    "StepLR": ("SGD", {}, lambda S, o: S.StepLR(o, step_size=7, gamma=0.5)),
    "MultiStepLR": ("SGD", {}, lambda S, o: S.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3)),
    "ConstantLR": ("SGD", {}, lambda S, o: S.ConstantLR(o, factor=0.25, total_iters=8)),
    "LinearLR": ("SGD", {}, lambda S, o: S.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=17)),
    "LinearLR-down": ("SGD", {}, lambda S, o: S.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=9)),
    "ExponentialLR": ("SGD", {}, lambda S, o: S.ExponentialLR(o, gamma=0.93)),
    "PolynomialLR": ("SGD", {}, lambda S, o: S.PolynomialLR(o, total_iters=20, power=2.0)),
    "PolynomialLR-linear": ("SGD", {}, lambda S, o: S.PolynomialLR(o, total_iters=10)),
    "CosineAnnealingLR": ("SGD", {}, lambda S, o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "CosineAnnealingLR-0": ("SGD", {}, lambda S, o: S.CosineAnnealingLR(o, T_max=25)),
    "CosineAnnealingWarmRestarts": ("SGD", {}, lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=7, eta_min=1e-3)),
    "CosineAnnealingWarmRestarts-mult": ("SGD", {}, lambda S, o: S.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2)),
    "CyclicLR-triangular": ("SGD", {"momentum": 0.9},
                            lambda S, o: S.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=6)),
    "CyclicLR-triangular2": ("SGD", {"momentum": 0.9},
                             lambda S, o: S.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=4, step_size_down=7,
                                                     mode="triangular2")),
    "CyclicLR-exp_range": ("SGD", {}, lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range",
                                                              gamma=0.97, cycle_momentum=False)),
    "CyclicLR-adam-beta1": ("Adam", {}, lambda S, o: S.CyclicLR(o, 0.001, 0.01, step_size_up=5,
                                                                base_momentum=0.85, max_momentum=0.95)),
    "CyclicLR-scale_fn": ("SGD", {}, lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, cycle_momentum=False,
                                                             scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations")),
    "OneCycleLR-cos": ("SGD", {"momentum": 0.9}, lambda S, o: S.OneCycleLR(o, max_lr=0.5, total_steps=60)),
    "OneCycleLR-linear": ("SGD", {"momentum": 0.9},
                          lambda S, o: S.OneCycleLR(o, max_lr=[0.5, 1.0], epochs=6, steps_per_epoch=10,
                                                    anneal_strategy="linear", pct_start=0.25)),
    "OneCycleLR-three_phase": ("Adam", {}, lambda S, o: S.OneCycleLR(o, max_lr=0.01, total_steps=60,
                                                                     three_phase=True, div_factor=10.0,
                                                                     final_div_factor=100.0)),
    "OneCycleLR-no-momentum": ("SGD", {}, lambda S, o: S.OneCycleLR(o, max_lr=0.3, total_steps=60,
                                                                    cycle_momentum=False)),
    "SequentialLR": ("SGD", {}, lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, start_factor=0.1, total_iters=5), S.ExponentialLR(o, gamma=0.9),
            S.StepLR(o, step_size=4)], milestones=[5, 20])),
    "ChainedScheduler": ("SGD", {}, lambda S, o: S.ChainedScheduler(
        [S.ConstantLR(o, factor=0.5, total_iters=4), S.ExponentialLR(o, gamma=0.95)])),
}


def _trace(lib, key, steps=60):
    opt_name, okw, make = CASES[key]
    opt = _two_groups(lib, opt_name, **okw)
    sched = make(T if lib is torch else L, opt)
    lrs, moms = [], []
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append([float(g["lr"]) for g in opt.param_groups])
        moms.append([g["betas"][0] if "betas" in g else g.get("momentum", 0.0) for g in opt.param_groups])
    return np.array(lrs), np.array(moms), sched.get_last_lr()


@pytest.mark.parametrize("key", list(CASES))
def test_schedule_matches_torch(key):
    got_lr, got_m, last = _trace(lamina, key)
    want_lr, want_m, want_last = _trace(torch, key)
    np.testing.assert_allclose(got_lr, want_lr, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got_m, want_m, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(last, want_last, rtol=1e-12)


@pytest.mark.parametrize("key", ["StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
                                 "PolynomialLR", "CosineAnnealingLR"])
def test_closed_form_with_epoch_matches_torch(key):
    results = []
    for lib, S in ((lamina, L), (torch, T)):
        opt_name, okw, make = CASES[key]
        opt = _two_groups(lib, opt_name, **okw)
        sched = make(S, opt)
        seq = []
        for e in (3, 7, 1, 12, 20, 5):
            opt.step()
            with pytest.warns(UserWarning, match="epoch parameter"):
                sched.step(e)
            seq.append(sched.get_last_lr())
        results.append(np.array(seq))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_warm_restarts_fractional_epochs_match_torch():
    out = []
    for lib, S in ((lamina, L), (torch, T)):
        opt = _two_groups(lib)
        sched = S.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.01)
        seq = []
        for epoch in range(12):
            for i in range(5):
                opt.step()
                sched.step(epoch + i / 5)
                seq.append(sched.get_last_lr())
        out.append(np.array(seq))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)


PLATEAU = [dict(), dict(mode="max", factor=0.5, patience=2), dict(threshold_mode="abs", threshold=0.05, cooldown=3,
                                                                   patience=1, min_lr=[0.02, 0.001]),
           dict(mode="max", threshold_mode="abs", patience=0, min_lr=0.03, eps=1e-3)]


@pytest.mark.parametrize("kw", PLATEAU, ids=[str(k) for k in PLATEAU])
def test_reduce_on_plateau_matches_torch(kw):
    rng = np.random.default_rng(0)
    metrics = np.concatenate([np.linspace(1.0, 0.5, 10), 0.5 + 0.02 * rng.standard_normal(50)])
    out = []
    for lib, S in ((lamina, L), (torch, T)):
        opt = _two_groups(lib)
        sched = S.ReduceLROnPlateau(opt, **kw)
        seq = []
        for m in metrics:
            opt.step()
            sched.step(float(m))
            seq.append([g["lr"] for g in opt.param_groups] + [sched.num_bad_epochs, sched.cooldown_counter])
        out.append(np.array(seq))
    np.testing.assert_allclose(out[0], out[1], rtol=1e-12)
    assert out[0][-1, 0] < 0.1 or kw.get("mode") == "max"


@pytest.mark.parametrize("key", ["StepLR", "CosineAnnealingLR", "CyclicLR-triangular2", "OneCycleLR-cos",
                                 "SequentialLR", "ChainedScheduler", "LambdaLR", "CosineAnnealingWarmRestarts"])
def test_scheduler_state_dict_resumes(key):
    opt_name, okw, make = CASES[key]
    opt = _two_groups(lamina, opt_name, **okw)
    sched = make(L, opt)
    for _ in range(13):
        opt.step()
        sched.step()
    opt2 = _two_groups(lamina, opt_name, **okw)
    sched2 = make(L, opt2)
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    for _ in range(20):
        opt.step()
        sched.step()
        opt2.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()


ERRORS = [
    (lambda o: L.ConstantLR(o, factor=1.5), ValueError, "Constant multiplicative factor expected to be between"),
    (lambda o: L.LinearLR(o, start_factor=0), ValueError, "Starting multiplicative factor expected to be greater"),
    (lambda o: L.LinearLR(o, end_factor=1.5), ValueError, "Ending multiplicative factor expected to be between"),
    (lambda o: L.LambdaLR(o, [_lam]), ValueError, "Expected 2 lr_lambdas, but got 1"),
    (lambda o: L.MultiplicativeLR(o, 3), TypeError, "lr_lambda should be a function, but got int"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=0), ValueError, "Expected positive integer T_0, but got 0"),
    (lambda o: L.CosineAnnealingWarmRestarts(o, T_0=2, T_mult=0), ValueError, "Expected integer T_mult >= 1"),
    (lambda o: L.CyclicLR(o, 0.1, 1.0, mode="saw"), ValueError, "mode is invalid and scale_fn is None"),
    (lambda o: L.CyclicLR(o, [0.1], 1.0), ValueError, "base_lr must have the same length as optimizer.param_groups"),
    (lambda o: L.OneCycleLR(o, 0.1), ValueError, r"You must define either total_steps OR \(epochs AND steps_per_epoch"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=0), ValueError, "Expected positive integer total_steps, but got 0"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=10, pct_start=1.5), ValueError, "Expected float between 0 and 1"),
    (lambda o: L.OneCycleLR(o, 0.1, total_steps=10, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos' or 'linear'"),
    (lambda o: L.ReduceLROnPlateau(o, factor=1.0), ValueError, r"Factor should be < 1.0."),
    (lambda o: L.ReduceLROnPlateau(o, mode="up"), ValueError, "mode up is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, threshold_mode="x"), ValueError, "threshold mode x is unknown!"),
    (lambda o: L.ReduceLROnPlateau(o, min_lr=[0.1]), ValueError, "expected 2 min_lrs, got 1"),
    (lambda o: L.SequentialLR(o, [], []), ValueError, "SequentialLR expects at least one scheduler"),
    (lambda o: L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [1, 2]), ValueError,
     "expects number of schedulers provided to be one more than the number of milestone points"),
    (lambda o: L.ChainedScheduler([L.StepLR(o, 2), L.ReduceLROnPlateau(o)]), ValueError,
     "does not support `ReduceLROnPlateau`"),
    (lambda o: L.StepLR("sgd", 2), TypeError, "str is not an Optimizer"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_scheduler_errors(i):
    make, err, match = ERRORS[i]
    with pytest.raises(err, match=match):
        make(_two_groups(lamina))


def test_one_cycle_overrun_raises_and_cos_reaches_min():
    opt = _two_groups(lamina)
    sched = L.OneCycleLR(opt, max_lr=0.5, total_steps=10, cycle_momentum=False)
    for _ in range(9):
        opt.step()
        sched.step()
    assert math.isclose(opt.param_groups[0]["lr"], 0.5 / 25 / 1e4, rel_tol=1e-12)
    opt.step()
    with pytest.raises(ValueError, match="Tried to step 11 times. The specified number of total steps is 10"):
        sched.step()
        sched.step()


def test_scheduler_before_optimizer_warns():
    opt = _two_groups(lamina)
    sched = L.StepLR(opt, 3)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()
