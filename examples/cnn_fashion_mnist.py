"""A CNN with batch normalisation and augmentation on Fashion-MNIST (or, with --dataset, the others).

    python examples/cnn_fashion_mnist.py --epochs 5      # needs the Fashion-MNIST IDX files
    python examples/cnn_fashion_mnist.py --dataset digits

Fashion-MNIST is looked for in /usr/share/datasets/fashion-mnist (Debian: apt-get install
dataset-fashion-mnist) or under --data-root. Two Conv -> BatchNorm2d -> ReLU -> MaxPool blocks,
dropout, one Linear. With --augment every training batch gets a random crop (padding 2) and a
random horizontal flip (one draw per batch, from lamina's seeded RNG).
"""

from __future__ import annotations

import sys

import lamina
from _common import base_parser, load_data, parse_args, run
from lamina import nn
from lamina_datasets import transforms


class BNConvNet(nn.Module):
    """Shape: x (N, in_channels, H, W) -> logits (N, num_classes)."""

    def __init__(self, image_size: tuple[int, int], in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        h, w = image_size
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.25),
                                        nn.Linear(64 * (h // 4) * (w // 4), num_classes))

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        return self.classifier(self.features(x))


def main(argv: list[str] | None = None) -> dict:
    parser = base_parser(__doc__.split("\n")[0], dataset="fashion-mnist", epochs=5)
    parser.add_argument("--augment", action="store_true", help="random crop + horizontal flip per batch")
    args = parse_args(parser, argv)
    data = load_data(args.dataset, args.limit, args.data_root)
    c, h, w = data.image_shape
    augment = transforms.Compose([transforms.RandomCrop((h, w), padding=2),
                                  transforms.RandomHorizontalFlip()]) if args.augment else None
    return run(args, "bn_cnn", data, lambda: BNConvNet((h, w), c, len(data.classes)),
               summary_input=(args.batch_size, c, h, w), batch_transform=augment)


if __name__ == "__main__":
    main(sys.argv[1:])
