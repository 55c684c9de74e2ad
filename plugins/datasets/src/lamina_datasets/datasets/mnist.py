"""MNIST and Fashion-MNIST from IDX files already on disk (this build never downloads).

Where the files are looked for, first match wins, each name raw or with ``.gz``:
``<root>/<ClassName>/raw/``, ``<root>/<ClassName>/``, ``<root>/``. With ``root=None`` the
default root of the class is used: ``/usr/share/datasets/mnist`` for MNIST and
``/usr/share/datasets/fashion-mnist`` for Fashion-MNIST (where Debian's ``dataset-fashion-mnist``
package installs its ``*-ubyte.gz`` files).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

import lamina
import numpy as np
from lamina.utils.data import Dataset

from ._idx import IDXFormatError, read_idx

__all__ = ["MNIST", "FashionMNIST"]

_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


class MNIST(Dataset):
    """Handwritten digits 0-9: 60000 training and 10000 test images, 28x28 grey levels.

    ``dataset[i]`` is ``(image, label)``: the image is a ``(28, 28)`` uint8 NumPy array (what a PIL
    image is to torchvision) passed through ``transform`` (``transforms.ToTensor()`` makes it a
    ``(1, 28, 28)`` float tensor in [0, 1]); the label is an int passed through ``target_transform``.
    ``.data`` (uint8, ``(N, 28, 28)``) and ``.targets`` (int64, ``(N,)``) hold the whole split as
    tensors, for building a ``TensorDataset`` in one go.
    """

    default_root: ClassVar[str] = "/usr/share/datasets/mnist"
    classes: ClassVar[list[str]] = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
                                    "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    #: per-channel mean and standard deviation of the training images scaled to [0, 1]
    mean: ClassVar[tuple[float, ...]] = (0.1307,)
    std: ClassVar[tuple[float, ...]] = (0.3081,)
    install_hint: ClassVar[str] = ""

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        self.root = os.fspath(root) if root is not None else self.default_root
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self._load(*self._find_files(download))

    def _load(self, image_file: str, label_file: str) -> None:
        """Read and validate the split's two IDX files into ``data`` and ``targets``."""
        images, labels = read_idx(image_file), read_idx(label_file)
        self._check(images, labels, image_file, label_file)
        self._images = images
        self._labels = labels.astype(np.int64)
        self.data = lamina.from_numpy(self._images)
        self.targets = lamina.from_numpy(self._labels)

    # --- files --------------------------------------------------------------------------------
    def _search_dirs(self) -> list[str]:
        name = type(self).__name__
        return [os.path.join(self.root, name, "raw"), os.path.join(self.root, name), self.root]

    def _locate(self) -> tuple[str, str] | None:
        """The split's image and label files, from the first search folder that has both; None if none has."""
        for folder in self._search_dirs():
            found = [_first_existing(folder, stem) for stem in _FILES[bool(self.train)]]
            if all(found):
                return found[0], found[1]  # type: ignore[return-value]
        return None

    def _find_files(self, download: bool) -> tuple[str, str]:
        found = self._locate()
        if found is not None:
            return found
        wanted = _FILES[bool(self.train)]
        cls = type(self).__name__
        where = ", ".join(self._search_dirs())
        files = " and ".join(f"{stem}[.gz]" for stem in wanted)
        hint = f" {self.install_hint}" if self.install_hint else ""
        if download:
            raise RuntimeError(f"{cls}: download=True is not supported: this build cannot download data sets. "
                               f"Put {files} (raw IDX or gzip) in one of: {where}.{hint}")
        raise FileNotFoundError(f"{cls}: dataset files not found: expected {files} in one of: {where}.{hint}")

    def _check(self, images: np.ndarray, labels: np.ndarray, image_file: str, label_file: str) -> None:
        if images.dtype != np.uint8 or images.ndim != 3:
            raise IDXFormatError(f"{image_file}: expected uint8 images of shape (N, H, W), "
                                 f"got {images.dtype} of shape {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1:
            raise IDXFormatError(f"{label_file}: expected uint8 labels of shape (N,), "
                                 f"got {labels.dtype} of shape {labels.shape}")
        if labels.shape[0] != images.shape[0]:
            raise IDXFormatError(f"{type(self).__name__}: expected as many labels as images, got "
                                 f"{labels.shape[0]} labels in {label_file} for {images.shape[0]} images "
                                 f"in {image_file}")
        if labels.size and int(labels.max()) >= len(self.classes):
            raise IDXFormatError(f"{label_file}: expected labels in [0, {len(self.classes) - 1}], "
                                 f"got {int(labels.max())}")

    # --- Dataset ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._images.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image, target = self._images[index], int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Root location: {self.root}", f"    Split: {'Train' if self.train else 'Test'}"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        if self.target_transform is not None:
            lines.append(f"    Target transform: {self.target_transform!r}")
        return "\n".join(lines)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 10 kinds of clothing, same sizes and file layout as MNIST."""

    default_root: ClassVar[str] = "/usr/share/datasets/fashion-mnist"
    classes: ClassVar[list[str]] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                    "Sneaker", "Bag", "Ankle boot"]
    mean: ClassVar[tuple[float, ...]] = (0.2860,)
    std: ClassVar[tuple[float, ...]] = (0.3530,)
    install_hint: ClassVar[str] = "On Debian/Ubuntu: apt-get install dataset-fashion-mnist."


def _first_existing(folder: str, stem: str) -> str | None:
    for candidate in (os.path.join(folder, stem), os.path.join(folder, stem + ".gz")):
        if os.path.isfile(candidate):
            return candidate
    return None
