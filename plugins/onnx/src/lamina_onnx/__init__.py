"""``lamina.onnx``: export a lamina model to ONNX by tracing one forward pass (lamina-onnx).

``lamina.onnx.export(model, args, f, input_names=, output_names=, dynamic_axes=, opset_version=,
do_constant_folding=)`` follows torch.onnx.export's TorchScript exporter (``dynamo=False``; returns
None). Modules with an exporter (norm layers, recurrent and attention layers) are exported as
units, every other op as it runs; exporters come from the ``lamina.onnx.exporters`` entry points.
The exporter API (``GraphBuilder``, ``Call``, ``Value``) is described in README.md.
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from ._call import Call, Value
from ._export import DEFAULT_OPSET, SUPPORTED_OPSETS, export
from ._graph import GraphBuilder
from ._registry import GROUP, class_key, register_exporter, unregister_exporter
from .errors import OnnxExporterError, UnsupportedOperatorError

__all__ = ["export", "register_exporter", "unregister_exporter", "class_key", "GraphBuilder", "Call", "Value",
           "OnnxExporterError", "UnsupportedOperatorError", "DEFAULT_OPSET", "SUPPORTED_OPSETS", "GROUP"]
