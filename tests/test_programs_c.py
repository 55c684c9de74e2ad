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
    assert last["n_averaged"] == 9 and last["restored_loss"] == last["bn_ema_loss"]  # 3 epochs of 3 steps
    assert "resumed at epoch 2" in lamina_run.stdout and "resumed at epoch 2" in torch_run.stdout
    assert [r["step"] for r in torch_run.log if "step" in r] == list(range(9))
    assert any(k.startswith("ema.module.layers.1.shortcut") for k in torch_run.final)
    assert "ema.n_averaged" in torch_run.final


def test_finetune_weight_norm_prune(tmp_path):
    torch_run, lamina_run = run_pair("finetune_param_prune.py", [], tmp_path)
    # state_dict keys before and after prune.remove, the trainable names and the mask sparsities are compared
    # exactly (strings and booleans) or to float tolerance (fractions) by assert_same
    assert_same(torch_run, lamina_run, rtol=1e-4, atol=1e-5)
    summary = torch_run.log[-2]
    assert "neck.weight_orig" in summary["keys_pruned"] and "neck.weight_mask" in summary["keys_pruned"]
    assert "weight_orig" not in summary["keys_removed"]
    assert summary["applied"] and summary["frozen_same"] and summary["wn_ok"] and summary["is_parametrized"]
    assert summary["neck_sparsity"] == pytest.approx(1 - 0.75 * 0.75, abs=1 / 576 + 1e-9)
    # the backbone is frozen: its surviving weights are the pretrained ones, pruned entries are zero
    w = torch_run.final["model.backbone.0.weight"]
    np_pre = torch_run.final["pretrained.backbone.0.weight"]
    kept = w != 0
    assert (w[kept] == np_pre[kept]).all() and 0.1 < (~kept).mean() < 0.5


def test_custom_batchnorm_and_focal_loss(tmp_path):
    torch_run, lamina_run = run_pair("custom_batchnorm.py", [], tmp_path)
    # running_mean/running_var of every norm (lists in the per-epoch records and in the final state_dict) included
    assert_same(torch_run, lamina_run, rtol=1e-4, atol=1e-5)
    first = torch_run.log[0]
    assert first["legacy"] == "sum,none" and first["legacy_warned"]
    assert "expected 3D input" in first["errors"] and "expected 2D input" in first["errors"]
    assert torch_run.log[-1]["restored_gap"] == 0.0
    assert "criterion.alpha" in torch_run.final and "model.bn2.weight" not in torch_run.final
    # the printed model (custom extra_repr included) is the same text
    head = lambda out: out.split("epoch 0")[0]  # noqa: E731
    assert head(lamina_run.stdout) == head(torch_run.stdout)
