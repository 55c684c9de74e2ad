"""lamina.optim.swa_utils against torch.optim.swa_utils: averaged parameters after N updates, state_dict keys
and values, SWALR's learning-rate sequence, update_bn's running statistics, errors."""

from __future__ import annotations

import lamina
import lamina.optim.swa_utils as lswa
import numpy as np
import pytest
import torch
import torch.optim.swa_utils as tswa

LIBS = ((lamina, lswa), (torch, tswa))


def _model(lib, seed=0):
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4), lib.nn.ReLU(), lib.nn.Linear(4, 2))
    _fill(lib, model, seed)
    return model


def _fill(lib, model, seed):
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype))
        bn = model[1]
        bn.running_mean.copy_(lib.tensor(rng.standard_normal(4), dtype=lib.float32))
        bn.running_var.copy_(lib.tensor(rng.uniform(0.5, 2, 4), dtype=lib.float32))


def _state(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


def _assert_states_equal(a, b, rtol=1e-6, atol=1e-7):
    assert list(a) == list(b)
    for k in a:
        assert a[k].dtype == b[k].dtype, k
        np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=atol, err_msg=k)


AVERAGERS = {
    "swa": lambda m: {},
    "ema_avg_fn": lambda m: {"avg_fn": m.get_ema_avg_fn(0.9)},
    "ema_multi": lambda m: {"multi_avg_fn": m.get_ema_multi_avg_fn(0.75)},
    "swa_avg_fn": lambda m: {"avg_fn": m.get_swa_avg_fn()},
    "swa_multi": lambda m: {"multi_avg_fn": m.get_swa_multi_avg_fn()},
}


@pytest.mark.parametrize("use_buffers", [False, True])
@pytest.mark.parametrize("kind", list(AVERAGERS))
def test_averaged_model_matches_torch(kind, use_buffers):
    states = {}
    for lib, swa in LIBS:
        model = _model(lib)
        avg = swa.AveragedModel(model, use_buffers=use_buffers, **AVERAGERS[kind](swa))
        if kind == "swa_multi" and use_buffers:  # the integer num_batches_tracked: torch refuses integer addcdiv_
            avg.update_parameters(model)
            with pytest.raises(RuntimeError):
                avg.update_parameters(model)
            continue
        for step in range(5):
            _fill(lib, model, seed=10 + step)
            avg.update_parameters(model)
        states[lib.__name__] = _state(avg)
        out = avg(lib.tensor(np.random.default_rng(3).standard_normal((6, 3)), dtype=lib.float32))
        states[lib.__name__]["out"] = out.detach().numpy()
    if not states:
        return
    _assert_states_equal(states["lamina"], states["torch"])
    assert states["lamina"]["n_averaged"].item() == 5
    assert list(states["lamina"])[:2] == ["n_averaged", "module.0.weight"]


def test_swa_average_is_the_mean():
    model = _model(lamina)
    avg = lswa.AveragedModel(model)
    seen = []
    for step in range(4):
        _fill(lamina, model, seed=step)
        seen.append(model[0].weight.detach().numpy().copy())
        avg.update_parameters(model)
    np.testing.assert_allclose(avg.module[0].weight.detach().numpy(), np.mean(seen, axis=0), rtol=1e-6)
    # without use_buffers the buffers are the last model's
    np.testing.assert_array_equal(avg.module[1].running_mean.numpy(), model[1].running_mean.numpy())


def test_averaged_model_is_a_copy_and_loads_torch_state():
    model = _model(lamina)
    avg = lswa.AveragedModel(model)
    assert avg.module is not model and avg.module[0].weight is not model[0].weight
    assert avg.n_averaged.dtype == lamina.long and avg.n_averaged.item() == 0
    tavg = tswa.AveragedModel(_model(torch, seed=4))
    tavg.update_parameters(_model(torch, seed=5))
    avg.load_state_dict({k: lamina.tensor(v.numpy()) for k, v in tavg.state_dict().items()})
    _assert_states_equal(_state(avg), _state(tavg))


def test_averaged_model_errors():
    for lib, swa in LIBS:
        with pytest.raises(AssertionError, match="Only one of avg_fn and multi_avg_fn should be provided"):
            swa.AveragedModel(_model(lib), avg_fn=swa.get_swa_avg_fn(), multi_avg_fn=swa.get_swa_multi_avg_fn())
        for fn in (swa.get_ema_avg_fn, swa.get_ema_multi_avg_fn):
            with pytest.raises(ValueError, match=r"Invalid decay value 1.5 provided. Please provide a value in \[0,1"):
                fn(1.5)


@pytest.mark.parametrize("dtype", ["int64", "float64"])
def test_multi_avg_fns_on_lists(dtype):
    res = {}
    rng = np.random.default_rng(0)
    a0, c0 = rng.integers(-50, 50, (2, 3)), rng.integers(-50, 50, (2, 3))
    for lib, swa in LIBS:
        dt = getattr(lib, dtype)
        out = []
        for fn, n in ((swa.get_swa_multi_avg_fn(), lib.tensor(3)), (swa.get_swa_multi_avg_fn(), 3),
                      (swa.get_ema_multi_avg_fn(0.5), None), (swa.get_ema_multi_avg_fn(0.9), None)):
            a, c = lib.tensor(a0, dtype=dt), lib.tensor(c0, dtype=dt)
            if dt == lib.int64 and n is not None:  # torch: no integer addcdiv_, no float alpha for integers
                with pytest.raises(RuntimeError):
                    fn([a], [c], n)
                continue
            fn([a], [c], n)
            out.append(a.numpy())
        res[lib.__name__] = out
    assert len(res["lamina"]) == (2 if dtype == "int64" else 4)
    for a, b in zip(res["lamina"], res["torch"]):
        assert a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=1e-12)


@pytest.mark.parametrize("strategy", ["cos", "linear"])
@pytest.mark.parametrize("anneal_epochs", [0, 1, 4])
def test_swalr_lr_sequence(strategy, anneal_epochs):
    seqs = {}
    for lib, swa in LIBS:
        w1, w2 = lib.nn.Parameter(lib.zeros(2)), lib.nn.Parameter(lib.zeros(2))
        opt = lib.optim.SGD([{"params": [w1]}, {"params": [w2], "lr": 0.3}], lr=0.1)
        sched = swa.SWALR(opt, swa_lr=[0.05, 0.01], anneal_epochs=anneal_epochs, anneal_strategy=strategy)
        seq = [sched.get_last_lr()]
        for _ in range(8):
            opt.step()
            sched.step()
            seq.append(sched.get_last_lr())
        seqs[lib.__name__] = (seq, [g["swa_lr"] for g in opt.param_groups], sorted(sched.state_dict()))
    np.testing.assert_allclose(np.array(seqs["lamina"][0]), np.array(seqs["torch"][0]), rtol=1e-12)
    assert seqs["lamina"][1:] == seqs["torch"][1:]


def test_swalr_state_dict_round_trip_and_get_lr_warning():
    w = lamina.nn.Parameter(lamina.zeros(2))
    opt = lamina.optim.SGD([w], lr=1.0)
    sched = lswa.SWALR(opt, swa_lr=0.1, anneal_epochs=3, anneal_strategy="linear")
    opt.step()
    sched.step()
    state = sched.state_dict()
    assert "anneal_func" not in state and "optimizer" not in state
    other = lswa.SWALR(opt, swa_lr=0.1, anneal_strategy="cos")
    other.load_state_dict(state)
    assert other.anneal_func is lswa.SWALR._linear_anneal and other.anneal_epochs == 3
    assert isinstance(sched, lamina.optim.lr_scheduler.LRScheduler)
    with pytest.warns(UserWarning, match="please use `get_last_lr\\(\\)`"):
        sched.get_lr()


@pytest.mark.parametrize("kwargs, match", [
    ({"anneal_strategy": "exp"}, "anneal_strategy must be one of 'cos' or 'linear', instead got exp"),
    ({"anneal_epochs": -1}, "anneal_epochs must be equal or greater than 0, got -1"),
    ({"anneal_epochs": 2.0}, "anneal_epochs must be equal or greater than 0, got 2.0"),
    ({"swa_lr": [0.1, 0.2]}, "swa_lr must have the same length as optimizer.param_groups"),
])
def test_swalr_errors(kwargs, match):
    for lib, swa in LIBS:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=1.0)
        with pytest.raises(ValueError, match=match):
            swa.SWALR(opt, **{"swa_lr": 0.1, **kwargs})


@pytest.mark.parametrize("tuples", [False, True])
@pytest.mark.parametrize("training", [False, True])
def test_update_bn_matches_torch(tuples, training):
    data = np.random.default_rng(7).standard_normal((5, 8, 3)) * 2 + 1
    states = {}
    for lib, swa in LIBS:
        model = _model(lib)
        model.train(training)
        momentum = model[1].momentum
        batches = [lib.tensor(b, dtype=lib.float32) for b in data]
        loader = [(b, lib.zeros(8)) for b in batches] if tuples else batches
        swa.update_bn(loader, model)
        assert model.training is training and model[1].momentum == momentum
        states[lib.__name__] = _state(model)
    _assert_states_equal(states["lamina"], states["torch"], rtol=1e-5, atol=1e-6)
    # a cumulative average over the pass: the mean of the batch means
    expected = np.mean([(b @ _model(lamina)[0].weight.detach().numpy().T
                         + _model(lamina)[0].bias.detach().numpy()).mean(0) for b in data], axis=0)
    np.testing.assert_allclose(states["lamina"]["1.running_mean"], expected, rtol=1e-5, atol=1e-6)


def test_update_bn_without_batch_norm_does_nothing():
    model = lamina.nn.Linear(3, 2)
    before = _state(model)
    calls = []
    lswa.update_bn(iter(calls), model)
    _assert_states_equal(_state(model), before)


def test_averaged_model_update_bn_workflow():
    # the documented SWA loop: train, average, SWALR, then update_bn on the averaged model
    data = np.random.default_rng(1).standard_normal((4, 8, 3))
    target = np.random.default_rng(2).standard_normal((4, 8, 2))
    states = {}
    for lib, swa in LIBS:
        model = _model(lib)
        opt = lib.optim.SGD(model.parameters(), lr=0.05)
        avg = swa.AveragedModel(model)
        sched = swa.SWALR(opt, swa_lr=0.01, anneal_epochs=2)
        for _ in range(3):
            for x, y in zip(data, target):
                opt.zero_grad()
                loss = ((model(lib.tensor(x, dtype=lib.float32)) - lib.tensor(y, dtype=lib.float32)) ** 2).mean()
                loss.backward()
                opt.step()
            avg.update_parameters(model)
            sched.step()
        swa.update_bn([lib.tensor(x, dtype=lib.float32) for x in data], avg)
        states[lib.__name__] = _state(avg)
    _assert_states_equal(states["lamina"], states["torch"], rtol=1e-4, atol=1e-5)


def test_averaged_model_repr_buffers_and_device_match_torch():
    got = {}
    for lib, swa in LIBS:
        avg = swa.AveragedModel(_model(lib), device="cpu")
        got[lib.__name__] = (repr(avg), list(dict(avg.named_buffers())), avg.n_averaged.device.type,
                             [type(p).__name__ for p in avg.parameters()])
    assert got["lamina"] == got["torch"]


def test_swalr_resume_from_last_epoch_matches_torch():
    got = {}
    for lib, swa in LIBS:
        w = lib.nn.Parameter(lib.zeros(2))
        opt = lib.optim.SGD([w], lr=1.0)
        sched = swa.SWALR(opt, 0.1, anneal_epochs=3)
        for _ in range(2):
            opt.step()
            sched.step()
        resumed = swa.SWALR(opt, 0.1, anneal_epochs=3, last_epoch=sched.last_epoch)
        seq = [resumed.get_last_lr()[0]]
        for _ in range(3):
            opt.step()
            resumed.step()
            seq.append(resumed.get_last_lr()[0])
        got[lib.__name__] = (sorted(sched.state_dict()), seq)
    assert got["lamina"][0] == got["torch"][0]
    np.testing.assert_allclose(got["lamina"][1], got["torch"][1], rtol=1e-12)
    for lib, swa in LIBS:
        opt = lib.optim.SGD([lib.nn.Parameter(lib.zeros(2))], lr=1.0)
        with pytest.raises(KeyError):
            swa.SWALR(opt, 0.1, last_epoch=3)  # no initial_lr in the groups
