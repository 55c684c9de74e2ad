"""Graph clean-up after the exporters ran: constant folding and dead-node pruning.

``fold`` evaluates, with onnx's reference evaluator at the graph's opset, every node whose inputs
are all initializers, and replaces its outputs by initializers (weight re-layouts such as
Transpose/Reshape/Concat of parameters, shape arithmetic on constants). ``prune`` drops nodes
whose outputs nobody reads and initializers nobody uses.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

_NEVER = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"}


def _evaluate(node: onnx.NodeProto, initializers: dict[str, np.ndarray], opset: int) -> list[np.ndarray]:
    inputs = [helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(initializers[name].dtype),
                                            initializers[name].shape) for name in node.input if name]
    outputs = [helper.make_empty_tensor_value_info(name) for name in node.output]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    feeds = {name: initializers[name] for name in node.input if name}
    return list(ReferenceEvaluator(model).run(None, feeds))


def fold(nodes: list[onnx.NodeProto], initializers: dict[str, np.ndarray], opset: int) -> list[onnx.NodeProto]:
    """Nodes left after folding; ``initializers`` gains the folded outputs."""
    kept = []
    for node in nodes:
        constant = node.input and all(name == "" or name in initializers for name in node.input)
        if not constant or node.domain not in ("", "ai.onnx") or node.op_type in _NEVER:
            kept.append(node)
            continue
        for name, value in zip(node.output, _evaluate(node, initializers, opset)):
            initializers[name] = np.asarray(value)
    return kept


def prune(nodes: list[onnx.NodeProto], initializers: dict[str, np.ndarray],
          outputs: list[str]) -> list[onnx.NodeProto]:
    """Drop nodes (from the end) whose outputs are unused, then unused initializers."""
    needed = set(outputs)
    kept: list[onnx.NodeProto] = []
    for node in reversed(nodes):
        if any(name in needed for name in node.output):
            kept.append(node)
            needed.update(name for name in node.input if name)
    for name in [n for n in initializers if n not in needed]:
        del initializers[name]
    return kept[::-1]


def to_tensors(initializers: dict[str, np.ndarray]) -> list[onnx.TensorProto]:
    """TensorProtos of the initializers; a 0-d array stays 0-d (a scalar input: Range's start, limit, delta)."""
    return [numpy_helper.from_array(np.asarray(array, order="C"), name) for name, array in initializers.items()]
