"""add_image / add_images / add_image_with_boxes / add_figure / add_video / add_audio: the encoded
pictures and sounds decode back to the expected pixels and samples (and to PyTorch's writer's)."""

from __future__ import annotations

import io
import wave

import lamina
import numpy as np
import pytest
from _tensorboard_readback import decode_png, read_run, torch_writer
from lamina.utils.tensorboard import SummaryWriter

RNG = np.random.default_rng(5)


def expected_uint8(pixels: np.ndarray) -> np.ndarray:
    """torch's pixel rule: uint8 kept; else x * 255 in float32, clipped to [0, 255], truncated."""
    if pixels.dtype == np.uint8:
        return pixels
    return np.clip(pixels.astype(np.float32) * np.float32(255), 0, 255).astype(np.uint8)


def read_image(folder, tag, check_size=True):
    (event,) = read_run(folder).Images(tag)
    pixels = decode_png(event.encoded_image_string)
    assert not check_size or (event.height, event.width) == pixels.shape[:2]
    return pixels


CHW_FLOAT = np.concatenate([RNG.random((3, 4, 5)), np.full((3, 1, 5), 0.5), np.full((3, 1, 5), 1.3)], axis=1)


@pytest.mark.parametrize("name, image, dataformats, expected_hwc", [
    ("CHW float", CHW_FLOAT, "CHW", CHW_FLOAT.transpose(1, 2, 0)),
    ("CHW float32 lamina", lamina.tensor(CHW_FLOAT.astype(np.float32)), "CHW", CHW_FLOAT.astype(np.float32)
     .transpose(1, 2, 0)),
    ("HWC uint8", RNG.integers(0, 256, (6, 7, 3), dtype=np.uint8), "HWC", None),
    ("HW gray", RNG.random((4, 9)), "HW", None),
    ("WH gray", RNG.random((9, 4)), "WH", None),
    ("1HW gray", RNG.random((1, 5, 5)), "CHW", None),
    ("RGBA CHW", RNG.random((4, 3, 6)), "CHW", None),
])
def test_one_image_decodes_to_the_expected_pixels(tmp_path, name, image, dataformats, expected_hwc):
    with SummaryWriter(tmp_path) as w:
        w.add_image("img", image, 0, dataformats=dataformats)
    array = image.numpy() if isinstance(image, lamina.Tensor) else image
    if expected_hwc is None:
        hwc = {"HWC": lambda a: a, "HW": lambda a: a[:, :, None], "WH": lambda a: a.T[:, :, None],
               "CHW": lambda a: a.transpose(1, 2, 0)}[dataformats](array)
        expected_hwc = np.concatenate([hwc] * 3, axis=2) if hwc.shape[2] == 1 else hwc
    np.testing.assert_array_equal(read_image(tmp_path, "img"), expected_uint8(expected_hwc))


def expected_grid(batch_nchw: np.ndarray, per_row: int = 8) -> np.ndarray:
    n, c, h, w = batch_nchw.shape
    cols = min(n, per_row)
    rows = -(-n // cols)
    canvas = np.zeros((rows * h, cols * w, 3), dtype=batch_nchw.dtype)
    for i in range(n):
        r, k = i // cols, i % cols
        picture = batch_nchw[i].transpose(1, 2, 0)
        canvas[r * h:(r + 1) * h, k * w:(k + 1) * w] = picture if c == 3 else np.repeat(picture, 3, axis=2)
    return canvas


@pytest.mark.parametrize("n, c, layout", [(11, 3, "NCHW"), (3, 1, "NCHW"), (16, 3, "NHWC"), (1, 3, "NCHW")])
def test_a_batch_is_tiled_eight_per_row(tmp_path, n, c, layout):
    batch = RNG.random((n, c, 4, 6)).astype(np.float32)
    given = batch.transpose(0, 2, 3, 1) if layout == "NHWC" else batch
    with SummaryWriter(tmp_path) as w:
        w.add_images("batch", given, 2, dataformats=layout)
    np.testing.assert_array_equal(read_image(tmp_path, "batch"), expected_uint8(expected_grid(batch)))


def test_images_decode_the_same_as_pytorch(tmp_path):
    cases = {"chw": (CHW_FLOAT, "CHW", False), "hwc": (RNG.integers(0, 256, (5, 6, 3), dtype=np.uint8), "HWC", False),
             "hw": (RNG.random((3, 3)), "HW", False), "grid": (RNG.random((10, 1, 3, 4)), "NCHW", True)}
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            for tag, (image, layout, batch) in cases.items():
                (w.add_images if batch else w.add_image)(tag, image, 1, dataformats=layout)
    for tag in cases:
        assert np.array_equal(read_image(tmp_path / "ours", tag), read_image(tmp_path / "torch", tag)), tag


@pytest.mark.parametrize("call, match", [
    (lambda w: w.add_image("i", np.zeros((3, 4))), r"add_image: dataformats 'CHW' expects a 3-D image tensor, "
                                                   r"got shape \(3, 4\)"),
    (lambda w: w.add_image("i", np.zeros((3, 4, 4)), dataformats="CHX"), r"add_image: dataformats must be a "
                                                                         r"permutation of NCHW, CHW or HW"),
    (lambda w: w.add_image("i", np.zeros((2, 4, 4))), r"add_image: expected an image with 1, 3 or 4 channels, got 2"),
    (lambda w: w.add_images("i", np.zeros((0, 3, 4, 4))), r"add_images: expected at least one image"),
])
def test_bad_images_are_named(tmp_path, call, match):
    with SummaryWriter(tmp_path) as w, pytest.raises(ValueError, match=match):
        call(w)


def test_boxes_are_drawn_in_red_on_the_image(tmp_path):
    image, photo = np.zeros((3, 20, 24), dtype=np.float32), RNG.random((3, 40, 50))
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            w.add_image_with_boxes("boxes", image, np.array([[4, 5, 15, 14]]), 0)
            w.add_image_with_boxes("labelled", photo, np.array([[4, 5, 30, 34], [10, 10, 45, 38]]), 0, rescale=2,
                                   labels=["cat", "dog"])
    pixels = read_image(tmp_path / "ours", "boxes")
    red = (pixels == [255, 0, 0]).all(axis=2)
    assert red[5:15, 4].all() and red[5, 4:16].all() and red[14, 4:16].all() and red[5:15, 15].all()
    assert not red[8:12, 8:12].any() and not red[18:, :].any()
    np.testing.assert_array_equal(pixels, read_image(tmp_path / "torch", "boxes"))
    scaled = read_image(tmp_path / "ours", "labelled")
    assert scaled.shape == (80, 100, 3)  # rescale=2 (the proto's size is the drawn one; torch's keeps 40 x 50)
    np.testing.assert_array_equal(scaled, read_image(tmp_path / "torch", "labelled", check_size=False))


def _figure():
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 1), dpi=40, facecolor="red")
    axes = figure.add_axes((0.25, 0.25, 0.5, 0.5), facecolor="blue")
    axes.set_xticks([])
    axes.set_yticks([])
    return figure


def test_a_figure_is_rendered_by_agg(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    pyplot_figure = plt.figure(figsize=(1, 1), dpi=30)
    with SummaryWriter(tmp_path) as w:
        w.add_figure("fig", _figure(), 0)
        w.add_figure("figs", [_figure(), _figure()], 1)
        w.add_figure("closed", pyplot_figure, 2)
        assert not plt.fignum_exists(pyplot_figure.number)  # close=True closes it
    one = read_image(tmp_path, "fig")
    assert one.shape == (40, 80, 3)
    assert (one[0, 0] == [255, 0, 0]).all() and (one[20, 40] == [0, 0, 255]).all()
    np.testing.assert_array_equal(read_image(tmp_path, "figs"), np.concatenate([one, one], axis=1))
    with torch_writer()(str(tmp_path / "torch")) as w:
        w.add_figure("fig", _figure(), 0)
    np.testing.assert_array_equal(one, read_image(tmp_path / "torch", "fig"))


def test_a_video_is_a_gif_of_the_clips_side_by_side(tmp_path):
    from PIL import Image, ImageSequence

    clips = RNG.integers(0, 2, (3, 4, 3, 2, 3)).astype(np.float32)  # N=3 clips, T=4 frames, pure colours
    with SummaryWriter(tmp_path) as w:
        w.add_video("vid", clips, 0, fps=10)
    (event,) = read_run(tmp_path).Images("vid")
    with Image.open(io.BytesIO(event.encoded_image_string)) as gif:
        assert gif.format == "GIF" and gif.info["duration"] == 100
        frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    padded = np.concatenate([clips, np.zeros((1, 4, 3, 2, 3), np.float32)])  # N padded to 4, in one row
    for t, frame in enumerate(frames):
        np.testing.assert_array_equal(frame, np.concatenate([c[t].transpose(1, 2, 0) for c in padded], axis=1) * 255)
    assert len(frames) == 4 and (event.height, event.width) == (2, 12)


def test_audio_is_a_16_bit_wav_of_the_samples(tmp_path):
    samples = np.sin(np.linspace(0, 20, 800))[None, :]  # (1, L)
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            w.add_audio("snd", samples, 4, sample_rate=8000)
    (event,) = read_run(tmp_path / "ours").Audio("snd")
    assert (event.sample_rate, event.length_frames, event.content_type) == (8000, 800, "audio/wav")
    with wave.open(io.BytesIO(event.encoded_audio_string)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    np.testing.assert_array_equal(pcm, (samples[0] * 32767).astype(np.int16))
    assert event.encoded_audio_string == read_run(tmp_path / "torch").Audio("snd")[0].encoded_audio_string
    with SummaryWriter(tmp_path / "loud") as w, pytest.warns(UserWarning, match="add_audio: amplitude"):
        w.add_audio("snd", samples * 2)
