"""Reading event files back for the lamina-tensorboard tests: tensorboard's own EventAccumulator,
PNG decoding by Pillow, and PyTorch's SummaryWriter as the oracle (skipped without torch)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import STORE_EVERYTHING_SIZE_GUIDANCE, EventAccumulator


def read_run(folder: str | os.PathLike) -> EventAccumulator:
    """Every event of every event file directly in ``folder`` (not its sub-folders), nothing sampled away."""
    accumulator = EventAccumulator(str(folder), size_guidance=STORE_EVERYTHING_SIZE_GUIDANCE)
    accumulator.Reload()
    return accumulator


def event_files(folder: str | os.PathLike) -> list[Path]:
    return sorted(p for p in Path(folder).iterdir() if p.name.startswith("events.out.tfevents."))


def decode_png(data: bytes) -> np.ndarray:
    """PNG bytes as an (H, W, C) uint8 array."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as picture:
        assert picture.format == "PNG"
        return np.asarray(picture).copy()


def torch_writer():
    """torch.utils.tensorboard.SummaryWriter, the oracle."""
    return pytest.importorskip("torch.utils.tensorboard").SummaryWriter


def scalars(accumulator: EventAccumulator, tag: str) -> list[tuple[int, float, float]]:
    return [(e.step, e.value, e.wall_time) for e in accumulator.Scalars(tag)]
