"""torchvision's ``MNIST``, ``FashionMNIST`` and ``KMNIST``: IDX files in ``<root>/<ClassName>/raw/``.

The files are read as they are, raw or gzip-compressed (``train-images-idx3-ubyte[.gz]`` ...);
``<root>/<ClassName>/`` and ``<root>/`` are searched too. ``dataset[i]`` is ``(PIL image "L", int)``.
Nothing is ever downloaded: ``download=True`` only checks that the files are there. torchvision's
legacy ``processed/training.pt`` is a pickle, which lamina never loads; the error says so.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

from PIL import Image

from ...datasets import mnist as _base
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST"]


class MNIST(_base.MNIST, VisionDataset):
    """Handwritten digits: ``data`` uint8 ``(N, 28, 28)``, ``targets`` int64 ``(N,)``, PIL images on indexing."""

    training_file = "training.pt"
    test_file = "test.pt"

    def __init__(self, root: str | os.PathLike, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        VisionDataset.__init__(self, root, transform=transform, target_transform=target_transform)
        self.train = train
        self._load(*self._find_files(download))

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "processed")

    def _check_exists(self) -> bool:
        return self._locate() is not None

    def _find_files(self, download: bool) -> tuple[str, str]:
        found = self._locate()
        if found is not None:
            return found
        cls = type(self).__name__
        split = " and ".join(f"{stem}[.gz]" for stem in _base._FILES[bool(self.train)])
        where = (f"Put {split} (raw IDX or gzip) in {self.raw_folder} (torchvision's layout; "
                 f"{os.path.join(self.root, cls)} and {self.root} are searched too).")
        hint = f" {self.install_hint}" if self.install_hint else ""
        legacy = os.path.join(self.processed_folder, self.training_file if self.train else self.test_file)
        if os.path.isfile(legacy):
            where += (f" Found torchvision's processed file {legacy}, a pickle, which lamina never loads: "
                      "keep the raw files instead.")
        if download:
            raise RuntimeError(f"{cls}: download=True cannot fetch anything: lamina-datasets never downloads. "
                               f"{where}{hint}")
        raise RuntimeError(f"{cls}: Dataset not found. {where}{hint}")

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        img = Image.fromarray(self._images[index])
        target = int(self._labels[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"

    __repr__ = VisionDataset.__repr__


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 10 kinds of clothing, MNIST's sizes and file names."""

    classes: ClassVar[list[str]] = list(_base.FashionMNIST.classes)
    mean = _base.FashionMNIST.mean
    std = _base.FashionMNIST.std
    install_hint: ClassVar[str] = (f"{_base.FashionMNIST.install_hint.rstrip('.')} puts them in "
                                   f"{_base.FashionMNIST.default_root}: pass that folder as root.")


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 10 classes of cursive Japanese characters, MNIST's sizes and file names."""

    classes: ClassVar[list[str]] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
    # its per-channel statistics are not recorded here (they would come from the data, which ships apart)
    mean: ClassVar[tuple[float, ...]] = ()
    std: ClassVar[tuple[float, ...]] = ()
