"""MNIST / FashionMNIST readers on IDX files the tests write, and on Debian's Fashion-MNIST when installed."""

from __future__ import annotations

import os
import re

import lamina
import numpy as np
import pytest
from _datasets_idx_files import fake_mnist, idx_bytes, write, write_split
from lamina_datasets import datasets, transforms

DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"


@pytest.mark.parametrize("cls", [datasets.MNIST, datasets.FashionMNIST])
@pytest.mark.parametrize("layout", ["root", "class", "class/raw"])
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_reads_both_splits(tmp_path, cls, layout, gz):
    folder = {"root": tmp_path, "class": tmp_path / cls.__name__, "class/raw": tmp_path / cls.__name__ / "raw"}[layout]
    tr_x, tr_y = fake_mnist(12, seed=1)
    te_x, te_y = fake_mnist(5, seed=2)
    write_split(folder, True, tr_x, tr_y, gz)
    write_split(folder, False, te_x, te_y, gz)
    for train, x, y in ((True, tr_x, tr_y), (False, te_x, te_y)):
        ds = cls(tmp_path, train=train)
        assert len(ds) == len(x) and ds.train is train
        assert ds.data.dtype == lamina.uint8 and tuple(ds.data.shape) == x.shape
        assert ds.targets.dtype == lamina.int64 and tuple(ds.targets.shape) == y.shape
        np.testing.assert_array_equal(ds.data.numpy(), x)
        np.testing.assert_array_equal(ds.targets.numpy(), y)
        image, label = ds[3]
        assert isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.shape == (28, 28)
        np.testing.assert_array_equal(image, x[3])
        assert type(label) is int and label == int(y[3])


def test_transforms_applied(tmp_path):
    x, y = fake_mnist(4)
    write_split(tmp_path, True, x, y)
    ds = datasets.MNIST(tmp_path, transform=transforms.ToTensor(), target_transform=lambda t: t + 100)
    image, label = ds[1]
    assert isinstance(image, lamina.Tensor) and tuple(image.shape) == (1, 28, 28) and image.dtype == lamina.float32
    np.testing.assert_allclose(image.numpy()[0], x[1] / np.float32(255), rtol=1e-6)
    assert label == int(y[1]) + 100
    assert "Transform: ToTensor()" in repr(ds) and "Number of datapoints: 4" in repr(ds)


def test_missing_files_list_where_and_what(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"FashionMNIST: dataset files not found: expected "
                       r"t10k-images-idx3-ubyte\[\.gz\] and t10k-labels-idx1-ubyte\[\.gz\] in one of: .*"
                       + re.escape(str(tmp_path)) + r".*apt-get install dataset-fashion-mnist"):
        datasets.FashionMNIST(tmp_path, train=False)


def test_download_is_refused_with_where_to_put_files(tmp_path):
    with pytest.raises(RuntimeError, match=r"MNIST: download=True is not supported: this build cannot download "
                       r"data sets\. Put train-images-idx3-ubyte\[\.gz\] and train-labels-idx1-ubyte\[\.gz\] "
                       r"\(raw IDX or gzip\) "
                       r"in one of: " + re.escape(os.path.join(str(tmp_path), "MNIST", "raw"))):
        datasets.MNIST(tmp_path, download=True)


def test_download_with_files_present_just_reads(tmp_path):
    x, y = fake_mnist(3)
    write_split(tmp_path, True, x, y)
    assert len(datasets.MNIST(tmp_path, download=True)) == 3


def _write(tmp_path, images: np.ndarray, labels: np.ndarray) -> tuple[str, str]:
    return (write(tmp_path / "train-images-idx3-ubyte", idx_bytes(images)),
            write(tmp_path / "train-labels-idx1-ubyte", idx_bytes(labels)))


CONTENT_ERRORS = [
    ("2-D images", np.zeros((3, 28), np.uint8), np.zeros(3, np.uint8), 0,
     r"expected uint8 images of shape \(N, H, W\), got uint8 of shape \(3, 28\)"),
    ("float images", np.zeros((3, 2, 2), np.float32), np.zeros(3, np.uint8), 0,
     r"expected uint8 images of shape \(N, H, W\), got float32 of shape \(3, 2, 2\)"),
    ("2-D labels", np.zeros((3, 2, 2), np.uint8), np.zeros((3, 1), np.uint8), 1,
     r"expected uint8 labels of shape \(N,\), got uint8 of shape \(3, 1\)"),
    ("label 10", np.zeros((3, 2, 2), np.uint8), np.array([0, 10, 1], np.uint8), 1,
     r"expected labels in \[0, 9\], got 10"),
]


@pytest.mark.parametrize("label,images,labels,which,match", CONTENT_ERRORS, ids=[e[0] for e in CONTENT_ERRORS])
def test_content_errors_name_the_file(tmp_path, label, images, labels, which, match):
    files = _write(tmp_path, images, labels)
    with pytest.raises(datasets.IDXFormatError, match=re.escape(files[which]) + ": " + match):
        datasets.MNIST(tmp_path)


def test_count_mismatch_names_both_files(tmp_path):
    image_file, label_file = _write(tmp_path, np.zeros((3, 2, 2), np.uint8), np.zeros(2, np.uint8))
    with pytest.raises(datasets.IDXFormatError, match=r"MNIST: expected as many labels as images, got 2 labels in "
                       + re.escape(label_file) + r" for 3 images in " + re.escape(image_file)):
        datasets.MNIST(tmp_path)


def test_header_error_surfaces_through_dataset(tmp_path):
    x, y = fake_mnist(2)
    write_split(tmp_path, True, x, y)
    path = tmp_path / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(datasets.IDXFormatError, match=re.escape(str(path)) + r": size mismatch \(truncated\)"):
        datasets.MNIST(tmp_path)


def test_class_names():
    assert datasets.FashionMNIST.classes[0] == "T-shirt/top" and datasets.FashionMNIST.classes[9] == "Ankle boot"
    assert len(datasets.MNIST.classes) == 10 and datasets.MNIST.classes[3] == "3 - three"


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION), reason=f"Debian's dataset-fashion-mnist is not installed "
                    f"({DEBIAN_FASHION} missing)")
@pytest.mark.parametrize("train,n", [(True, 60000), (False, 10000)])
def test_debian_fashion_mnist(train, n):
    ds = datasets.FashionMNIST(train=train)
    assert ds.root == DEBIAN_FASHION and len(ds) == n and tuple(ds.data.shape) == (n, 28, 28)
    counts = np.bincount(ds.targets.numpy(), minlength=10)
    assert counts.tolist() == [n // 10] * 10
    if train:  # the published statistics the examples normalise with
        pixels = ds.data.numpy()
        assert abs(pixels.mean() / 255 - datasets.FashionMNIST.mean[0]) < 1e-3
        assert abs(pixels.std() / 255 - datasets.FashionMNIST.std[0]) < 1e-3
