"""lamina.optim.lr_scheduler.LRScheduler: a tiny scheduler on lamina's base and on PyTorch's, side by side."""

from __future__ import annotations

import lamina
import pytest
from lamina import optim
from lamina.optim.lr_scheduler import LRScheduler, _LRScheduler, _warn_get_lr_called_within_step
from lamina.optim.optimizer import Optimizer


class Plain(Optimizer):
    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        return None


def halving_body(base, warn):
    """A scheduler class on ``base``: halve every ``period`` epochs (chainable + closed form)."""

    class HalveEvery(base):
        def __init__(self, optimizer, period=2, last_epoch=-1):
            self.period = period
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            warn(self)
            if self.last_epoch == 0 or self.last_epoch % self.period:
                return [g["lr"] for g in self.optimizer.param_groups]
            return [g["lr"] * 0.5 for g in self.optimizer.param_groups]

        def _get_closed_form_lr(self):
            return [b * 0.5 ** (self.last_epoch // self.period) for b in self.base_lrs]

    return HalveEvery


HalveEvery = halving_body(LRScheduler, _warn_get_lr_called_within_step)


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def torch_halve(torch):
    import torch.optim.lr_scheduler as tsched

    return halving_body(tsched.LRScheduler, tsched._warn_get_lr_called_within_step)


def two_groups(lib):
    a, b = lib.zeros(2, requires_grad=True), lib.zeros(3, requires_grad=True)
    return [{"params": [a]}, {"params": [b], "lr": 0.4}]


def run(opt, sched, steps):
    lrs = [sched.get_last_lr()]
    for _ in range(steps):
        opt.step()
        sched.step()
        lrs.append(sched.get_last_lr())
    return lrs


def test_lr_sequence_matches_pytorch(torch):
    lo = Plain(two_groups(lamina), lr=0.1)
    to = torch.optim.SGD(two_groups(torch), lr=0.1)
    ls, ts = HalveEvery(lo, period=3), torch_halve(torch)(to, period=3)
    got, expected = run(lo, ls, 8), run(to, ts, 8)
    assert got == expected
    assert got[0] == [0.1, 0.4] and got[3] == [0.05, 0.2]
    assert [g["lr"] for g in lo.param_groups] == [g["lr"] for g in to.param_groups]
    assert [g["initial_lr"] for g in lo.param_groups] == [g["initial_lr"] for g in to.param_groups] == [0.1, 0.4]
    assert ls.base_lrs == ts.base_lrs and ls.last_epoch == ts.last_epoch == 8
    assert ls._step_count == ts._step_count


def test_state_dict_keys_match_pytorch_and_roundtrip(torch):
    lo = Plain(two_groups(lamina), lr=0.1)
    to = torch.optim.SGD(two_groups(torch), lr=0.1)
    ls, ts = HalveEvery(lo), torch_halve(torch)(to)
    run(lo, ls, 3)
    run(to, ts, 3)
    sd = ls.state_dict()
    assert set(sd) == set(ts.state_dict())
    assert "optimizer" not in sd and sd["last_epoch"] == 3
    fresh_opt = Plain(two_groups(lamina), lr=0.1)
    fresh = HalveEvery(fresh_opt, period=5)
    fresh.load_state_dict(sd)
    assert fresh.period == 2 and fresh.last_epoch == 3 and fresh.get_last_lr() == ls.get_last_lr()


def test_resume_needs_initial_lr(torch):
    with pytest.raises(KeyError) as expected:
        torch_halve(torch)(torch.optim.SGD(two_groups(torch), lr=0.1), last_epoch=3)
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        HalveEvery(Plain(two_groups(lamina)), last_epoch=3)
    assert "initial_lr" in str(expected.value)


def test_resume_with_initial_lr_continues():
    opt = Plain(two_groups(lamina), lr=0.1)
    for g in opt.param_groups:
        g["initial_lr"] = 1.0
    sched = HalveEvery(opt, last_epoch=3)
    assert sched.base_lrs == [1.0, 1.0] and sched.last_epoch == 4
    assert sched.get_last_lr() == [0.05, 0.2]  # epoch 4 halves the current lrs


def test_scheduler_before_optimizer_warns_like_pytorch(torch):
    to = torch.optim.SGD(two_groups(torch), lr=0.1)
    ts = torch_halve(torch)(to)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        ts.step()
    lo = Plain(two_groups(lamina))
    ls = HalveEvery(lo)
    with pytest.warns(UserWarning, match=r"lr_scheduler.step\(\)` before `optimizer.step\(\)"):
        ls.step()
    ls.step()  # warns once only (filterwarnings=error would fail here otherwise)


def test_normal_order_does_not_warn():
    opt = Plain(two_groups(lamina))
    sched = HalveEvery(opt)
    run(opt, sched, 3)  # a warning would be an error under filterwarnings=error


def test_step_with_epoch_uses_closed_form_and_warns(torch):
    opt = Plain(two_groups(lamina), lr=0.1)
    sched = HalveEvery(opt, period=2)
    to = torch.optim.SGD(two_groups(torch), lr=0.1)
    ts = torch_halve(torch)(to, period=2)
    opt.step()
    to.step()
    with pytest.warns(UserWarning, match="epoch parameter"):
        sched.step(5)
    with pytest.warns(UserWarning, match="epoch parameter"):
        ts.step(5)
    assert sched.get_last_lr() == ts.get_last_lr() == [0.1 * 0.25, 0.4 * 0.25]
    assert sched.last_epoch == 5


def test_get_lr_outside_step_warns():
    sched = HalveEvery(Plain(two_groups(lamina)))
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_tensor_lr_is_filled_in_place():
    opt = Plain([lamina.zeros(2, requires_grad=True)], lr=lamina.tensor(0.8))
    lr = opt.param_groups[0]["lr"]
    sched = HalveEvery(opt, period=1)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(0.4)
    last = sched.get_last_lr()[0]
    assert last is not lr and last.item() == pytest.approx(0.4)
    assert opt.param_groups[0]["initial_lr"] is not lr


def test_rejects_non_optimizers_and_wrong_lengths():
    with pytest.raises(TypeError, match="is not an Optimizer"):
        HalveEvery(object())

    class Bad(LRScheduler):
        def get_lr(self):
            return [0.1]

    with pytest.raises(ValueError, match="expected one learning rate per parameter group"):
        Bad(Plain(two_groups(lamina)))

    class Abstract(LRScheduler):
        pass

    with pytest.raises(NotImplementedError):
        Abstract(Plain(two_groups(lamina)))


def test_alias_and_lazy_namespace():
    assert _LRScheduler is LRScheduler
    assert "LRScheduler" in dir(optim.lr_scheduler)
    lamina.plugins.register("lamina.lr_scheduler", "HalveEvery", HalveEvery)
    try:
        assert optim.lr_scheduler.HalveEvery is HalveEvery
        assert "HalveEvery" in dir(optim.lr_scheduler)
    finally:
        lamina.plugins.unregister("lamina.lr_scheduler", "HalveEvery")
    with pytest.raises(lamina.PluginNotFoundError, match="NoSuchScheduler"):
        optim.lr_scheduler.NoSuchScheduler  # noqa: B018
