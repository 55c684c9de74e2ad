"""Programs b (issue #19): DCGAN, WGAN-GP, VAE, super-resolution and a GradScaler loop, each run on real torch
2.13 and by ``lamina run`` from the same initial weights; every step's losses, the printed metrics, the samples
and the final parameters must agree.

Tolerances: rtol 1e-4 / atol 1e-5 on logged numbers -- a few float32 steps of Adam/SGD keep the two runs within
~1e-6 relative (measured: worst 4e-7); parameters within atol 1e-4 (harness default). Printed numbers are
compared token by token: text exactly, numbers within rtol 1e-4 plus one unit of the last printed digit (a
float32 round-off may flip the last digit of "%.4f").
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from programs.harness import assert_same, run_pair

_NUM = re.compile(r"-?(?:\d+\.\d*|\d+|inf|nan)(?:[eE][-+]?\d+)?")


def assert_same_stdout(a: str, b: str, *, rtol: float = 1e-4) -> None:
    """The two printed outputs agree: the text between numbers exactly, each number within ``rtol`` plus one
    unit of its last printed decimal."""
    la, lb = a.splitlines(), b.splitlines()
    assert len(la) == len(lb), f"stdout line counts differ: {len(la)} vs {len(lb)}\n{a}\n---\n{b}"
    for i, (x, y) in enumerate(zip(la, lb)):
        assert _NUM.sub("#", x) == _NUM.sub("#", y), f"stdout line {i}: {x!r} vs {y!r}"
        for u, v in zip(_NUM.findall(x), _NUM.findall(y)):
            if u == v:
                continue
            ulp = 10.0 ** -len(u.split(".")[1]) if "." in u and "e" not in u.lower() else 0.0
            fu, fv = float(u), float(v)
            assert abs(fu - fv) <= rtol * abs(fu) + ulp * 1.01, f"stdout line {i}: {x!r} vs {y!r} ({u} vs {v})"


def test_dcgan(tmp_path):
    t, lam = run_pair("dcgan.py", ["--steps", "6"], tmp_path)
    assert_same(t, lam, rtol=1e-4, atol=1e-5)
    assert [r["step"] for r in t.log[:-1]] == list(range(6))
    last = lam.log[-1]
    assert last["sample_shape"] == [8, 1, 16, 16] and np.isfinite(last["sample_sum"])
    assert all(abs(r["loss"] - (r["loss_D"])) == 0 for r in lam.log[:-1])
    assert_same_stdout(t.stdout, lam.stdout)  # includes print(netG), print(netD): the module reprs
    assert "ConvTranspose2d(8, 32, kernel_size=(4, 4), stride=(1, 1), bias=False)" in lam.stdout


def test_wgan_gp(tmp_path):
    t, lam = run_pair("wgan_gp.py", ["--iters", "4", "--critic-iters", "2"], tmp_path)
    assert_same(t, lam, rtol=1e-4, atol=1e-5)
    gps = [r["gp"] for r in lam.log if "gp" in r]
    assert len(gps) == 8 and all(g > 0 for g in gps)  # the penalty took part in every critic step
    assert lam.log[-1]["saved_steps"] == 4
    assert_same_stdout(t.stdout, lam.stdout)


def test_vae(tmp_path):
    t, lam = run_pair("vae.py", ["--epochs", "3"], tmp_path)
    assert_same(t, lam, rtol=1e-4, atol=1e-5)
    epochs = [r for r in lam.log if "test_loss" in r]
    assert [r["epoch"] for r in epochs] == [1, 2, 3]
    assert len(lam.log[-1]["sample_row"]) == 8
    assert_same_stdout(t.stdout, lam.stdout)


def test_super_resolution(tmp_path):
    t, lam = run_pair("super_resolution.py", ["--nEpochs", "3"], tmp_path)
    assert_same(t, lam, rtol=1e-4, atol=1e-5)
    psnr = [r["psnr"] for r in lam.log if "psnr" in r]
    assert len(psnr) == 3 and all(np.isfinite(psnr))
    assert lam.log[-1]["out_shape"] == [1, 1, 16, 16]
    assert_same_stdout(t.stdout, lam.stdout)


@pytest.fixture(scope="module")
def gradscaler_runs(tmp_path_factory):
    return run_pair("gradscaler_loop.py", ["--steps", "8", "--overflow-step", "3"],
                    tmp_path_factory.mktemp("gradscaler"))


def test_gradscaler_loop(gradscaler_runs):
    t, lam = gradscaler_runs
    assert_same(t, lam, rtol=1e-4, atol=1e-5)
    steps = {r["step"]: r for r in lam.log if "scale" in r}
    # the overflowing step: inf loss and norm, skipped, scale halved and the growth tracker reset
    assert steps[3]["loss"] == float("inf") and steps[3]["grad_norm"] == float("inf")
    assert steps[3]["scale"] == steps[2]["scale"] / 2 and steps[3]["growth_tracker"] == 0
    assert steps[1]["scale"] == 2 * steps[0]["scale"]  # growth_interval=2
    resumed = next(r for r in lam.log if "resumed_scale" in r)
    assert resumed["resumed_scale"] == steps[7]["scale"]
    legacy = lam.log[-1]
    assert legacy["legacy_enabled"] is False and legacy["legacy_warnings"] == "FutureWarning,UserWarning"
    assert_same_stdout(t.stdout, lam.stdout)
    # float(loss) of a tensor requiring grad: torch's one-per-process UserWarning, on both sides
    for run in (t, lam):
        assert run.stderr.count("Converting a tensor with requires_grad=True to a scalar") == 1, run.stderr


def test_gradscaler_loop_overflow_is_silent(gradscaler_runs):
    t, lam = gradscaler_runs
    assert "RuntimeWarning" not in t.stderr
    assert "RuntimeWarning" not in lam.stderr, lam.stderr


def test_gradscaler_loop_bfloat16_autocast(tmp_path):
    """The same loop with --amp (forward under torch.autocast("cpu", torch.bfloat16)). Tolerances are bfloat16's:
    its epsilon is 2**-8 ~ 3.9e-3, and a one-ulp flip in an activation carries through 12 momentum-SGD steps
    (measured worst 4.5e-3 relative on losses, 3e-3 absolute on parameters)."""
    t, lam = run_pair("gradscaler_loop.py", ["--steps", "8", "--overflow-step", "3", "--amp"], tmp_path)
    assert_same(t, lam, rtol=2e-2, atol=2e-3, param_atol=1e-2)
    scales = [r["scale"] for r in lam.log if "scale" in r]
    assert scales == [r["scale"] for r in t.log if "scale" in r]  # the skipped step and the growth, exactly
    assert_same_stdout(t.stdout, lam.stdout, rtol=2e-2)
