"""scikit-learn's bundled 8x8 handwritten digits (``sklearn.datasets.load_digits``): offline, 1797 images.

The train/test split is deterministic and stratified: for every class, the last ``test_fraction``
of its images (in the file's order) are the test set. The file is ordered by writer, so the test
images come mostly from writers the training set has not seen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import lamina
import numpy as np
from lamina.utils.data import Dataset

__all__ = ["Digits"]


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError("Digits needs scikit-learn (it ships the data): pip install 'lamina-datasets[digits]' "
                          "or pip install scikit-learn") from e
    bunch = load_digits()
    return np.asarray(bunch.images), np.asarray(bunch.target)


def split_indices(labels: np.ndarray, train: bool, test_fraction: float) -> np.ndarray:
    """Indices of the train or test split: per class, the last ``round(n_c * test_fraction)`` are test."""
    test = np.zeros(labels.shape[0], dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = int(round(idx.size * test_fraction))
        if k:
            test[idx[idx.size - k:]] = True
    return np.flatnonzero(~test if train else test)


class Digits(Dataset):
    """Handwritten digits 0-9 as 8x8 images with 17 grey levels, scaled to [0, 1].

    ``dataset[i]`` is ``(image, label)``: the image is a ``(1, 8, 8)`` float32 tensor passed through
    ``transform``; the label is an int passed through ``target_transform``. ``.data`` (float32,
    ``(N, 8, 8)``) and ``.targets`` (int64, ``(N,)``) hold the whole split.
    """

    classes: ClassVar[list[str]] = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, test_fraction: float = 0.2) -> None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"Digits: expected 0 < test_fraction < 1, got {test_fraction}")
        images, labels = _load_digits()
        keep = split_indices(labels, train, test_fraction)
        self.train = train
        self.test_fraction = test_fraction
        self.transform = transform
        self.target_transform = target_transform
        self._images = (images[keep] / 16.0).astype(np.float32)
        self._labels = labels[keep].astype(np.int64)
        self.data = lamina.from_numpy(self._images)
        self.targets = lamina.from_numpy(self._labels)

    def __len__(self) -> int:
        return int(self._images.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = self.data[index].unsqueeze(0)
        target: Any = int(self._labels[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}", f"    Number of datapoints: {len(self)}",
                 f"    Split: {'Train' if self.train else 'Test'} (test_fraction={self.test_fraction})"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        return "\n".join(lines)
