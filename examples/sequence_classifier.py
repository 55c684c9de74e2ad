"""An LSTM (or GRU) reads an image one row at a time and classifies it from its last hidden state.

    python examples/sequence_classifier.py                 # digits: 8 steps of 8 features, LSTM
    python examples/sequence_classifier.py --cell gru
    python examples/sequence_classifier.py --dataset fashion-mnist --epochs 3   # 28 steps of 28

Each image (1, H, W) becomes a sequence of H rows of W pixels (batch_first).
"""

from __future__ import annotations

import sys

import lamina
from _common import as_sequences, base_parser, load_data, parse_args, run
from lamina import nn


class SequenceClassifier(nn.Module):
    """Shape: x (N, L, input_size) -> logits (N, num_classes)."""

    def __init__(self, input_size: int, hidden_size: int = 64, num_layers: int = 1, cell: str = "lstm",
                 num_classes: int = 10) -> None:
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
        self.rnn = rnn(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        out, _ = self.rnn(x)           # (N, L, hidden_size)
        return self.head(out[:, -1])   # the last step has read the whole image


def main(argv: list[str] | None = None) -> dict:
    parser = base_parser(__doc__.split("\n")[0], epochs=20, lr=3e-3)
    parser.add_argument("--cell", choices=("lstm", "gru"), default="lstm")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=1)
    args = parse_args(parser, argv)
    data = as_sequences(load_data(args.dataset, args.limit, args.data_root))
    steps, features = data.train.tensors[0].shape[1:]
    return run(args, args.cell, data,
               lambda: SequenceClassifier(features, args.hidden, args.layers, args.cell, len(data.classes)),
               summary_input=(args.batch_size, steps, features))


if __name__ == "__main__":
    main(sys.argv[1:])
