"""Convolution's GEMM layouts (per-sample in sub-batches or one sample at a time, batch-folded
``_conv_gemm``): each configuration run on each must match PyTorch and the others, with its columns
kept for backward or recomputed there; the rule picks the folded one only where it was measured faster; an in-place
edit of the input is caught; the folded and per-sample paths' bits do not depend on the thread count."""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
import lamina_layers_basic._conv_gemm as conv_gemm
import numpy as np
import pytest
from _layers_basic_torch_parity import F32, compare, conv_case, conv_pair

SIZES = {1: (9,), 2: (6, 5), 3: (4, 5, 3)}

# (n, C, O, kernel, stride, padding, dilation, groups)
GRID = [
    (2, 4, 6, 3, 1, 1, 1, 1),            # stride 1: full-correlation input gradient
    (2, 4, 6, 3, 2, 1, 1, 1),            # strided: col2im input gradient
    (2, 4, 6, 1, 2, 0, 1, 2),            # 1x1 strided grouped
    (2, 4, 8, 1, 1, 0, 1, 1),            # 1x1: the columns are the input itself (per-sample)
    (2, 6, 6, 3, 1, 3, 1, 3),            # padding beyond the kernel span
    (2, 4, 6, (3, 2), (1, 2), (0, 1), (2, 1), 2),
    (1, 3, 4, 3, 2, 2, 2, 1),
    (3, 2, 4, (2, 3, 1), 1, (1, 0, 0), (1, 1, 2), 1),
]


@pytest.fixture(params=["folded", "per-sample", "one-sample-at-a-time"])
def layout(request, monkeypatch):
    """Force one layout for every convolution of the test."""
    fold = request.param == "folded"
    monkeypatch.setattr(conv_gemm, "FOLD_MAX_L", 1 << 30 if fold else 0)
    monkeypatch.setattr(conv_gemm, "FOLD_MIN_WEIGHT", 0)
    monkeypatch.setattr(conv_gemm, "SUB_BYTES", 0 if request.param == "one-sample-at-a-time" else 1 << 40)
    return request.param


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("row", GRID, ids=str)
def test_both_layouts_match_torch(layout, row, bias):
    rng = np.random.default_rng(31)
    n, kw, x, w, b = conv_case(row, SIZES, rng, batch=3)
    tfn, lfn = conv_pair(n, kw)
    inputs = [x, w, b] if bias else [x, w]
    compare(tfn, lfn, inputs, rng)


def _grads(row, dtype=np.float64, batch=3, need_x=True):
    rng = np.random.default_rng(32)
    n, kw, x, w, b = conv_case(row, SIZES, rng, dtype, batch)
    xt, wt, bt = (lamina.tensor(a, requires_grad=r) for a, r in ((x, need_x), (w, True), (b, True)))
    y = getattr(F, f"conv{n}d")(xt, wt, bt, **kw)
    y.backward(lamina.tensor(rng.standard_normal(tuple(y.shape)).astype(dtype)))
    return [y.detach().numpy(), None if xt.grad is None else xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()]


@pytest.mark.parametrize("need_x", [True, False], ids=["dx", "no_dx"])
@pytest.mark.parametrize("row", GRID[:3], ids=str)
def test_the_layouts_and_kept_or_recomputed_columns_agree(monkeypatch, row, need_x):
    monkeypatch.setattr(conv_gemm, "FOLD_MIN_WEIGHT", 0)
    runs = []
    for fold, keep, single in [(True, True, False), (True, False, False), (False, True, False),
                               (False, False, False), (False, False, True)]:
        monkeypatch.setattr(conv_gemm, "FOLD_MAX_L", 1 << 30 if fold else 0)
        monkeypatch.setattr(conv_gemm, "KEEP_COLS_BYTES", 1 << 40 if keep else -1)
        monkeypatch.setattr(conv_gemm, "SUB_BYTES", 0 if single else 1 << 40)
        runs.append(_grads(row, need_x=need_x))
    for a, b in (pair for run in runs[1:] for pair in zip(runs[0], run)):
        if a is None or b is None:
            assert a is None and b is None
        else:
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_a_resnet_stage4_shape_folds_and_matches_torch_in_float32():
    rng = np.random.default_rng(33)
    row = (2, 128, 128, 3, 1, 1, 1, 1)               # 4x4 outputs, 128 * 1152 weight entries
    n, kw, x, w, b = conv_case(row, {2: (4, 4)}, rng, np.float32, batch=4)
    w *= 0.05
    assert conv_gemm.folds(4, (4, 4), w.shape, 1)
    tfn, lfn = conv_pair(n, kw)
    compare(tfn, lfn, [x, w, b], rng, tol=F32)


@pytest.mark.parametrize("N, out, w_shape, groups, expected", [
    (32, (4, 4), (512, 512, 3, 3), 1, True),         # ResNet-18 stage 4
    (32, (8, 8), (256, 256, 3, 3), 1, True),         # stage 3
    (32, (32, 32), (64, 64, 3, 3), 1, False),        # stage 1: the per-sample GEMMs are wide enough
    (32, (16, 16), (128, 128, 3, 3), 1, False),
    (1, (4, 4), (512, 512, 3, 3), 1, False),         # nothing to fold
    (32, (8, 8), (128, 16, 3, 3), 8, False),         # tiny per-group weights
    (32, (8, 8), (256, 128, 1, 1), 1, False),        # stage 3's 1x1 downsample: 32K weights
    (32, (4, 4), (512, 256, 1, 1), 1, True),         # stage 4's
])
def test_the_rule_folds_small_outputs_with_large_weights(N, out, w_shape, groups, expected):
    assert conv_gemm.folds(N, out, w_shape, groups) is expected


@pytest.mark.parametrize("keep", [True, False], ids=["kept_columns", "recomputed_columns"])
def test_an_in_place_edit_of_the_input_is_caught(layout, keep, monkeypatch):
    # a 3x3 convolution used to keep only its column matrix: an edit of x after forward went unnoticed
    monkeypatch.setattr(conv_gemm, "KEEP_COLS_BYTES", 1 << 40 if keep else -1)
    x = lamina.randn(2, 3, 5, 5, requires_grad=True)
    h = x * 1.0
    w = lamina.randn(4, 3, 3, 3, requires_grad=True)
    y = F.conv2d(h, w, padding=1)
    h.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_the_folded_layout_is_bitwise_the_same_on_one_and_two_threads(monkeypatch):
    pool = lamina.device("cpu").backend.threads
    size, run, cuts = pool.size, pool.run, []
    monkeypatch.setattr(pool, "run", lambda pieces, fn: cuts.append(len(pieces)) or run(pieces, fn))
    monkeypatch.setattr(conv_gemm, "FOLD_MIN_WEIGHT", 0)
    row = (2, 64, 128, 3, 1, 1, 1, 1)
    assert conv_gemm.folds(8, SIZES[2], (128, 64, 3, 3), 1)
    try:
        pool.resize(1)
        one = _grads(row, np.float32, batch=8)
        pool.resize(2)
        two = _grads(row, np.float32, batch=8)
    finally:
        pool.resize(size or 1)
        pool.size = size
    assert max(cuts) > 1          # the column copy was cut into pieces
    for a, b in zip(one, two):
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("sub", [0, 1 << 40], ids=["one_sample_a_gemm", "whole_pieces"])
@pytest.mark.parametrize("row", [(2, 4, 6, 3, 1, 1, 1, 1), (2, 1, 16, 3, 1, 1, 1, 1), (1, 6, 4, 3, 1, 2, 1, 2),
                                 (2, 4, 6, 3, 2, 1, 1, 1), (2, 8, 4, 1, 2, 0, 1, 2), (2, 8, 4, 1, 1, 0, 1, 1)],
                         ids=str)
def test_the_per_sample_path_is_bitwise_the_same_on_one_and_two_threads(monkeypatch, row, sub):
    """Pieces of the batch run on the pool's threads (BLAS on one thread inside each), each summing
    its own part of the weight gradient: the cut depends on the shapes only, so the bits do not
    depend on the thread count, with columns kept or recomputed."""
    monkeypatch.setattr(conv_gemm, "FOLD_MAX_L", 0)
    monkeypatch.setattr(conv_gemm, "SUB_BYTES", sub)
    pool = lamina.device("cpu").backend.threads
    size, run, cuts = pool.size, pool.run, []
    monkeypatch.setattr(pool, "run", lambda pieces, fn: cuts.append(len(pieces)) or run(pieces, fn))
    runs = []
    try:
        for keep in (1 << 40, -1):
            monkeypatch.setattr(conv_gemm, "KEEP_COLS_BYTES", keep)
            for threads in (1, 2):
                pool.resize(threads)
                runs.append(_grads(row, np.float32, batch=11))
    finally:
        pool.resize(size or 1)
        pool.size = size
    assert sub or max(cuts) == 6     # 11 samples in pieces of two: ceil(11 / MAX_PIECES)
    for one, two in (runs[:2], runs[2:]):
        for a, b in zip(one, two):
            assert a.tobytes() == b.tobytes()
    for a, b in zip(runs[0], runs[2]):   # kept and recomputed columns: the same GEMMs
        assert a.tobytes() == b.tobytes()
