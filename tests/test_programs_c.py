"""Whole programs (tests/programs, set c) run by real torch and by ``lamina run`` from the same weights and data:
every step's loss, the printed metrics and the final parameters must agree within float32 round-off.

Tolerances: float32 programs of a few dozen steps; rtol 1e-4 / atol 1e-5 covers the reordering of float32 sums
between the two libraries (a few ulps per op, grown by at most a few dozen optimizer steps).
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from programs.harness import assert_same, run_pair  # noqa: E402


def test_gcn_sparse_adjacency(tmp_path):
    torch_run, lamina_run = run_pair("gcn.py", ["--epochs", "20"], tmp_path)
    assert_same(torch_run, lamina_run, rtol=1e-4, atol=1e-5)
    last = torch_run.log[-1]
    assert last["dense_gap_small"] is True and last["nnz"] > 60  # self loops plus edges
    assert torch_run.log[-2]["acc_train"] > 0.5  # it learned something, so the comparison is not of noise


def test_policy_gradient_reinforce(tmp_path):
    torch_run, lamina_run = run_pair("policy_gradient.py", [], tmp_path)
    # the sampled actions (inverse CDF of the policy's probabilities) are compared exactly as strings
    assert_same(torch_run, lamina_run, rtol=1e-4, atol=1e-5)
    assert len({r["actions"] for r in torch_run.log if "actions" in r}) > 1
    assert torch_run.log[-1]["adam_steps"] == len(torch_run.log) - 1


def test_resnet_checkpoint_ema(tmp_path):
    torch_run, lamina_run = run_pair("resnet_ckpt_ema.py", [], tmp_path)
    assert_same(torch_run, lamina_run, rtol=1e-4, atol=1e-5)
    last = torch_run.log[-1]
    assert last["n_averaged"] == 12 and last["restored_loss"] == last["bn_ema_loss"]
    assert any(k.startswith("ema.module.layers.1.shortcut") for k in torch_run.final)
    assert "ema.n_averaged" in torch_run.final
