"""Summaries of pictures and sound: images (one, or a batch tiled into a grid), boxes drawn on an
image, matplotlib figures, GIF videos and WAV audio.

Pixels follow torch's rule: uint8 is kept, any other dtype is taken to lie in [0, 1], multiplied by
255 in float32, clipped to [0, 255] and truncated to uint8. Gray images become RGB.
"""

from __future__ import annotations

import io
import math
import warnings
import wave
from typing import Any

import numpy as np
from tensorboard.compat.proto.summary_pb2 import Summary

from ._convert import check_dataformats, make_np


def make_grid(images: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile a batch into one image, row by row, ``ncols`` images wide; empty cells stay 0.

    Shape: images (N, C, H, W), C in {1, 3, 4} -> (C', H * ceil(N / ncols'), W * ncols'), with
    ncols' = min(N, ncols) and C' = 3 for gray input.
    """
    n, c, h, w = images.shape
    if n == 0:
        raise ValueError("add_images: expected at least one image, got an empty batch (N = 0)")
    if c == 1:
        images = np.concatenate([images] * 3, axis=1)
    elif c not in (3, 4):
        raise ValueError(f"add_images: expected images with 1, 3 or 4 channels, got {c}")
    ncols = min(n, ncols)
    nrows = math.ceil(n / ncols)
    canvas = np.zeros((images.shape[1], h * nrows, w * ncols), dtype=images.dtype)
    for i in range(n):
        row, col = divmod(i, ncols)
        canvas[:, row * h:(row + 1) * h, col * w:(col + 1) * w] = images[i]
    return canvas


def to_hwc(array: np.ndarray, dataformats: str, where: str) -> np.ndarray:
    """An image in ``dataformats`` layout as (H, W, C) with C in {3, 4}; 4-D input is tiled by :func:`make_grid`."""
    fmt = check_dataformats(dataformats, array.shape, where)
    if len(fmt) == 4:
        return make_grid(array.transpose([fmt.index(d) for d in "NCHW"])).transpose(1, 2, 0)
    if len(fmt) == 2:
        return np.stack([array.transpose([fmt.index(d) for d in "HW"])] * 3, axis=2)
    hwc = array.transpose([fmt.index(d) for d in "HWC"])
    if hwc.shape[2] == 1:
        return np.concatenate([hwc] * 3, axis=2)
    if hwc.shape[2] not in (3, 4):
        raise ValueError(f"{where}: expected an image with 1, 3 or 4 channels, got {hwc.shape[2]} "
                         f"(shape {tuple(array.shape)}, dataformats {dataformats!r})")
    return hwc


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels unchanged; anything else read as [0, 1], scaled by 255, clipped, truncated."""
    scale = 1 if pixels.dtype == np.uint8 else 255
    return (pixels.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)


def encode_png(hwc: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) RGB or (H, W, 4) RGBA uint8 image."""
    from PIL import Image

    with io.BytesIO() as buffer:
        Image.fromarray(hwc).save(buffer, format="PNG")
        return buffer.getvalue()


def _image_proto(hwc: np.ndarray, encoded: bytes) -> Summary.Image:
    height, width, channels = hwc.shape
    return Summary.Image(height=height, width=width, colorspace=channels, encoded_image_string=encoded)


def image(tag: str, img_tensor: Any, dataformats: str, where: str) -> Summary:
    """One image (or a batch tiled into a grid) as PNG. Shape: img_tensor laid out as ``dataformats``."""
    hwc = to_uint8(to_hwc(make_np(img_tensor, where), dataformats, where))
    return Summary(value=[Summary.Value(tag=tag, image=_image_proto(hwc, encode_png(hwc)))])


def image_with_boxes(tag: str, img_tensor: Any, box_tensor: Any, rescale: float, dataformats: str,
                     labels: list[str] | None) -> Summary:
    """An image with red boxes (and their labels) drawn on it.

    Shape: img_tensor laid out as ``dataformats``; box_tensor (K, 4) rows (xmin, ymin, xmax, ymax) in pixels.
    """
    from PIL import Image, ImageDraw, ImageFont

    where = "add_image_with_boxes"
    hwc = to_uint8(to_hwc(make_np(img_tensor, where), dataformats, where))
    boxes = make_np(box_tensor, where)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{where}: expected box_tensor (K, 4) of (xmin, ymin, xmax, ymax), "
                         f"got shape {tuple(boxes.shape)}")
    if labels is not None and len(labels) != len(boxes):
        labels = None  # as torch: labels that do not match the boxes one to one are dropped
    picture = Image.fromarray(hwc)
    draw, font = ImageDraw.Draw(picture), ImageFont.load_default()
    for k, (x0, y0, x1, y1) in enumerate(boxes.tolist()):
        draw.line([(x0, y0), (x0, y1), (x1, y1), (x1, y0), (x0, y0)], width=2, fill="red")
        if labels is not None:
            left, top, right, bottom = font.getbbox(labels[k])
            margin = math.ceil(0.05 * (bottom - top))
            draw.rectangle([(x0, y1 - (bottom - top) - 2 * margin), (x0 + right - left, y1)], fill="red")
            draw.text((x0 + margin, y1 - (bottom - top) - margin), labels[k], fill="black", font=font)
    if rescale != 1:
        size = (int(picture.width * rescale), int(picture.height * rescale))
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    drawn = np.asarray(picture)
    return Summary(value=[Summary.Value(tag=tag, image=_image_proto(drawn, encode_png(drawn)))])


def figure_to_image(figures: Any, close: bool = True) -> np.ndarray:
    """Render a matplotlib figure through the Agg canvas. Shape: -> (3, H, W) uint8; a list -> (N, 3, H, W)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
    except ImportError as exc:
        raise ImportError("add_figure needs matplotlib: pip install 'lamina-tensorboard[figure]'") from exc

    def render(figure: Any) -> np.ndarray:
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())  # (H, W, 4)
        if close:
            import matplotlib.pyplot as plt

            plt.close(figure)
        return np.ascontiguousarray(rgba[:, :, :3].transpose(2, 0, 1))

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)


def video(tag: str, vid_tensor: Any, fps: float) -> Summary:
    """A looping GIF (Pillow's encoder) of a batch of clips tiled side by side.

    Shape: vid_tensor (N, T, C, H, W), C in {1, 3}; N is padded with black clips to a power of two
    and tiled 2**((bits(N) - 1) // 2) rows high.
    """
    from PIL import Image

    clips = make_np(vid_tensor, "add_video")
    if clips.ndim != 5:
        raise ValueError(f"add_video: expected vid_tensor (N, T, C, H, W), got shape {tuple(clips.shape)}")
    n, t, c, h, w = clips.shape
    if c not in (1, 3) or n == 0 or t == 0:
        raise ValueError(f"add_video: expected N, T >= 1 and C in {{1, 3}}, got shape {tuple(clips.shape)}")
    frames = to_uint8(clips)
    if c == 1:
        frames = np.concatenate([frames] * 3, axis=2)
    padded = 1 << (n - 1).bit_length()
    frames = np.concatenate([frames, np.zeros((padded - n, t, 3, h, w), np.uint8)])
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = padded // rows
    grid = frames.reshape(rows, cols, t, 3, h, w).transpose(2, 0, 4, 1, 5, 3).reshape(t, rows * h, cols * w, 3)
    pictures = [Image.fromarray(frame) for frame in grid]
    with io.BytesIO() as buffer:
        pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:],
                         duration=int(round(1000 / fps)), loop=0)
        encoded = buffer.getvalue()
    return Summary(value=[Summary.Value(tag=tag, image=_image_proto(grid[0], encoded))])


def audio(tag: str, snd_tensor: Any, sample_rate: int) -> Summary:
    """Mono 16-bit WAV. Shape: snd_tensor (L,) or (1, L), values in [-1, 1] (clipped with a warning)."""
    given = make_np(snd_tensor, "add_audio")
    samples = given.squeeze()
    if samples.ndim != 1:
        raise ValueError(f"add_audio: expected snd_tensor (1, L) or (L,), got shape {tuple(given.shape)}")
    if np.abs(samples).max(initial=0) > 1:
        warnings.warn("add_audio: amplitude outside [-1, 1], clipped", UserWarning, stacklevel=3)
        samples = samples.clip(-1, 1)
    pcm = (samples * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as buffer:
        with wave.open(buffer, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(sample_rate)
            out.writeframes(pcm.tobytes())
        encoded = buffer.getvalue()
    sound = Summary.Audio(sample_rate=sample_rate, num_channels=1, length_frames=len(pcm),
                          encoded_audio_string=encoded, content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=sound)])
