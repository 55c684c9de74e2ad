"""The check every export test makes: export to memory, run onnx's checker, run onnxruntime, compare.

``roundtrip(model, args, ...)`` exports ``model`` with ``args`` (``dynamic_axes`` etc. passed on),
checks the ModelProto (``onnx.checker.check_model(full_check=True)``: structure and shape
inference), runs it in onnxruntime (CPUExecutionProvider) on ``run_args`` (default: ``args``) and
compares each output with lamina's eval-mode output on the same inputs. Returns the ModelProto.
"""

from __future__ import annotations

import io
from typing import Any

import lamina
import numpy as np
import onnx
import pytest

ort = pytest.importorskip("onnxruntime")


def as_tuple(args: Any) -> tuple:
    return args if isinstance(args, tuple) else (args,)


def flat_outputs(result: Any) -> list[np.ndarray]:
    """Every Tensor in the model's result, depth-first; None (MultiheadAttention's weights with
    need_weights=False) is skipped, as the exporter skips it: it is not a graph output."""
    if isinstance(result, lamina.Tensor):
        return [result.detach().numpy()]
    if result is None:
        return []
    if isinstance(result, dict):
        result = list(result.values())
    return [a for item in result for a in flat_outputs(item)]


def export_bytes(model: Any, args: Any, **options: Any) -> bytes:
    buf = io.BytesIO()
    assert lamina.onnx.export(model, as_tuple(args), buf, **options) is None
    return buf.getvalue()


def run_onnx(data: bytes, inputs: list[np.ndarray]) -> list[np.ndarray]:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert len(names) == len(inputs), f"the graph has inputs {names}, the test gives {len(inputs)}"
    return session.run(None, dict(zip(names, inputs)))


def roundtrip(model: Any, args: Any, *, run_args: Any = None, rtol: float = 1e-4, atol: float = 1e-5,
              **options: Any) -> onnx.ModelProto:
    data = export_bytes(model, args, **options)
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    run_args = as_tuple(args if run_args is None else run_args)
    kwargs = dict(options.get("kwargs") or {})
    if run_args and isinstance(run_args[-1], dict):  # torch's convention: a trailing dict holds keyword inputs
        run_args, kwargs = run_args[:-1], run_args[-1]
    model.eval()
    with lamina.no_grad():
        want = flat_outputs(model(*run_args, **kwargs))
    tensors = [t for t in (*run_args, *kwargs.values()) if isinstance(t, lamina.Tensor)]
    got = run_onnx(data, [t.numpy() for t in tensors])
    assert len(got) == len(want), f"onnxruntime gave {len(got)} outputs, lamina {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        assert g.shape == w.shape, f"output {k}: onnxruntime shape {g.shape}, lamina {w.shape}"
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"output {k}")
    return proto


def op_types(proto: onnx.ModelProto) -> list[str]:
    return [n.op_type for n in proto.graph.node]


class Lambda(lamina.nn.Module):
    """A module whose forward is ``fn(x, weight)``; ``weight`` is a (4,) parameter (for op-level tests)."""

    def __init__(self, fn: Any) -> None:
        super().__init__()
        self.fn = fn
        self.weight = lamina.nn.Parameter(lamina.randn(4))

    def forward(self, x: Any) -> Any:
        return self.fn(x, self.weight)
