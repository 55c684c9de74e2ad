"""add_embedding: the projector's files (tensors.tsv, metadata.tsv, sprite.png, projector_config.pbtxt)
hold exactly the given points, labels and images (and equal PyTorch's writer's, byte for byte)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest
from _tensorboard_readback import decode_png
from google.protobuf import text_format
from lamina.utils.tensorboard import SummaryWriter
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

RNG = np.random.default_rng(7)
MAT = RNG.normal(size=(10, 5)).astype(np.float32)
LABELS = [f"word{i}" for i in range(10)]
IMAGES = RNG.random((10, 3, 4, 6)).astype(np.float32)


def config(folder) -> ProjectorConfig:
    return text_format.Parse((folder / "projector_config.pbtxt").read_text(), ProjectorConfig())


def test_points_labels_and_sprite_are_written_and_listed(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(lamina.tensor(MAT), metadata=LABELS, label_img=lamina.tensor(IMAGES), global_step=12,
                        tag="layer/fc 1%")
        w.add_embedding(MAT[:3] * 2, tag="plain")
    folder = tmp_path / "00012" / "layer%2ffc 1%25"
    rows = [line.split("\t") for line in (folder / "tensors.tsv").read_text().splitlines()]
    np.testing.assert_array_equal(np.array(rows, dtype=np.float64).astype(np.float32), MAT)
    assert (folder / "metadata.tsv").read_text() == "".join(f"{label}\n" for label in LABELS)
    sprite = decode_png((folder / "sprite.png").read_bytes())
    # ceil(sqrt(10)) = 4 images of 4 x 6 per row, 3 rows, on a square black canvas as wide as a row
    assert sprite.shape == (24, 24, 3)
    for i in range(10):
        r, c = divmod(i, 4)
        expected = np.clip(IMAGES[i].transpose(1, 2, 0).astype(np.float64) * 255, 0, 255).astype(np.uint8)
        np.testing.assert_array_equal(sprite[r * 4:(r + 1) * 4, c * 6:(c + 1) * 6], expected)
    assert not sprite[12:].any() and not sprite[8:12, 12:].any()  # empty cells are black
    first, second = config(tmp_path).embeddings
    assert (first.tensor_name, first.tensor_path, first.metadata_path, first.sprite.image_path) == (
        "layer/fc 1%:00012", "00012/layer%2ffc 1%25/tensors.tsv", "00012/layer%2ffc 1%25/metadata.tsv",
        "00012/layer%2ffc 1%25/sprite.png")
    assert list(first.sprite.single_image_dim) == [6, 4]  # (W, H)
    assert (second.tensor_name, second.tensor_path, second.metadata_path) == ("plain:00000",
                                                                             "00000/plain/tensors.tsv", "")
    assert not (tmp_path / "00000" / "plain" / "metadata.tsv").exists()


def test_multi_column_metadata_has_a_header_line(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(MAT[:2], metadata=[["a", 1], ["b", 2]], metadata_header=["name", "count"])
        with pytest.raises(ValueError, match="add_embedding: expected every metadata row to have 2 columns"):
            w.add_embedding(MAT[:2], metadata=[["a"], ["b"]], metadata_header=["name", "count"], global_step=1)
    assert (tmp_path / "00000" / "default" / "metadata.tsv").read_text() == "name\tcount\na\t1\nb\t2\n"


def test_files_equal_pytorch_byte_for_byte(tmp_path):
    torch = pytest.importorskip("torch")
    writer_class = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    calls = [dict(metadata=LABELS, global_step=3, tag="emb"), dict(global_step=4, tag="a/b"),
             dict(metadata=[["x", 1.5]] * 10, metadata_header=["name", "score"], tag="cols")]
    for folder, writer, img in (("ours", SummaryWriter, IMAGES), ("torch", writer_class, torch.from_numpy(IMAGES))):
        with writer(str(tmp_path / folder)) as w:
            for i, kwargs in enumerate(calls):
                w.add_embedding(MAT, label_img=img if i == 0 else None, **kwargs)
    ours = {p.relative_to(tmp_path / "ours"): p.read_bytes() for p in (tmp_path / "ours").rglob("*")
            if p.is_file() and not p.name.startswith("events.")}
    theirs = {p.relative_to(tmp_path / "torch"): p.read_bytes() for p in (tmp_path / "torch").rglob("*")
              if p.is_file() and not p.name.startswith("events.")}
    assert sorted(ours) == sorted(theirs) and len(ours) == 7
    for path in ours:
        assert ours[path] == theirs[path], path


@pytest.mark.parametrize("kwargs, match", [
    (dict(mat=np.zeros((2, 3, 4))), r"add_embedding: expected mat \(N, D\), one row per data point, got shape"),
    (dict(mat=np.zeros((2, 3)), metadata=["a"]), r"expected one metadata entry per data point \(2\), got 1"),
    (dict(mat=np.zeros((2, 3)), label_img=np.zeros((3, 3, 2, 2))), r"expected label_img \(N, C, H, W\) with N = 2"),
])
def test_bad_embeddings_are_named(tmp_path, kwargs, match):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match=match):
        w.add_embedding(**kwargs)


def test_writing_the_same_step_and_tag_twice_warns(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_embedding(MAT)
        with pytest.warns(UserWarning, match="add_embedding: .* exists and is overwritten"):
            w.add_embedding(MAT * 0)
    assert (tmp_path / "00000" / "default" / "tensors.tsv").read_text().count("0.0") == MAT.size
