"""scikit-learn's digits: deterministic stratified split, layout, values."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from lamina_datasets import datasets, transforms
from lamina_datasets.datasets.digits import split_indices

pytest.importorskip("sklearn", reason="Digits needs scikit-learn (pip install 'lamina-datasets[digits]')")


def test_sizes_layout_and_values():
    train, test = datasets.Digits(), datasets.Digits(train=False)
    assert (len(train), len(test)) == (1438, 359)
    assert train.data.dtype == lamina.float32 and tuple(train.data.shape) == (1438, 8, 8)
    assert train.targets.dtype == lamina.int64
    x = train.data.numpy()
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_array_equal(np.unique(x * 16), np.arange(17))  # 17 grey levels, exact
    image, label = train[5]
    assert tuple(image.shape) == (1, 8, 8) and image.dtype == lamina.float32 and type(label) is int
    np.testing.assert_array_equal(image.numpy()[0], x[5])


def test_split_is_a_stratified_partition():
    labels = np.repeat(np.arange(10), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])
    tr, te = split_indices(labels, True, 0.2), split_indices(labels, False, 0.2)
    assert np.intersect1d(tr, te).size == 0 and np.union1d(tr, te).size == labels.size
    expected = np.round(np.bincount(labels) * 0.2).astype(int)
    np.testing.assert_array_equal(np.bincount(labels[te]), expected)


def test_split_deterministic_and_seeded():
    labels = np.arange(200) % 10
    a, b = split_indices(labels, False, 0.3), split_indices(labels, False, 0.3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, split_indices(labels, False, 0.3, seed=1))
    lamina.manual_seed(0)
    first = datasets.Digits(train=False).targets.numpy()
    lamina.manual_seed(123)  # lamina's RNG plays no part
    np.testing.assert_array_equal(first, datasets.Digits(train=False).targets.numpy())


def test_transform_and_target_transform():
    ds = datasets.Digits(transform=transforms.Normalize((0.5,), (0.25,)), target_transform=str)
    image, label = ds[0]
    np.testing.assert_allclose(image.numpy(), (ds.data.numpy()[:1] - 0.5) / 0.25, rtol=1e-6)
    assert isinstance(label, str)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_bad_test_fraction(fraction):
    with pytest.raises(ValueError, match=rf"Digits: expected 0 < test_fraction < 1, got {fraction}"):
        datasets.Digits(test_fraction=fraction)
