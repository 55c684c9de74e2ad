"""scikit-learn's bundled 8x8 handwritten digits (``sklearn.datasets.load_digits``): offline, 1797 images.

The train/test split is deterministic and stratified, as ``train_test_split(stratify=y,
random_state=0)`` would make it: the images of every class are shuffled with a fixed NumPy seed
(``split_seed``, independent of lamina's RNG) and the first ``round(n_c * test_fraction)`` of them
are the test set. (Taking the last images of each class instead would put mostly unseen writers in
the test set, a harder task: the tutorial ConvNet then reaches about 94-96% instead of about 99%.)
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


def split_indices(labels: np.ndarray, train: bool, test_fraction: float, seed: int = 0) -> np.ndarray:
    """Sorted indices of the train or test split: per class, a seeded ``round(n_c * test_fraction)`` are test."""
    rng = np.random.RandomState(seed)
    test = np.zeros(labels.shape[0], dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        k = int(round(idx.size * test_fraction))
        test[idx[rng.permutation(idx.size)[:k]]] = True
    return np.flatnonzero(~test if train else test)


class Digits(Dataset):
    """Handwritten digits 0-9 as 8x8 images with 17 grey levels, scaled to [0, 1].

    ``dataset[i]`` is ``(image, label)``: the image is a ``(1, 8, 8)`` float32 tensor passed through
    ``transform``; the label is an int passed through ``target_transform``. ``.data`` (float32,
    ``(N, 8, 8)``) and ``.targets`` (int64, ``(N,)``) hold the whole split.
    """

    classes: ClassVar[list[str]] = [str(d) for d in range(10)]

    def __init__(self, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, test_fraction: float = 0.2,
                 split_seed: int = 0) -> None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"Digits: expected 0 < test_fraction < 1, got {test_fraction}")
        images, labels = _load_digits()
        keep = split_indices(labels, train, test_fraction, split_seed)
        self.train = train
        self.test_fraction = test_fraction
        self.split_seed = split_seed
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
                 f"    Split: {'Train' if self.train else 'Test'} (test_fraction={self.test_fraction}, "
                 f"split_seed={self.split_seed})"]
        if self.transform is not None:
            lines.append(f"    Transform: {self.transform!r}".replace("\n", "\n    "))
        return "\n".join(lines)
