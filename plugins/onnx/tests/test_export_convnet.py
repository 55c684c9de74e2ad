"""The main job's ConvNet (examples/train_convnet.py), trained briefly, exported and run in onnxruntime
for several batch sizes; and the 28x28 (MNIST) variant of the same class."""

from __future__ import annotations

import importlib
import os
import sys

import lamina
import pytest
from _onnx_check import op_types, roundtrip, run_onnx

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples")


def convnet_module():
    pytest.importorskip("lamina_datasets", reason="the examples need lamina-datasets")
    pytest.importorskip("sklearn", reason="the main job's default data set (digits) needs scikit-learn")
    path = os.path.abspath(EXAMPLES)
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module("train_convnet")


def test_the_trained_main_job_convnet_runs_in_onnxruntime_for_any_batch_size(tmp_path):
    tc = convnet_module()
    metrics = tc.main(["--epochs", "1", "--limit", "300", "--out", str(tmp_path), "--quiet"])
    model = metrics["model"]
    lamina.manual_seed(1)
    for n in (1, 5, 64):
        proto = roundtrip(model, lamina.randn(2, 1, 8, 8), run_args=lamina.randn(n, 1, 8, 8),
                          input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    assert op_types(proto) == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Reshape", "Gemm", "Relu",
                               "Gemm"]
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_the_28x28_convnet_exports_with_the_tutorials_3136_features(tmp_path):
    tc = convnet_module()
    lamina.manual_seed(0)
    model = tc.ConvNet((28, 28))
    path = tmp_path / "convnet.onnx"
    lamina.onnx.export(model, (lamina.randn(2, 1, 28, 28),), str(path), input_names=["x"],
                       dynamic_axes={"x": {0: "batch"}})
    x = lamina.randn(3, 1, 28, 28)
    model.eval()
    with lamina.no_grad():
        want = model(x).numpy()
    (got,) = run_onnx(path.read_bytes(), [x.numpy()])
    assert got.shape == (3, 10)
    assert abs(got - want).max() <= 1e-4 * abs(want).max() + 1e-5
