"""The embedding projector's files: ``<step:05d>/<tag>/`` holding tensors.tsv, metadata.tsv and
sprite.png, listed in the run's projector_config.pbtxt."""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from google.protobuf import text_format
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

from ._convert import make_np
from ._media import encode_png, make_grid

CONFIG_FILE = "projector_config.pbtxt"


def encode_tag(tag: str) -> str:
    """``tag`` as one folder name: ``%``, ``/`` and ``\\`` percent-encoded."""
    return tag.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def tensors_tsv(mat: np.ndarray) -> str:
    """One row per data point, values tab-separated, each written as its Python number's ``str``."""
    return "".join("\t".join(str(v) for v in row.tolist()) + "\n" for row in mat)


def metadata_tsv(metadata: Sequence[Any], metadata_header: Sequence[str] | None) -> str:
    """One label per line; with ``metadata_header``, a header line and tab-separated columns."""
    if not metadata_header:
        return "".join(str(label) + "\n" for label in metadata)
    for i, row in enumerate(metadata):
        if len(row) != len(metadata_header):
            raise ValueError(f"add_embedding: expected every metadata row to have {len(metadata_header)} columns "
                             f"(one per metadata_header entry), got {len(row)} in row {i}")
    lines = [metadata_header, *metadata]
    return "".join("\t".join(str(v) for v in line) + "\n" for line in lines)


def sprite_png(label_img: np.ndarray) -> bytes:
    """The images tiled ceil(sqrt(N)) per row on a black square canvas, as PNG.

    Shape: label_img (N, C, H, W), C in {1, 3}, float in [0, 1] or uint8.
    """
    per_row = math.ceil(len(label_img) ** 0.5)
    grid = make_grid(label_img, ncols=per_row).transpose(1, 2, 0)  # (rows * H, per_row * W, 3)
    side = max(grid.shape[0], grid.shape[1])
    canvas = np.zeros((side, grid.shape[1], 3), dtype=np.float64)
    canvas[:grid.shape[0]] = grid[..., :3]
    if grid.dtype != np.uint8:  # scaled in float64, after the copy, as torch's sprite writer does
        canvas *= 255.0
    return encode_png(canvas.clip(0, 255).astype(np.uint8))


def write_embedding(logdir: str, config: ProjectorConfig, mat: Any, metadata: Sequence[Any] | None,
                    label_img: Any, global_step: int | None, tag: str,
                    metadata_header: Sequence[str] | None) -> None:
    """Write one embedding's files under ``logdir`` and add it to ``config`` (rewritten in full).

    Shape: mat (N, D); metadata N labels (or N rows of len(metadata_header)); label_img (N, C, H, W).
    """
    mat = make_np(mat, "add_embedding")
    if mat.ndim != 2:
        raise ValueError(f"add_embedding: expected mat (N, D), one row per data point, got shape {tuple(mat.shape)}")
    images = None if label_img is None else make_np(label_img, "add_embedding")
    if metadata is not None and len(metadata) != len(mat):
        raise ValueError(f"add_embedding: expected one metadata entry per data point ({len(mat)}), got {len(metadata)}")
    if images is not None and (images.ndim != 4 or len(images) != len(mat)):
        raise ValueError(f"add_embedding: expected label_img (N, C, H, W) with N = {len(mat)}, "
                         f"got shape {tuple(images.shape)}")
    step = 0 if global_step is None else int(global_step)
    subdir = f"{step:05d}/{encode_tag(tag)}"
    path = os.path.join(logdir, subdir)
    if os.path.isdir(path):
        warnings.warn(f"add_embedding: {path} exists and is overwritten; pass a distinct global_step or tag "
                      f"for each embedding", UserWarning, stacklevel=3)
    elif os.path.exists(path):
        raise NotADirectoryError(f"add_embedding: {path} exists and is a file, not a folder")
    os.makedirs(path, exist_ok=True)
    info = EmbeddingInfo(tensor_name=f"{tag}:{step:05d}", tensor_path=f"{subdir}/tensors.tsv")
    if metadata is not None:
        _write(os.path.join(path, "metadata.tsv"), metadata_tsv(metadata, metadata_header).encode("utf-8"))
        info.metadata_path = f"{subdir}/metadata.tsv"
    if images is not None:
        _write(os.path.join(path, "sprite.png"), sprite_png(images))
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([images.shape[3], images.shape[2]])  # (W, H)
    _write(os.path.join(path, "tensors.tsv"), tensors_tsv(mat).encode("utf-8"))
    config.embeddings.extend([info])
    _write(os.path.join(logdir, CONFIG_FILE), text_format.MessageToString(config).encode("utf-8"))


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
