"""A multilayer perceptron on the 8x8 digits (default) or, with --dataset, MNIST / Fashion-MNIST.

    python examples/mlp_digits.py
    python examples/mlp_digits.py --dataset fashion-mnist --epochs 5

Each image is flattened to a vector; two hidden ReLU layers with dropout, then 10 logits.
"""

from __future__ import annotations

import sys

import lamina
from _common import base_parser, load_data, parse_args, run
from lamina import nn


class MLP(nn.Module):
    """Shape: x (N, C, H, W) -> logits (N, num_classes), with in_features = C * H * W."""

    def __init__(self, in_features: int, hidden: int = 256, num_classes: int = 10, dropout: float = 0.2) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_features, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden // 2), nn.ReLU(),
            nn.Linear(hidden // 2, num_classes),
        )

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        return self.net(x)


def main(argv: list[str] | None = None) -> dict:
    parser = base_parser(__doc__.split("\n")[0], epochs=20)
    parser.add_argument("--hidden", type=int, default=256)
    args = parse_args(parser, argv)
    data = load_data(args.dataset, args.limit, args.data_root)
    c, h, w = data.image_shape
    return run(args, "mlp", data, lambda: MLP(c * h * w, args.hidden, len(data.classes)),
               summary_input=(args.batch_size, c, h, w))


if __name__ == "__main__":
    main(sys.argv[1:])
