"""lamina_datasets.vision.datasets on tiny files written here: MNIST-family IDX (raw and gz) in torchvision's
layout, CIFAR binary batches, an ImageFolder tree of PNGs; FakeData's per-index determinism; missing-file errors."""

from __future__ import annotations

import os

import lamina
import numpy as np
import pytest
from _datasets_idx_files import fake_mnist, write_split
from lamina_datasets.vision import datasets as D
from lamina_datasets.vision import transforms as T
from lamina_datasets.vision.datasets import folder
from PIL import Image


@pytest.mark.parametrize("cls", [D.MNIST, D.FashionMNIST, D.KMNIST])
@pytest.mark.parametrize("gz", [False, True])
def test_mnist_family_torchvision_layout(tmp_path, cls, gz):
    images, labels = fake_mnist(7, seed=1)
    write_split(tmp_path / cls.__name__ / "raw", True, images, labels, gz=gz)
    test_images, test_labels = fake_mnist(3, seed=2)
    write_split(tmp_path / cls.__name__ / "raw", False, test_images, test_labels, gz=gz)
    ds = cls(str(tmp_path), train=True)
    assert len(ds) == 7 and ds.raw_folder == os.path.join(str(tmp_path), cls.__name__, "raw")
    assert ds.data.dtype == lamina.uint8 and tuple(ds.data.shape) == (7, 28, 28)
    assert ds.targets.dtype == lamina.int64
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    img, target = ds[4]
    assert isinstance(img, Image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), images[4])
    assert target == int(labels[4]) and type(target) is int
    assert len(cls(tmp_path, train=False)) == 3
    assert ds.class_to_idx[ds.classes[3]] == 3 and len(ds.classes) == 10


def test_mnist_transforms_and_repr(tmp_path):
    images, labels = fake_mnist(5)
    write_split(tmp_path / "MNIST" / "raw", False, images, labels, gz=True)
    ds = D.MNIST(tmp_path, train=False, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]),
                 target_transform=lambda y: y + 100)
    x, y = ds[2]
    np.testing.assert_allclose(x.numpy()[0], (images[2] / np.float32(255) - 0.1307) / 0.3081, rtol=1e-5, atol=1e-6)
    assert y == int(labels[2]) + 100
    assert isinstance(ds, D.VisionDataset)
    lines = repr(ds).splitlines()
    assert lines[:4] == ["Dataset MNIST", "    Number of datapoints: 5", f"    Root location: {tmp_path}",
                         "    Split: Test"]
    assert lines[4:8] == ["    StandardTransform", "    Transform: Compose(", "                   ToTensor()",
                          "                   Normalize(mean=(0.1307,), std=(0.3081,))"]
    assert lines[8].startswith("               )") and lines[9].startswith("    Target transform: <function")


def test_mnist_missing_files_errors_name_the_files_and_folder(tmp_path):
    raw = os.path.join(str(tmp_path), "MNIST", "raw")
    with pytest.raises(RuntimeError, match=r"MNIST: Dataset not found\. Put train-images-idx3-ubyte\[\.gz\] and "
                                           r"train-labels-idx1-ubyte\[\.gz\] \(raw IDX or gzip\) in " + raw):
        D.MNIST(tmp_path)
    with pytest.raises(RuntimeError, match=r"download=True cannot fetch anything: lamina-datasets never downloads\. "
                                           r"Put t10k-images-idx3-ubyte\[\.gz\] and t10k-labels"):
        D.MNIST(tmp_path, train=False, download=True)
    os.makedirs(tmp_path / "FashionMNIST" / "processed")
    (tmp_path / "FashionMNIST" / "processed" / "training.pt").write_bytes(b"PK")
    with pytest.raises(RuntimeError, match=r"processed file .*training\.pt, a pickle, which lamina never loads.*"
                                           r"apt-get install dataset-fashion-mnist puts them in "
                                           r"/usr/share/datasets/fashion-mnist: pass that folder as root\."):
        D.FashionMNIST(tmp_path)


def test_mnist_download_true_with_files_present_just_reads(tmp_path):
    images, labels = fake_mnist(2)
    write_split(tmp_path, True, images, labels)  # directly in root: searched last
    assert len(D.MNIST(tmp_path, download=True)) == 2


# --- CIFAR ---------------------------------------------------------------------------------------
def _cifar_records(n, seed, label_bytes, n_classes):
    rng = np.random.default_rng(seed)
    chw = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    labels = rng.integers(0, n_classes, (n, label_bytes), dtype=np.uint8)
    return np.concatenate([labels, chw.reshape(n, -1)], axis=1).tobytes(), chw, labels[:, -1]


def test_cifar10_binary_batches(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    train_chw, train_labels = [], []
    for k in range(1, 6):
        raw, chw, lab = _cifar_records(2 + k, k, 1, 10)
        (folder / f"data_batch_{k}.bin").write_bytes(raw)
        train_chw.append(chw)
        train_labels.append(lab)
    raw, test_chw, test_labels = _cifar_records(4, 9, 1, 10)
    (folder / "test_batch.bin").write_bytes(raw)
    ds = D.CIFAR10(tmp_path)
    chw = np.concatenate(train_chw)
    assert len(ds) == 25 and ds.data.shape == (25, 32, 32, 3) and ds.data.dtype == np.uint8
    np.testing.assert_array_equal(ds.data, chw.transpose(0, 2, 3, 1))
    assert ds.targets == [int(v) for v in np.concatenate(train_labels)]
    img, y = ds[7]
    assert img.mode == "RGB" and img.size == (32, 32) and y == ds.targets[7]
    np.testing.assert_array_equal(np.asarray(img), chw[7].transpose(1, 2, 0))
    assert ds.classes[0] == "airplane" and ds.class_to_idx["truck"] == 9
    test = D.CIFAR10(tmp_path, train=False, transform=T.ToTensor())
    x, y = test[1]
    np.testing.assert_array_equal(x.numpy(), test_chw[1] / np.float32(255))
    assert y == int(test_labels[1]) and "Split: Test" in repr(test)


def test_cifar100_binary_fine_labels_and_names(tmp_path):
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    raw, chw, fine = _cifar_records(6, 3, 2, 100)
    (folder / "train.bin").write_bytes(raw)
    ds = D.CIFAR100(tmp_path)
    assert ds.targets == [int(v) for v in fine]
    np.testing.assert_array_equal(ds.data, chw.transpose(0, 2, 3, 1))
    assert len(ds.classes) == 100 and ds.classes[:2] == ["apple", "aquarium_fish"] and ds.classes[-1] == "worm"
    names = [f"class_{i}" for i in range(100)]
    (folder / "fine_label_names.txt").write_text("\n".join(names) + "\n")
    assert D.CIFAR100(tmp_path).classes == names


def test_cifar_errors(tmp_path):
    (tmp_path / "cifar-10-batches-py").mkdir()
    with pytest.raises(RuntimeError, match=r"CIFAR10: Dataset not found or corrupted\. Put the binary version's "
                                           r"data_batch_1\.bin, .*data_batch_5\.bin in .*cifar-10-batches-bin.*"
                                           r"the archive cifar-10-binary\.tar\.gz unpacks to that folder.*"
                                           r"the Python version, pickles that lamina never loads"):
        D.CIFAR10(tmp_path)
    with pytest.raises(RuntimeError, match=r"download=True cannot fetch anything.*test\.bin"):
        D.CIFAR100(tmp_path, train=False, download=True)
    (tmp_path / "test.bin").write_bytes(b"\x00" * 3073)
    with pytest.raises(RuntimeError, match=r"expected a whole number of 3074-byte records"):
        D.CIFAR100(tmp_path, train=False)


# --- folders ---------------------------------------------------------------------------------
def _tree(root):
    spec = {"dog": ["b.png", "a.png", "sub/c.png", "notes.txt"], "cat": ["z.PNG", "y.jpg"], "empty": []}
    colours = {}
    for k, (cls, files) in enumerate(sorted(spec.items())):
        os.makedirs(root / cls, exist_ok=True)
        for m, name in enumerate(files):
            path = root / cls / name
            os.makedirs(path.parent, exist_ok=True)
            if name.endswith(".txt"):
                path.write_text("not an image")
                continue
            colour = (10 * k, 20 * m, 200)
            Image.new("RGB" if m % 2 else "L", (3, 2), colour if m % 2 else 77).save(path,
                                                                                      format="PNG" if name.lower()
                                                                                      .endswith("png") else "JPEG")
            colours[str(path)] = colour if m % 2 else (77, 77, 77)
    return colours


def test_image_folder(tmp_path):
    colours = _tree(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"Found no valid file for the classes empty\. Supported extensions "
                                                r"are: \.jpg, \.jpeg, \.png"):
        D.ImageFolder(tmp_path)
    ds = D.ImageFolder(tmp_path, allow_empty=True)
    assert ds.classes == ["cat", "dog", "empty"] and ds.class_to_idx == {"cat": 0, "dog": 1, "empty": 2}
    rel = [(os.path.relpath(p, tmp_path), y) for p, y in ds.samples]
    assert rel == [("cat/y.jpg", 0), ("cat/z.PNG", 0), ("dog/a.png", 1), ("dog/b.png", 1), ("dog/sub/c.png", 1)]
    assert ds.targets == [0, 0, 1, 1, 1] and ds.imgs is ds.samples and len(ds) == 5
    img, y = ds[3]
    assert img.mode == "RGB" and img.size == (3, 2) and y == 1
    assert tuple(np.asarray(img)[0, 0]) == colours[ds.samples[3][0]]
    tensor_ds = D.ImageFolder(tmp_path, transform=T.PILToTensor(), allow_empty=True)
    assert tensor_ds[2][0].dtype == lamina.uint8 and tuple(tensor_ds[2][0].shape) == (3, 2, 3)


def test_dataset_folder_is_valid_file_loader_and_errors(tmp_path):
    _tree(tmp_path)
    ds = D.DatasetFolder(tmp_path, loader=lambda p: os.path.basename(p), is_valid_file=lambda p: p.endswith(".txt"),
                         allow_empty=True)
    assert [ds[i] for i in range(len(ds))] == [("notes.txt", 1)]
    ext = D.DatasetFolder(tmp_path, loader=len, extensions=(".jpg",), allow_empty=True)
    assert len(ext) == 1 and ext.extensions == (".jpg",)
    with pytest.raises(ValueError, match="Both extensions and is_valid_file cannot be None or not None"):
        D.DatasetFolder(tmp_path, loader=len)
    with pytest.raises(FileNotFoundError, match=r"Couldn't find any class folder in"):
        D.ImageFolder(tmp_path / "cat")
    assert folder.has_file_allowed_extension("A.JPEG", (".jpeg",)) and not folder.is_image_file("a.gif")
    assert folder.make_dataset(tmp_path, {"dog": 0}, extensions=".txt") == [(str(tmp_path / "dog" / "notes.txt"), 0)]


# --- FakeData ----------------------------------------------------------------------------------
def test_fakedata_deterministic_per_index_and_leaves_the_generator_alone():
    ds = D.FakeData(size=6, image_size=(3, 5, 4), num_classes=3, random_offset=10)
    lamina.manual_seed(0)
    img, y = ds[2]
    after = lamina.rand(1).item()
    lamina.manual_seed(0)
    assert after == lamina.rand(1).item()  # reading an item does not move the global generator
    assert img.mode == "RGB" and img.size == (4, 5) and 0 <= y < 3 and type(y) is int
    np.testing.assert_array_equal(np.asarray(ds[2][0]), np.asarray(img))
    lamina.manual_seed(12)  # index + random_offset
    ref = lamina.randn(3, 5, 4)
    ref_y = int(lamina.randint(0, 3, size=(1,))[0].item())
    np.testing.assert_array_equal(np.asarray(img), ref.mul(255).byte().permute(1, 2, 0).numpy())
    assert y == ref_y
    shifted = D.FakeData(size=6, image_size=(3, 5, 4), num_classes=3, random_offset=8)
    np.testing.assert_array_equal(np.asarray(shifted[4][0]), np.asarray(img))
    assert D.FakeData(3, (1, 2, 2))[0][0].mode == "L"
    with pytest.raises(IndexError, match="FakeData index out of range"):
        ds[6]
    assert len(ds) == 6 and repr(ds).splitlines() == ["Dataset FakeData", "    Number of datapoints: 6"]


def test_fakedata_labels_cover_the_classes():
    ds = D.FakeData(size=200, image_size=(1, 2, 2), num_classes=4, transform=T.ToTensor())
    labels = [ds[i][1] for i in range(200)]
    assert set(labels) == {0, 1, 2, 3}
    assert ds[0][0].dtype == lamina.float32
