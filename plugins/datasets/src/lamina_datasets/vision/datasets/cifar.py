"""torchvision's ``CIFAR10`` and ``CIFAR100``, read from the *binary* version of the data sets.

Never unpickled: the Python version (``cifar-10-batches-py``) is a set of pickles; lamina reads the
binary version, which has the same images in the same order:

- CIFAR-10: ``<root>/cifar-10-batches-bin/data_batch_1.bin`` .. ``data_batch_5.bin`` and
  ``test_batch.bin``; each record is 1 label byte then 3072 pixel bytes (1024 R, 1024 G, 1024 B,
  row-major 32x32). ``batches.meta.txt`` (class names, one a line) is optional.
- CIFAR-100: ``<root>/cifar-100-binary/train.bin`` and ``test.bin``; each record is a coarse label
  byte, a fine label byte, then 3072 pixel bytes. ``targets`` are the fine labels.
  ``fine_label_names.txt`` is optional.

The files may also sit directly in ``<root>``. ``data`` is uint8 ``(N, 32, 32, 3)`` (NumPy, as
torchvision), ``targets`` a list of ints, ``dataset[i]`` is ``(PIL image "RGB", int)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from .vision import VisionDataset

__all__ = ["CIFAR10", "CIFAR100"]

_PIXELS = 3 * 32 * 32


class CIFAR10(VisionDataset):
    """CIFAR-10: 50000 training and 10000 test colour images 32x32 in 10 classes."""

    base_folder: ClassVar[str] = "cifar-10-batches-bin"
    python_folder: ClassVar[str] = "cifar-10-batches-py"
    binary_archive: ClassVar[str] = "cifar-10-binary.tar.gz"
    train_list: ClassVar[list[str]] = [f"data_batch_{i}.bin" for i in range(1, 6)]
    test_list: ClassVar[list[str]] = ["test_batch.bin"]
    label_bytes: ClassVar[int] = 1  # the label used is the last of them
    meta_file: ClassVar[str] = "batches.meta.txt"
    default_classes: ClassVar[list[str]] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                            "horse", "ship", "truck"]

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = self._find_folder(download)
        images, labels = [], []
        for name in self.train_list if train else self.test_list:
            batch_images, batch_labels = self._read_batch(os.path.join(folder, name))
            images.append(batch_images)
            labels.append(batch_labels)
        self.data = np.concatenate(images) if images else np.zeros((0, 32, 32, 3), np.uint8)
        self.targets = [int(t) for t in np.concatenate(labels)]
        self._load_meta(folder)

    def _folders(self) -> list[str]:
        return [os.path.join(self.root, self.base_folder), os.fspath(self.root)]

    def _find_folder(self, download: bool) -> str:
        wanted = self.train_list if self.train else self.test_list
        for folder in self._folders():
            if all(os.path.isfile(os.path.join(folder, name)) for name in wanted):
                return folder
        cls = type(self).__name__
        where = (f"Put the binary version's {', '.join(wanted)} in {self._folders()[0]} "
                 f"(or in {self._folders()[1]}): the archive {self.binary_archive} unpacks to that folder.")
        if os.path.isdir(os.path.join(self.root, self.python_folder)):
            where += (f" Found {os.path.join(self.root, self.python_folder)}: that is the Python version, pickles "
                      "that lamina never loads; use the binary version of the data set.")
        if download:
            raise RuntimeError(f"{cls}: download=True cannot fetch anything: lamina-datasets never downloads. "
                               f"{where}")
        raise RuntimeError(f"{cls}: Dataset not found or corrupted. {where}")

    def _read_batch(self, path: str) -> tuple[np.ndarray, np.ndarray]:
        raw = np.fromfile(path, dtype=np.uint8)
        record = self.label_bytes + _PIXELS
        if raw.size % record:
            raise RuntimeError(f"{path}: expected a whole number of {record}-byte records ({self.label_bytes} "
                               f"label byte(s) + {_PIXELS} pixel bytes), got {raw.size} bytes")
        rows = raw.reshape(-1, record)
        labels = rows[:, self.label_bytes - 1].astype(np.int64)
        if labels.size and int(labels.max()) >= len(self.default_classes):
            raise RuntimeError(f"{path}: expected labels in [0, {len(self.default_classes) - 1}], got "
                               f"{int(labels.max())}")
        images = rows[:, self.label_bytes:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        return np.ascontiguousarray(images), labels

    def _load_meta(self, folder: str) -> None:
        path = os.path.join(folder, self.meta_file)
        names = list(self.default_classes)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                listed = [line.strip() for line in fh if line.strip()]
            if len(listed) == len(names):
                names = listed
        self.classes = names
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img, target = Image.fromarray(self.data[index]), self.targets[index]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: the same images sizes, 100 fine classes (``targets``) grouped in 20 coarse ones."""

    base_folder: ClassVar[str] = "cifar-100-binary"
    python_folder: ClassVar[str] = "cifar-100-python"
    binary_archive: ClassVar[str] = "cifar-100-binary.tar.gz"
    train_list: ClassVar[list[str]] = ["train.bin"]
    test_list: ClassVar[list[str]] = ["test.bin"]
    label_bytes: ClassVar[int] = 2
    meta_file: ClassVar[str] = "fine_label_names.txt"
    default_classes: ClassVar[list[str]] = [
        "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle", "bowl",
        "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle", "chair",
        "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup", "dinosaur", "dolphin",
        "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house", "kangaroo", "keyboard", "lamp",
        "lawn_mower", "leopard", "lion", "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain",
        "mouse", "mushroom", "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck",
        "pine_tree", "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
        "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider",
        "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank", "telephone", "television",
        "tiger", "tractor", "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman",
        "worm"]
