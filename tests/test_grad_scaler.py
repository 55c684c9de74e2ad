"""lamina.amp.GradScaler against torch.amp.GradScaler on CPU: the scale, the growth tracker, skipped steps and
the parameters step by step, the errors and assertions, enabled=False, state_dict round trips."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest

torch = pytest.importorskip("torch")


def _setup(mod, scaler_kw):
    g = np.random.default_rng(0)
    w = mod.tensor(g.standard_normal((4, 3)).astype(np.float32), requires_grad=True)
    b = mod.tensor(np.zeros(3, np.float32), requires_grad=True)
    opt = mod.optim.SGD([w, b], lr=0.05, momentum=0.9)
    return w, b, opt, mod.amp.GradScaler("cpu", **scaler_kw)


def _train(mod, scaler_kw, xs, poison):
    w, b, opt, scaler = _setup(mod, scaler_kw)
    rows = []
    for i, x in enumerate(xs):
        opt.zero_grad()
        loss = ((mod.tensor(x) @ w + b) ** 2).mean()
        if i in poison:
            loss = loss * poison[i]
        scaler.scale(loss).backward()
        if i % 2:
            scaler.unscale_(opt)  # explicit unscale (as before clipping), then step
            rows.append(("grad", np.array(w.grad.tolist())))
        scaler.step(opt)
        scaler.update()
        rows.append((scaler.get_scale(), scaler._get_growth_tracker(), np.array(w.tolist()), np.array(b.tolist())))
    return rows


@pytest.mark.parametrize("scaler_kw", [{"init_scale": 2.0**10, "growth_interval": 3},
                                       {"init_scale": 3.0e38, "growth_interval": 1},  # growth overflows: kept
                                       {"growth_factor": 4.0, "backoff_factor": 0.25, "growth_interval": 2}])
def test_training_loop_matches_torch_step_by_step(scaler_kw):
    g = np.random.default_rng(1)
    xs = [g.standard_normal((5, 4)).astype(np.float32) for _ in range(9)]
    poison = {2: np.inf, 5: np.nan}  # gradients with inf / NaN: the step is skipped and the scale backs off
    with np.errstate(all="ignore"):  # lamina's NumPy kernels warn on inf - inf where torch is silent
        got_rows = _train(lamina, scaler_kw, xs, poison)
    ref_rows = _train(torch, scaler_kw, xs, poison)
    assert len({r[0] for r in ref_rows if r[0] != "grad"}) > 1  # the scale did change
    for got, ref in zip(got_rows, ref_rows, strict=True):
        if got[0] == "grad":
            if np.all(np.isfinite(ref[1])):
                np.testing.assert_allclose(got[1], ref[1], rtol=1e-5, atol=1e-6)
            else:
                np.testing.assert_array_equal(np.isfinite(got[1]), np.isfinite(ref[1]))
            continue
        assert got[:2] == ref[:2]
        np.testing.assert_allclose(got[2], ref[2], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(got[3], ref[3], rtol=1e-5, atol=1e-6)


def test_scale_of_tensors_and_containers():
    s = lamina.amp.GradScaler("cpu", init_scale=8.0)
    x = lamina.ones(2, dtype=lamina.bfloat16)
    out = s.scale([x, (x * 2,)])
    assert isinstance(out, list) and isinstance(out[1], tuple)
    assert out[0].dtype is lamina.bfloat16 and out[0].tolist() == [8.0, 8.0] and out[1][0].tolist() == [16.0, 16.0]
    ts = torch.amp.GradScaler("cpu", init_scale=8.0)
    assert ts.scale(torch.ones(2, dtype=torch.bfloat16)).dtype == torch.bfloat16
    assert s.get_scale() == ts.get_scale() == 8.0 and s.is_enabled()


def test_errors_as_torch():
    for mod in (lamina, torch):
        p = mod.tensor([1.0, 2.0], requires_grad=True)
        opt = mod.optim.SGD([p], lr=0.1)
        with pytest.raises(AssertionError, match="Attempted unscale_ but _scale is None"):
            mod.amp.GradScaler("cpu").unscale_(opt)
        with pytest.raises(AssertionError, match="Attempted update but _scale is None"):
            mod.amp.GradScaler("cpu").update()
        s = mod.amp.GradScaler("cpu")
        s.scale((p * 2).sum()).backward()
        s.unscale_(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) has already been called"):
            s.unscale_(opt)
        s.step(opt)
        with pytest.raises(RuntimeError, match="step\\(\\) has already been called since the last update"):
            s.step(opt)
        with pytest.raises(RuntimeError, match="unscale_\\(\\) is being called after step"):
            s.unscale_(opt)
        s.update()
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            s.step(opt, closure=lambda: 0)
        with pytest.raises(RuntimeError, match="source state dict is empty"):
            mod.amp.GradScaler("cpu").load_state_dict({})
        h = mod.tensor([1.0, 2.0], dtype=mod.float16, requires_grad=True)
        oh = mod.optim.SGD([h], lr=0.1)
        s = mod.amp.GradScaler("cpu")
        with np.errstate(over="ignore"):  # 2 * 65536 is inf in float16
            s.scale((h * 2).sum()).backward()
        with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
            s.unscale_(oh)
        s = mod.amp.GradScaler("cpu")
        s.scale(p.sum())
        with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
            s.update()


def test_update_with_a_new_scale():
    for mod in (lamina, torch):
        s = mod.amp.GradScaler("cpu")
        s.scale(mod.ones(1))
        s.update(10.0)
        assert s.get_scale() == 10.0
        s.update(mod.tensor(3.0))
        assert s.get_scale() == 3.0


def test_disabled_is_a_pass_through():
    s = lamina.amp.GradScaler("cpu", enabled=False)
    x = lamina.ones(2)
    assert s.scale(x) is x and s.get_scale() == 1.0 and s.state_dict() == {} and not s.is_enabled()
    p = lamina.tensor([1.0], requires_grad=True)
    opt = lamina.optim.SGD([p], lr=0.5)
    (p * 2).sum().backward()
    s.unscale_(opt)
    assert p.grad.tolist() == [2.0]
    s.step(opt)
    s.update()
    assert p.tolist() == [0.0]
    s.load_state_dict({})  # nothing to load, no error (as torch)
    torch.amp.GradScaler("cpu", enabled=False).load_state_dict({})


def test_state_dict_round_trip_matches_torch():
    dicts = []
    for mod in (lamina, torch):
        s = mod.amp.GradScaler("cpu", init_scale=256.0, growth_interval=5)
        p = mod.tensor([1.0], requires_grad=True)
        opt = mod.optim.SGD([p], lr=0.1)
        for _ in range(3):
            s.scale(p.sum()).backward()
            s.step(opt)
            s.update()
        dicts.append(s.state_dict())
        fresh = mod.amp.GradScaler("cpu")
        fresh.load_state_dict(s.state_dict())
        assert fresh.state_dict() == s.state_dict() and fresh.get_scale() == 256.0
        fresh.scale(p.sum())  # the scale tensor is made from the loaded values
        assert fresh.get_scale() == 256.0 and fresh._get_growth_tracker() == 3
    assert dicts[0] == dicts[1]
    assert lamina.amp.GradScaler("cpu").state_dict() == torch.amp.GradScaler("cpu").state_dict()


def test_deprecated_forms_and_cuda_without_a_gpu():
    with pytest.warns(FutureWarning, match=r"lamina\.cpu\.amp\.GradScaler\(args\.\.\.\)` is deprecated"):
        s = lamina.cpu.amp.GradScaler(init_scale=4.0)
    assert s.is_enabled() and s.get_scale() == 4.0 and isinstance(s, lamina.amp.GradScaler)
    if not lamina.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available.  Disabling"):
            assert not lamina.amp.GradScaler().is_enabled()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            with pytest.warns(FutureWarning, match="cuda"):
                lamina.cuda.amp.GradScaler()
    with pytest.raises(ValueError, match="growth factor"):
        lamina.amp.GradScaler("cpu", growth_factor=1.0)
    with pytest.raises(ValueError, match="backoff factor"):
        lamina.amp.GradScaler("cpu", backoff_factor=1.0)


def test_autocast_and_scaler_together():
    """bf16 autocast forward, scaled backward, float32 master weights: the loop torch users write."""
    g = np.random.default_rng(2)
    w0 = g.standard_normal((8, 4)).astype(np.float32) * 0.3
    x = g.standard_normal((6, 8)).astype(np.float32)
    y = g.integers(0, 4, 6)
    finals = []
    for mod in (lamina, torch):
        w = mod.tensor(w0, requires_grad=True)
        opt = mod.optim.SGD([w], lr=0.1)
        scaler = mod.amp.GradScaler("cpu", init_scale=2.0**8)
        for _ in range(3):
            opt.zero_grad()
            with mod.autocast("cpu"):
                loss = mod.nn.functional.cross_entropy(mod.tensor(x) @ w, mod.tensor(y))
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        finals.append(np.array(w.tolist()))
        assert w.grad.dtype == (lamina.float32 if mod is lamina else torch.float32)
    np.testing.assert_allclose(finals[0], finals[1], rtol=2e-2, atol=2e-2)
