"""The errors lamina.onnx.export raises (torch.onnx.errors' names)."""

from __future__ import annotations


class OnnxExporterError(RuntimeError):
    """Export failed: a bad argument, a model the tracer cannot follow, or a conflicting exporter."""


class UnsupportedOperatorError(OnnxExporterError):
    """An op or module has no ONNX exporter, or its exporter does not support this configuration."""


def where(op: str, path: str) -> str:
    """``"op 'Cumsum' (in module 'encoder.layers.0')"``; the root model is ``'<root>'``."""
    return f"op {op!r} (in module {path or '<root>'!r})"


__all__ = ["OnnxExporterError", "UnsupportedOperatorError"]
