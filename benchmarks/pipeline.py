"""The input-pipeline workload: CIFAR-style augmentation through each framework's ``DataLoader``.

A dataset of N seeded 32x32x3 uint8 images (HWC, as stored by CIFAR) whose ``__getitem__`` does what
torchvision's ``RandomCrop(32, padding=4)``, ``RandomHorizontalFlip()``, ``ToTensor()`` and
``Normalize(mean, std)`` do, written once in NumPy plus the framework's ``from_numpy``. It is loaded
by ``lib.utils.data.DataLoader(batch_size=128, shuffle=False)`` with 0 workers, and with 2
persistent workers; one step is one epoch.

The crop offsets and flips are drawn once per image from a seeded generator when the dataset is
built (not in ``__getitem__``), so every worker count and both frameworks yield bitwise the same
batches: the parity check compares the first and last batch of an epoch.

``python benchmarks/pipeline.py`` runs only these workloads (it calls ``run.py``).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np
from _bench_util import Bench, framework, to_numpy

IMAGES = 4096  # 32 batches of 128 per epoch
BATCH = 128
SIZE, PAD = 32, 4
MEAN = np.array([0.4914, 0.4822, 0.4465], dtype=np.float32).reshape(3, 1, 1)
STD = np.array([0.2470, 0.2435, 0.2616], dtype=np.float32).reshape(3, 1, 1)
NAME = "input pipeline (crop+flip+norm) DataLoader b128, {w} workers"


class AugmentedImages:
    """N seeded uint8 images, augmented on access.

    Shape: item i -> (image (3, 32, 32) float32 normalised, label int)
    """

    def __init__(self, fw: str, n: int = IMAGES, seed: int = 31) -> None:
        rng = np.random.default_rng(seed)
        self.fw = fw  # a name, not the module, so the dataset pickles under any start method
        self.images = rng.integers(0, 256, (n, SIZE, SIZE, 3), dtype=np.uint8)
        self.labels = rng.integers(0, 10, n).tolist()
        self.offsets = rng.integers(0, 2 * PAD + 1, (n, 2)).tolist()  # top, left in the padded image
        self.flips = (rng.random(n) < 0.5).tolist()
        self._from_numpy = None

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[Any, int]:
        if self._from_numpy is None:
            self._from_numpy = framework(self.fw).from_numpy
        padded = np.zeros((SIZE + 2 * PAD, SIZE + 2 * PAD, 3), dtype=np.uint8)
        padded[PAD:PAD + SIZE, PAD:PAD + SIZE] = self.images[i]
        top, left = self.offsets[i]
        crop = padded[top:top + SIZE, left:left + SIZE]
        if self.flips[i]:
            crop = crop[:, ::-1]
        chw = np.ascontiguousarray(crop.transpose(2, 0, 1))  # HWC -> CHW, as ToTensor
        x = (chw.astype(np.float32) * np.float32(1 / 255) - MEAN) / STD
        return self._from_numpy(x), self.labels[i]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_from_numpy": None}


def loader_bench(fw: str, workers: int) -> Bench:
    """One epoch of ``AugmentedImages`` through ``DataLoader(batch_size=128, num_workers=workers)``."""
    lib = framework(fw)
    loader = lib.utils.data.DataLoader(AugmentedImages(fw), batch_size=BATCH, shuffle=False,
                                       num_workers=workers, persistent_workers=workers > 0)

    def step() -> None:
        for _ in loader:
            pass

    def probe() -> np.ndarray:  # the first and last batch of one epoch, images then labels
        kept = []
        for i, (x, y) in enumerate(loader):
            if i == 0 or i == len(loader) - 1:
                kept += [to_numpy(x).ravel(), to_numpy(y).ravel()]
        return np.concatenate(kept)

    return Bench(step, probe)


def summary(rows: list[dict], threads: int) -> dict:
    """Images/s of each framework with 0 and 2 workers and the speedup of 2 workers over 0, printed."""
    by_workers = {}
    for w in (0, 2):
        r = next((r for r in rows if r["workload"] == NAME.format(w=w)), None)
        if r is None or "skipped" in r:
            return {}
        by_workers[w] = {fw: IMAGES / (r[f"{fw}_ms"] / 1e3) for fw in ("lamina", "torch")}
    out = {"images_per_s": by_workers, "lamina_speedup": by_workers[2]["lamina"] / by_workers[0]["lamina"],
           "torch_speedup": by_workers[2]["torch"] / by_workers[0]["torch"]}
    ok = "ok" if out["lamina_speedup"] >= 1.7 else "UNDER"
    vs = "ok" if by_workers[2]["lamina"] >= by_workers[2]["torch"] else "UNDER"
    print(f"\n## Input pipeline, {threads} thread(s): images/s (median epoch of {IMAGES} images)")
    for w in (0, 2):
        print(f"{w} workers: lamina {by_workers[w]['lamina']:8.0f}  torch {by_workers[w]['torch']:8.0f}")
    print(f"2 workers / 0 workers: lamina {out['lamina_speedup']:.2f}x (target >= 1.7x: {ok}), torch "
          f"{out['torch_speedup']:.2f}x; lamina 2 workers >= torch 2 workers: {vs}")
    return out


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import run

    raise SystemExit(run.main(["--only", "input pipeline", "--no-import-time", *sys.argv[1:]]))
