"""Whole PyTorch programs (tests/programs/, letter a) run on real torch and by ``lamina run`` from the same
initial weights and data; losses of every step, printed metrics and final parameters compared."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from programs.harness import assert_same, run_pair  # noqa: E402


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw))
    else:
        path.write_bytes(raw)


def _write_mnist(root: Path, n_train: int = 64, n_test: int = 32, seed: int = 0) -> None:
    """Tiny MNIST in torchvision's layout: each class a blurred random stroke template plus noise, so a few
    steps of training move the accuracy. Train files gzip-compressed, test files raw (both forms read)."""
    rng = np.random.default_rng(seed)
    templates = rng.random((10, 28, 28)) < 0.15
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, n, compress in (("train", n_train, True), ("t10k", n_test, False)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = templates[labels] * rng.uniform(150, 255, (n, 28, 28)) + rng.uniform(0, 60, (n, 28, 28))
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", np.clip(images, 0, 255).astype(np.uint8), compress)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels, compress)


_TEST_LINE = re.compile(r"Test set: Average loss: (\d+\.\d{4}), Accuracy: (\d+)/(\d+) \((\d+)%\)")


def test_mnist_cnn(tmp_path):
    # dropout p=0 in both runs (--dropout1/2 0): the two frameworks draw different dropout masks
    _write_mnist(tmp_path / "data")
    args = ["--data", str(tmp_path / "data"), "--batch-size", "16", "--test-batch-size", "16", "--epochs", "2",
            "--lr", "1.0", "--dropout1", "0", "--dropout2", "0", "--log-interval", "2", "--save-model"]
    ref, got = run_pair("mnist_cnn.py", args, tmp_path)
    assert_same(ref, got, rtol=1e-4, atol=1e-5)
    steps = [r for r in ref.log if "loss" in r]
    assert len(steps) == 8 and steps[-1]["loss"] < steps[0]["loss"]
    lrs = [r["lr"] for r in ref.log if r.get("kind") == "lr"]
    assert lrs == pytest.approx([0.7, 0.49])
    # printed metrics: the same "Test set:" lines (2 epochs + the reloaded checkpoint)
    ref_lines, got_lines = _TEST_LINE.findall(ref.stdout), _TEST_LINE.findall(got.stdout)
    assert len(ref_lines) == 3 and got_lines == ref_lines
    assert ref_lines[-1] == ref_lines[-2]  # the reloaded checkpoint scores as the trained model
