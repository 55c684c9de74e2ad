"""``lamina.utils.tensorboard``: torch.utils.tensorboard's ``SummaryWriter`` (2.13) for lamina.

Event files are written by the ``tensorboard`` package's own ``EventFileWriter`` and protobufs, so
``tensorboard --logdir runs`` (and tensorboard's ``EventAccumulator``) read them as they read
PyTorch's. tensorboard is imported with this module, never by ``import lamina``.

    from lamina.utils.tensorboard import SummaryWriter
    writer = SummaryWriter()                      # runs/<datetime>_<hostname>/
    writer.add_scalar("Loss/train", loss.item(), epoch)
    writer.close()

Provided: add_scalar, add_scalars, add_tensor, add_histogram, add_histogram_raw, add_image,
add_images, add_image_with_boxes, add_figure (needs matplotlib: the ``[figure]`` extra), add_video
(GIF through Pillow, where torch uses moviepy), add_audio, add_text, add_hparams, add_embedding,
add_pr_curve, add_pr_curve_raw, add_custom_scalars(_multilinechart/_marginchart), add_mesh, flush,
close, the context manager. add_graph and add_onnx_graph raise NotImplementedError (no
torch.jit.trace in lamina).
"""

from __future__ import annotations

from tensorboard.summary.writer.record_writer import RecordWriter

from .file_writer import FileWriter
from .writer import SummaryWriter

__lamina_plugin_api__ = "1.0"

__all__ = ["FileWriter", "RecordWriter", "SummaryWriter"]
