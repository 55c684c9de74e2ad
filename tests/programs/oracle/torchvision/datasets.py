"""``MNIST`` read from IDX files in ``<root>/MNIST/raw/`` (raw or ``.gz``), items ``(PIL image "L", int)``."""

from __future__ import annotations

import gzip
import os

import numpy as np
import torch
from PIL import Image

__all__ = ["MNIST"]

_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _read_idx(path: str) -> np.ndarray:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise RuntimeError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


class MNIST(torch.utils.data.Dataset):
    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self.root, self.train = os.fspath(root), train
        self.transform, self.target_transform = transform, target_transform
        raw = os.path.join(self.root, "MNIST", "raw")
        paths = []
        for stem in _FILES[bool(train)]:
            for name in (stem, stem + ".gz"):
                if os.path.isfile(os.path.join(raw, name)):
                    paths.append(os.path.join(raw, name))
                    break
            else:
                raise RuntimeError(f"Dataset not found: {stem} in {raw}")
        self.data = torch.from_numpy(_read_idx(paths[0]).copy())
        self.targets = torch.from_numpy(_read_idx(paths[1]).astype(np.int64))

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = Image.fromarray(self.data[index].numpy(), mode="L"), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target
