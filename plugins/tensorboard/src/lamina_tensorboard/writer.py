"""``SummaryWriter``: torch.utils.tensorboard.SummaryWriter's API (2.13) over :class:`FileWriter`.

Values may be lamina tensors (any device; copied to the host), NumPy arrays or Python numbers.
Every ``add_*`` takes ``global_step`` (the x axis; unset when None) and ``walltime`` (seconds since
the epoch; now when None).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

from . import _media, _numeric, _projector, _text
from .file_writer import FileWriter


def default_log_dir(comment: str = "") -> str:
    """``runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname><comment>`` (local time), torch's default."""
    return os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_" + socket.gethostname() + comment)


def _check_tag(tag: Any, where: str) -> str:
    if not isinstance(tag, str):
        raise TypeError(f"{where}: expected tag as a str, got {type(tag).__name__}")
    return tag


class SummaryWriter:
    """Writes scalars, histograms, images, text, hyperparameters, embeddings, ... to event files in
    ``log_dir`` for TensorBoard (``tensorboard --logdir runs``).

    ``log_dir`` defaults to ``runs/<datetime>_<hostname><comment>``; ``purge_step`` hides, on
    reading, the events of an earlier run in the same folder from that step on (resuming after a
    crash); ``max_queue``/``flush_secs`` bound how long events wait in memory; ``filename_suffix`` ends
    every event file's name. A context manager: ``with SummaryWriter() as w: ...`` closes it.
    Writing after :meth:`close` starts new event files in the same folders.
    """

    def __init__(self, log_dir: str | os.PathLike | None = None, comment: str = "", purge_step: int | None = None,
                 max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = "") -> None:
        self.log_dir = os.fspath(log_dir) if log_dir else default_log_dir(comment)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.default_bins = list(_numeric.tensorflow_bins())
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._projector_config = ProjectorConfig()
        self._get_file_writer()

    def _get_file_writer(self) -> FileWriter:
        """The run's own writer, made anew after :meth:`close`; the first one writes the purge marker."""
        if self.file_writer is None or self.all_writers is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, self.purge_step = int(self.purge_step), None
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=step, session_log=SessionLog(status=SessionLog.START)))
        return self.file_writer

    def _add(self, summary: Any, global_step: int | None, walltime: float | None) -> None:
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def get_logdir(self) -> str:
        """The folder of this run's event files."""
        return self.log_dir

    # --- numbers ----------------------------------------------------------------------------------
    def add_scalar(self, tag: str, scalar_value: Any, global_step: int | None = None, walltime: float | None = None,
                   new_style: bool = False, double_precision: bool = False) -> None:
        """One number (any one-element value). ``new_style``: stored as a tensor (float64 with
        ``double_precision``) instead of a float32 ``simple_value``."""
        summary = _numeric.scalar(_check_tag(tag, "add_scalar"), scalar_value, new_style, double_precision)
        self._add(summary, global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: Mapping[str, Any], global_step: int | None = None,
                    walltime: float | None = None) -> None:
        """Several numbers on one chart: each key goes, under ``main_tag``, to its own run in the folder
        ``<log_dir>/<main_tag with '/' as '_'>_<key>``."""
        _check_tag(main_tag, "add_scalars")
        walltime = time.time() if walltime is None else walltime
        root = self._get_file_writer().get_logdir()
        assert self.all_writers is not None
        for key, value in tag_scalar_dict.items():
            folder = root + "/" + main_tag.replace("/", "_") + "_" + key
            writer = self.all_writers.get(folder)
            if writer is None:
                writer = FileWriter(folder, self.max_queue, self.flush_secs, self.filename_suffix)
                self.all_writers[folder] = writer
            writer.add_summary(_numeric.scalar(main_tag, value), global_step, walltime)

    def add_tensor(self, tag: str, tensor: Any, global_step: int | None = None, walltime: float | None = None) -> None:
        """A whole tensor (its dtype and shape kept) for the tensor plugin."""
        self._add(_numeric.tensor(_check_tag(tag, "add_tensor"), tensor), global_step, walltime)

    def add_histogram(self, tag: str, values: Any, global_step: int | None = None, bins: Any = "tensorflow",
                      walltime: float | None = None, max_bins: int | None = None) -> None:
        """Histogram of ``values`` (any shape). ``bins``: ``'tensorflow'`` (exponential edges around 0)
        or what ``numpy.histogram`` takes (``'auto'``, ``'fd'``, a count, the edges)."""
        bins = self.default_bins if isinstance(bins, str) and bins == "tensorflow" else bins
        summary = _numeric.histogram(_check_tag(tag, "add_histogram"), values, bins, max_bins)
        self._add(summary, global_step, walltime)

    def add_histogram_raw(self, tag: str, min: float, max: float, num: int, sum: float, sum_squares: float,
                          bucket_limits: Any, bucket_counts: Any, global_step: int | None = None,
                          walltime: float | None = None) -> None:
        """A histogram from its statistics; ``bucket_limits`` are upper edges, one per count."""
        summary = _numeric.histogram_raw(_check_tag(tag, "add_histogram_raw"), min, max, num, sum, sum_squares,
                                         bucket_limits, bucket_counts)
        self._add(summary, global_step, walltime)

    def add_pr_curve(self, tag: str, labels: Any, predictions: Any, global_step: int | None = None,
                     num_thresholds: int = 127, weights: Any = None, walltime: float | None = None) -> None:
        """Precision-recall curve. Shape: labels (N,) in {0, 1}, predictions (N,) in [0, 1]."""
        summary = _numeric.pr_curve(_check_tag(tag, "add_pr_curve"), labels, predictions, num_thresholds, weights)
        self._add(summary, global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts: Any, false_positive_counts: Any,
                         true_negative_counts: Any, false_negative_counts: Any, precision: Any, recall: Any,
                         global_step: int | None = None, num_thresholds: int = 127, weights: Any = None,
                         walltime: float | None = None) -> None:
        """Precision-recall curve from its counts. Shape: each (num_thresholds,). ``weights`` is unused, as in torch."""
        rows = (true_positive_counts, false_positive_counts, true_negative_counts, false_negative_counts,
                precision, recall)
        self._add(_numeric.pr_curve_raw(_check_tag(tag, "add_pr_curve_raw"), rows, num_thresholds),
                  global_step, walltime)

    def add_custom_scalars(self, layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> None:
        """Charts gathering scalar tags: ``{category: {title: ['Multiline' | 'Margin', [tags]]}}``."""
        self._add(_numeric.custom_scalars(layout), None, None)

    def add_custom_scalars_multilinechart(self, tags: Sequence[str], category: str = "default",
                                          title: str = "untitled") -> None:
        """One chart with a line per tag."""
        self.add_custom_scalars({category: {title: ["Multiline", list(tags)]}})

    def add_custom_scalars_marginchart(self, tags: Sequence[str], category: str = "default",
                                       title: str = "untitled") -> None:
        """One chart of a value with its lower and upper margin: ``tags = [value, lower, upper]``."""
        if len(tags) != 3:
            raise ValueError(f"add_custom_scalars_marginchart: expected 3 tags (value, lower, upper), got {len(tags)}")
        self.add_custom_scalars({category: {title: ["Margin", list(tags)]}})

    # --- pictures, sound, text ----------------------------------------------------------------------
    def add_image(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                  dataformats: str = "CHW") -> None:
        """One image. Shape: (3, H, W) by default; (1, H, W), (H, W), (H, W, 3), ... with ``dataformats``.
        uint8 pixels are kept; other dtypes are read as [0, 1]."""
        self._add(_media.image(_check_tag(tag, "add_image"), img_tensor, dataformats, "add_image"),
                  global_step, walltime)

    def add_images(self, tag: str, img_tensor: Any, global_step: int | None = None, walltime: float | None = None,
                   dataformats: str = "NCHW") -> None:
        """A batch tiled into one image, 8 per row. Shape: (N, 3, H, W) by default, or per ``dataformats``."""
        self._add(_media.image(_check_tag(tag, "add_images"), img_tensor, dataformats, "add_images"),
                  global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor: Any, box_tensor: Any, global_step: int | None = None,
                             walltime: float | None = None, rescale: float = 1, dataformats: str = "CHW",
                             labels: Sequence[str] | str | None = None) -> None:
        """An image with boxes drawn on it. Shape: box_tensor (K, 4) of (xmin, ymin, xmax, ymax)."""
        labels = [labels] if isinstance(labels, str) else (None if labels is None else list(labels))
        summary = _media.image_with_boxes(_check_tag(tag, "add_image_with_boxes"), img_tensor, box_tensor,
                                          rescale, dataformats, labels)
        self._add(summary, global_step, walltime)

    def add_figure(self, tag: str, figure: Any, global_step: int | None = None, close: bool = True,
                   walltime: float | None = None) -> None:
        """A matplotlib figure (or a list of them, tiled) rendered by the Agg canvas; ``close`` closes it."""
        pixels = _media.figure_to_image(figure, close)
        self.add_image(tag, pixels, global_step, walltime, dataformats="NCHW" if isinstance(figure, list) else "CHW")

    def add_video(self, tag: str, vid_tensor: Any, global_step: int | None = None, fps: float = 4,
                  walltime: float | None = None) -> None:
        """A GIF of the clips, tiled. Shape: vid_tensor (N, T, C, H, W), uint8 or float in [0, 1]."""
        self._add(_media.video(_check_tag(tag, "add_video"), vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag: str, snd_tensor: Any, global_step: int | None = None, sample_rate: int = 44100,
                  walltime: float | None = None) -> None:
        """Mono sound as 16-bit WAV. Shape: snd_tensor (1, L), values in [-1, 1]."""
        self._add(_media.audio(_check_tag(tag, "add_audio"), snd_tensor, sample_rate), global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """Text (markdown), shown in the Text dashboard under ``tag``."""
        self._add(_text.text(_check_tag(tag, "add_text"), text_string), global_step, walltime)

    def add_mesh(self, tag: str, vertices: Any, colors: Any = None, faces: Any = None,
                 config_dict: Mapping[str, Any] | None = None, global_step: int | None = None,
                 walltime: float | None = None) -> None:
        """A 3-D mesh or point cloud. Shape: vertices, colors, faces (B, N, 3)."""
        self._add(_numeric.mesh(_check_tag(tag, "add_mesh"), vertices, colors, faces, config_dict),
                  global_step, walltime)

    # --- runs, embeddings, graphs -------------------------------------------------------------------
    def add_hparams(self, hparam_dict: Mapping[str, Any], metric_dict: Mapping[str, Any],
                    hparam_domain_discrete: Mapping[str, list] | None = None, run_name: str | None = None,
                    global_step: int | None = None) -> None:
        """One session of the HParams dashboard, written to the sub-run ``<log_dir>/<run_name>`` (default:
        the current unix time): the hyperparameters, and ``metric_dict``'s values as scalars there."""
        experiment, start, end = _text.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        folder = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir=folder) as run:
            writer = run._get_file_writer()
            for summary in (experiment, start, end):
                writer.add_summary(summary, global_step)
            for key, value in metric_dict.items():
                run.add_scalar(key, value, global_step)

    def add_embedding(self, mat: Any, metadata: Sequence[Any] | None = None, label_img: Any = None,
                      global_step: int | None = None, tag: str = "default",
                      metadata_header: Sequence[str] | None = None) -> None:
        """Points for the embedding projector, written to ``<log_dir>/<step:05d>/<tag>/``.

        Shape: mat (N, D); metadata N labels (or N rows matching ``metadata_header``); label_img (N, C, H, W).
        """
        _projector.write_embedding(self._get_file_writer().get_logdir(), self._projector_config, mat, metadata,
                                   label_img, global_step, _check_tag(tag, "add_embedding"), metadata_header)

    def add_graph(self, model: Any, input_to_model: Any = None, verbose: bool = False,
                  use_strict_trace: bool = True) -> None:
        """Not provided: torch builds the graph with torch.jit.trace, which lamina does not have."""
        raise NotImplementedError("torch.utils.tensorboard.SummaryWriter.add_graph is not implemented in lamina "
                                  "(it needs torch.jit.trace's graph); log lamina.summary(model, ...) with add_text")

    def add_onnx_graph(self, prototxt: str) -> None:
        """Not provided: needs the onnx package's graph."""
        raise NotImplementedError("torch.utils.tensorboard.SummaryWriter.add_onnx_graph is not implemented in lamina")

    # --- lifetime ----------------------------------------------------------------------------------
    def flush(self) -> None:
        """Write every pending event of every run of this writer to disk."""
        for writer in (self.all_writers or {}).values():
            writer.flush()

    def close(self) -> None:
        """Flush and close every event file (closing twice is harmless)."""
        for writer in (self.all_writers or {}).values():
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
