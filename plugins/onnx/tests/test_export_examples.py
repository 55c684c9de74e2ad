"""Every model of examples/ (besides the main job's ConvNet, in test_export_convnet.py), with seeded weights,
exported with a dynamic batch axis, checked by onnx.checker and run in onnxruntime for another batch size:
the MLP, the BatchNorm ConvNet, the LSTM and GRU sequence classifiers and the row Transformer."""

from __future__ import annotations

import importlib
import os
import sys

import lamina
import pytest
from _onnx_check import op_types, roundtrip

EXAMPLES = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples"))
BATCH = {"x": {0: "batch"}, "logits": {0: "batch"}}


def example(name: str):
    pytest.importorskip("lamina_datasets", reason="the examples import lamina-datasets")
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    return importlib.import_module(name)


def check(model, shape: tuple[int, ...], run_batch: int = 5):
    lamina.manual_seed(1)
    x, other = lamina.randn(2, *shape), lamina.randn(run_batch, *shape)
    return roundtrip(model, x, run_args=other, input_names=["x"], output_names=["logits"], dynamic_axes=BATCH)


def test_mlp_digits():
    lamina.manual_seed(0)
    proto = check(example("mlp_digits").MLP(64), (1, 8, 8))
    assert op_types(proto).count("Gemm") == 3 and "Dropout" not in op_types(proto)


def test_batchnorm_convnet_with_trained_statistics():
    lamina.manual_seed(0)
    model = example("cnn_fashion_mnist").BNConvNet((28, 28))
    model.train()
    with lamina.no_grad():
        for _ in range(3):  # running statistics away from their initial (0, 1)
            model(lamina.randn(8, 1, 28, 28) * 2 + 0.5)
    proto = check(model, (1, 28, 28))
    assert "BatchNormalization" in op_types(proto)


@pytest.mark.parametrize("cell,layers", [("lstm", 1), ("gru", 2)])
def test_sequence_classifier(cell: str, layers: int):
    lamina.manual_seed(0)
    model = example("sequence_classifier").SequenceClassifier(8, hidden_size=16, num_layers=layers, cell=cell)
    proto = check(model, (8, 8))
    assert cell.upper() in op_types(proto)


def test_row_transformer():
    lamina.manual_seed(0)
    model = example("transformer_encoder").RowTransformer(8, 8, d_model=32, nhead=4, num_layers=2)
    check(model, (8, 8), run_batch=3)
