"""A small Transformer encoder classifies images read as sequences of rows (one token per row).

    python examples/transformer_encoder.py                  # digits: 8 tokens of 8 features
    python examples/transformer_encoder.py --dataset fashion-mnist --epochs 3

Rows are projected to d_model, a learned position embedding is added, a stack of
TransformerEncoderLayers (batch_first, pre-norm) mixes the rows, and the mean token feeds a
Linear classifier.
"""

from __future__ import annotations

import sys

import lamina
from _common import as_sequences, base_parser, load_data, parse_args, run
from lamina import nn


class RowTransformer(nn.Module):
    """Shape: x (N, L, features) -> logits (N, num_classes)."""

    def __init__(self, seq_len: int, features: int, d_model: int = 64, nhead: int = 4, num_layers: int = 2,
                 num_classes: int = 10, dropout: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.Linear(features, d_model)
        self.pos = nn.Parameter(lamina.randn(1, seq_len, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2 * d_model, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        h = self.embed(x) + self.pos    # (N, L, d_model)
        h = self.encoder(h)
        return self.head(h.mean(1))


def main(argv: list[str] | None = None) -> dict:
    parser = base_parser(__doc__.split("\n")[0], epochs=20)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--layers", type=int, default=2)
    args = parse_args(parser, argv)
    data = as_sequences(load_data(args.dataset, args.limit, args.data_root))
    steps, features = data.train.tensors[0].shape[1:]
    return run(args, "transformer", data,
               lambda: RowTransformer(steps, features, args.d_model, args.heads, args.layers, len(data.classes)),
               summary_input=(args.batch_size, steps, features))


if __name__ == "__main__":
    main(sys.argv[1:])
