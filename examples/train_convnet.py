"""The main job: train the tutorial's ConvNet end to end on real data, then save, reload and plot.

    python examples/train_convnet.py                                      # 8x8 digits, offline, < 1 min
    python examples/train_convnet.py --dataset fashion-mnist --epochs 5   # needs the IDX files
    python examples/train_convnet.py --dataset mnist --data-root ~/data/MNIST/raw
    python examples/train_convnet.py --tensorboard runs/convnet             # then: tensorboard --logdir runs

The ConvNet is the tutorial's (two 3x3 conv blocks with ReLU and 2x2 max pooling, 32 and 64
channels, then Linear -> ReLU -> Dropout(0.5) -> Linear to 10 classes), with one change: the first
Linear takes ``64 * (H // 4) * (W // 4)`` features instead of a fixed ``64 * 7 * 7``, so the same
class serves 28x28 MNIST/Fashion-MNIST (3136 features, as in the tutorial) and 8x8 digits (256).
Adam(lr=1e-3) on cross-entropy; the checkpoint (weights + optimizer state + epoch) and a plot of the
curves go to ``--out`` (default ``examples/out/``). ``--tensorboard DIR`` (needs lamina-tensorboard)
also writes TensorBoard event files to DIR once training ends: the per-epoch losses, test accuracy
and throughput, histograms of the trained weights, the first 16 test images and the run's
hyperparameters with its final metrics.
"""

from __future__ import annotations

import argparse
import sys

import lamina
from _common import Data, base_parser, load_data, parse_args, run
from lamina import nn


class ConvNet(nn.Module):
    """The tutorial's CNN for ``in_channels`` x H x W images.

    Shape: x (N, in_channels, H, W) -> logits (N, num_classes)
    """

    def __init__(self, image_size: tuple[int, int] = (28, 28), in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        h, w = image_size
        self.conv1 = nn.Conv2d(in_channels, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(64 * (h // 4) * (w // 4), 128)
        self.fc2 = nn.Linear(128, num_classes)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(0.5)

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        x = self.pool(self.relu(self.conv1(x)))   # (N, 32, H/2, W/2)
        x = self.pool(self.relu(self.conv2(x)))   # (N, 64, H/4, W/4)
        x = x.flatten(1)                          # (N, 64 * H/4 * W/4)
        x = self.dropout(self.relu(self.fc1(x)))
        return self.fc2(x)


class TensorBoardLog:
    """Logs the run to TensorBoard event files in ``log_dir`` while it trains: each epoch's history as
    scalars and the weights as histograms (``on_epoch``), then the test images and the hyperparameters
    (``finish``)."""

    def __init__(self, log_dir: str) -> None:
        from lamina.utils.tensorboard import SummaryWriter

        self.log_dir = log_dir
        self.writer = SummaryWriter(log_dir)

    def on_epoch(self, epoch: int, model: lamina.nn.Module, values: dict[str, float]) -> None:
        for key, tag in TENSORBOARD_TAGS.items():
            self.writer.add_scalar(tag, values[key], epoch)
        for name, param in model.named_parameters():
            self.writer.add_histogram(name, param, epoch)
        self.writer.flush()  # visible in a running `tensorboard --logdir` at once

    def finish(self, args: argparse.Namespace, data: Data, metrics: dict) -> str:
        history = metrics["history"]
        images = data.test.tensors[0][:16]  # normalised: stretched back to [0, 1] for display
        self.writer.add_images("test images", (images - images.min()) / (images.max() - images.min()), args.epochs)
        self.writer.add_hparams({"lr": args.lr, "batch_size": args.batch_size, "epochs": args.epochs,
                                 "dataset": args.dataset},
                                {"hparam/test_accuracy": history["test_accuracy"][-1],
                                 "hparam/test_loss": history["test_loss"][-1]}, run_name="hparams")
        self.writer.close()
        return self.log_dir


# history key -> TensorBoard tag
TENSORBOARD_TAGS = {"train_loss": "Loss/train", "test_loss": "Loss/test", "test_accuracy": "Accuracy/test",
                    "samples_per_s": "Throughput/train samples per s"}


def main(argv: list[str] | None = None) -> dict:
    parser = base_parser(__doc__.split("\n")[0], epochs=15)
    parser.add_argument("--tensorboard", metavar="DIR", default=None,
                        help="also write TensorBoard event files to DIR (needs lamina-tensorboard)")
    args = parse_args(parser, argv)
    data = load_data(args.dataset, args.limit, args.data_root)
    _, h, w = data.image_shape
    log = TensorBoardLog(args.tensorboard) if args.tensorboard else None
    metrics = run(args, "convnet", data, lambda: ConvNet((h, w), num_classes=len(data.classes)),
                  summary_input=(args.batch_size, 1, h, w), on_epoch=log.on_epoch if log else None)
    if log is not None:
        metrics["tensorboard"] = log.finish(args, data, metrics)
        if not args.quiet:
            print(f"tensorboard: {args.tensorboard} (tensorboard --logdir {args.tensorboard})")
    return metrics


if __name__ == "__main__":
    main(sys.argv[1:])
