"""add_histogram / add_histogram_raw / add_pr_curve: bucket limits, counts and statistics read back
equal to NumPy references (and to PyTorch's writer's)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _tensorboard_readback import read_run, torch_writer
from lamina.utils.tensorboard import SummaryWriter
from tensorboard.util import tensor_util


def tensorflow_edges() -> np.ndarray:
    """TensorFlow's default edges: 0 and +-1e-12 * 1.1**k (k = 0, 1, ...) below 1e20, by repeated products."""
    positive, edge = [], 1e-12
    while edge < 1e20:
        positive.append(edge)
        edge *= 1.1
    return np.array([-e for e in positive[::-1]] + [0.0] + positive)


def expected_buckets(values: np.ndarray, edges) -> tuple[list[float], list[float]]:
    """(upper edges, counts) from one empty bucket before the first filled one to the last filled one."""
    counts, edges = np.histogram(values, bins=edges)
    filled = [i for i, c in enumerate(counts) if c]
    first, last = filled[0], filled[-1]
    limits = [float(e) for e in edges[first:last + 2]]
    before = float(counts[first - 1]) if first > 0 else 0.0
    return limits, [before] + [float(c) for c in counts[first:last + 1]]


def histogram(tmp_path, values, **kwargs):
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("h", values, 3, **kwargs)
    (event,) = read_run(tmp_path).Histograms("h")
    assert event.step == 3
    return event.histogram_value


def test_hand_computed_buckets():
    assert expected_buckets(np.array([0.5, 1.5, 1.5, 3.5]), [0, 1, 2, 3, 4]) == ([0, 1, 2, 3, 4], [0, 1, 2, 0, 1])
    assert expected_buckets(np.array([2.5, 3.5]), [0, 1, 2, 3, 4, 5, 6]) == ([2, 3, 4], [0, 1, 1])


@pytest.mark.parametrize("bins, values", [
    ([0, 1, 2, 3, 4], [0.5, 1.5, 1.5, 3.5]),
    ([0, 1, 2, 3, 4, 5, 6], [2.5, 3.5]),
])
def test_explicit_edges_give_the_hand_computed_buckets(tmp_path, bins, values):
    h = histogram(tmp_path, np.array(values), bins=bins)
    assert (list(h.bucket_limit), list(h.bucket)) == expected_buckets(np.array(values), bins)


@pytest.mark.parametrize("name, values", [
    ("normal", np.random.default_rng(0).normal(0, 3, size=(20, 50)).astype(np.float32)),
    ("with zeros and negatives", np.array([0.0, 0.0, -1e-9, 5.0, -3.0, 1e15])),
    ("constant", np.full(7, 2.5)),
    ("integers", np.arange(-20, 30, dtype=np.int64)),
    ("lamina tensor", lamina.randn(4, 8, generator=lamina.Generator().manual_seed(1))),
])
def test_tensorflow_bins_buckets_and_statistics_equal_numpy(tmp_path, name, values):
    h = histogram(tmp_path, values)
    flat = (values.numpy() if isinstance(values, lamina.Tensor) else values).astype(np.float64).reshape(-1)
    assert (list(h.bucket_limit), list(h.bucket)) == expected_buckets(flat, tensorflow_edges())
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (flat.min(), flat.max(), flat.size, flat.sum(),
                                                           flat.dot(flat))
    assert sum(h.bucket) == flat.size


@pytest.mark.parametrize("bins", ["auto", "fd", 7, [-10.0, -1.0, 0.0, 1.0, 10.0]])
def test_numpy_bins_equal_numpy_histogram(tmp_path, bins):
    values = np.random.default_rng(2).normal(size=500)
    h = histogram(tmp_path, values, bins=bins)
    assert (list(h.bucket_limit), list(h.bucket)) == expected_buckets(values, np.histogram_bin_edges(values, bins))


def test_max_bins_merges_groups_of_adjacent_buckets(tmp_path):
    # 10 unit bins, counts 1..10; max_bins=3: groups of 10 // 3 = 3 -> [1+2+3, 4+5+6, 7+8+9, 10], edges 0 3 6 9 10
    values = np.repeat(np.arange(10) + 0.5, np.arange(1, 11))
    h = histogram(tmp_path, values, bins=list(range(11)), max_bins=3)
    assert list(h.bucket_limit) == [0, 3, 6, 9, 10] and list(h.bucket) == [0, 6, 15, 24, 10]


def test_histograms_equal_pytorch(tmp_path):
    rng = np.random.default_rng(3)
    cases = {"normal": (rng.normal(size=1000), {}), "auto": (rng.exponential(size=300), {"bins": "auto"}),
             "max_bins": (rng.normal(size=400), {"max_bins": 40}), "ints": (rng.integers(-5, 5, 100), {})}
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            for tag, (values, kwargs) in cases.items():
                w.add_histogram(tag, values, 1, **kwargs)
    ours, theirs = read_run(tmp_path / "ours"), read_run(tmp_path / "torch")
    for tag in cases:
        assert ours.Histograms(tag)[0].histogram_value == theirs.Histograms(tag)[0].histogram_value, tag


def test_histogram_raw_is_stored_as_given(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_histogram_raw("raw", min=0.001, max=49.001, num=10, sum=100.5, sum_squares=2000.25,
                            bucket_limits=[1.0, 2.0, 50.0], bucket_counts=np.array([0, 4, 6]), global_step=2)
    h = read_run(tmp_path).Histograms("raw")[0].histogram_value
    assert (h.min, h.max, h.num, h.sum, h.sum_squares) == (0.001, 49.001, 10, 100.5, 2000.25)
    assert list(h.bucket_limit) == [1.0, 2.0, 50.0] and list(h.bucket) == [0, 4, 6]


@pytest.mark.parametrize("call, match", [
    (lambda w: w.add_histogram("h", np.zeros(0)), r"add_histogram: expected at least one value"),
    (lambda w: w.add_histogram("h", np.array([5.0]), bins=[0, 1, 2]), r"add_histogram: no value falls inside"),
    (lambda w: w.add_histogram_raw("h", 0, 1, 1, 1, 1, [1.0, 2.0], [1]), r"add_histogram_raw: expected as many"),
    (lambda w: w.add_pr_curve("p", np.ones(3), np.ones(4)), r"add_pr_curve: expected labels and predictions of one"),
])
def test_bad_histogram_input_is_named(tmp_path, call, match):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match=match):
        call(w)


def pr_reference(labels, predictions, n, weights=None):
    """TP, FP, TN, FN, precision, recall at thresholds i / (n - 1): a prediction counts as positive at
    threshold i when floor(prediction * (n - 1)) >= i."""
    weights = np.ones(len(labels)) if weights is None else weights
    bucket = np.floor(predictions * (n - 1))
    rows = []
    for i in range(n):
        positive = bucket >= i
        tp, fp = weights[positive & (labels == 1)].sum(), weights[positive & (labels == 0)].sum()
        fn, tn = weights[~positive & (labels == 1)].sum(), weights[~positive & (labels == 0)].sum()
        rows.append((tp, fp, tn, fn, tp / max(1e-7, tp + fp), tp / max(1e-7, tp + fn)))
    return np.array(rows, dtype=np.float32).T


@pytest.mark.parametrize("n, weighted", [(127, False), (11, True), (500, False)])
def test_pr_curve_equals_a_threshold_by_threshold_count_and_pytorch(tmp_path, n, weighted):
    rng = np.random.default_rng(4)
    labels, predictions = rng.integers(0, 2, 200), rng.random(200)
    weights = rng.random(200) if weighted else None
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            w.add_pr_curve("pr", labels, predictions, 5, num_thresholds=n, weights=weights)
    ours, theirs = read_run(tmp_path / "ours"), read_run(tmp_path / "torch")
    got = tensor_util.make_ndarray(ours.Tensors("pr")[0].tensor_proto)
    np.testing.assert_allclose(got, pr_reference(labels, predictions, min(n, 127), weights), rtol=1e-6)
    assert ours.Tensors("pr")[0].tensor_proto == theirs.Tensors("pr")[0].tensor_proto
    assert ours.SummaryMetadata("pr") == theirs.SummaryMetadata("pr")


def test_pr_curve_raw_is_stored_as_given(tmp_path):
    rows = [np.array([3.0, 2, 0]), [1.0, 1, 0], [0, 0, 1.0], [0, 1, 3.0], [0.75, 2 / 3, 0], [1.0, 2 / 3, 0]]
    with SummaryWriter(tmp_path) as w:
        w.add_pr_curve_raw("raw", *rows, global_step=1, num_thresholds=3)
    got = tensor_util.make_ndarray(read_run(tmp_path).Tensors("raw")[0].tensor_proto)
    np.testing.assert_array_equal(got, np.array(rows, dtype=np.float32))
