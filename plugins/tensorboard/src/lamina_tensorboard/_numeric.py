"""Summaries of numbers: scalars, raw tensors, histograms, precision-recall curves, custom-scalar layouts.

Each function returns a ``Summary`` protobuf (tensorboard's own message classes); the writer wraps
it in an ``Event`` with a step and a wall time.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData

from ._convert import as_float, as_vector, make_np


def _shape(dims: Sequence[int]) -> TensorShapeProto:
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(d)) for d in dims])


def _metadata(plugin_name: str, content: bytes = b"") -> SummaryMetadata:
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=plugin_name, content=content))


def scalar(tag: str, value: Any, new_style: bool = False, double_precision: bool = False) -> Summary:
    """One number. Old style: ``simple_value`` (float32 on disk); new style: a scalar tensor for the
    ``scalars`` plugin, float32 or, with ``double_precision``, float64."""
    number = as_float(value, "add_scalar")
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=number)])
    proto = (TensorProto(dtype="DT_DOUBLE", double_val=[number]) if double_precision
             else TensorProto(dtype="DT_FLOAT", float_val=[number]))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=_metadata("scalars"))])


# NumPy dtype -> (TensorProto dtype, the repeated field that holds the values)
_TENSOR_FIELDS = {
    np.dtype(np.float16): ("DT_HALF", "half_val"), np.dtype(np.float32): ("DT_FLOAT", "float_val"),
    np.dtype(np.float64): ("DT_DOUBLE", "double_val"), np.dtype(np.int8): ("DT_INT8", "int_val"),
    np.dtype(np.int16): ("DT_INT16", "int_val"), np.dtype(np.int32): ("DT_INT32", "int_val"),
    np.dtype(np.int64): ("DT_INT64", "int64_val"), np.dtype(np.uint8): ("DT_UINT8", "int_val"),
    np.dtype(np.bool_): ("DT_BOOL", "bool_val"), np.dtype(np.complex64): ("DT_COMPLEX64", "scomplex_val"),
    np.dtype(np.complex128): ("DT_COMPLEX128", "dcomplex_val"),
}


def tensor(tag: str, value: Any) -> Summary:
    """A whole tensor, values flattened in C order, for the ``tensor`` plugin."""
    array = make_np(value, "add_tensor")
    if array.dtype not in _TENSOR_FIELDS:
        raise TypeError(f"add_tensor: expected a tensor of dtype {sorted(str(d) for d in _TENSOR_FIELDS)}, "
                        f"got {array.dtype}")
    if array.nbytes >= 1 << 31:
        raise ValueError(f"add_tensor: a tensor proto holds less than 2 GiB, got {array.nbytes} bytes")
    dtype, field = _TENSOR_FIELDS[array.dtype]
    flat = array.reshape(-1)
    if field == "half_val":  # float16 travels as its 16-bit pattern in an int field
        values: list = flat.view(np.uint16).astype(np.int64).tolist()
    elif array.dtype.kind == "c":  # complex: (real, imaginary) pairs
        values = np.stack([flat.real, flat.imag], axis=-1).reshape(-1).tolist()
    else:
        values = flat.tolist()
    proto = TensorProto(dtype=dtype, tensor_shape=_shape(array.shape), **{field: values})
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=_metadata("tensor"))])


@functools.lru_cache(maxsize=1)
def tensorflow_bins() -> tuple[float, ...]:
    """TensorFlow's default histogram edges: 0 and +-1e-12 * 1.1**k up to 1e20, built by repeated
    multiplication (so the edges equal, bit for bit, those of writers that build them the same way)."""
    edges = []
    edge = 1e-12
    while edge < 1e20:
        edges.append(edge)
        edge *= 1.1
    return tuple([-e for e in reversed(edges)] + [0.0] + edges)


def histogram(tag: str, values: Any, bins: Any = "tensorflow", max_bins: int | None = None) -> Summary:
    """Histogram of ``values`` (any shape, as float64) over ``bins``.

    ``bins`` is ``'tensorflow'`` (the default edges), or anything ``numpy.histogram`` takes (a count,
    a rule name such as ``'auto'``, or the edges). With ``max_bins``, groups of adjacent buckets are
    merged so that at most about ``max_bins`` remain. Buckets are trimmed to the span from one empty
    bucket before the first non-empty one to the last non-empty one; ``bucket_limit`` holds each
    bucket's upper edge.
    """
    flat = make_np(values, "add_histogram").astype(float).reshape(-1)
    if flat.size == 0:
        raise ValueError("add_histogram: expected at least one value, got an empty tensor")
    if isinstance(bins, str) and bins == "tensorflow":
        bins = tensorflow_bins()
    counts, edges = np.histogram(flat, bins=bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        padded = np.pad(counts, (0, -len(counts) % group))
        counts = padded.reshape(-1, group).sum(axis=1)
        edges = np.concatenate([edges[:-1:group], edges[-1:]])
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        raise ValueError(f"add_histogram: no value falls inside the bins (values span "
                         f"[{flat.min()}, {flat.max()}], bins span [{edges[0]}, {edges[-1]}])")
    first, last = int(filled[0]), int(filled[-1])
    # bucket i of the result has upper edge edges[first + i] and holds counts[first - 1 + i]
    kept = counts[first - 1:last + 1] if first > 0 else np.concatenate([[0], counts[:last + 1]])
    proto = HistogramProto(min=flat.min(), max=flat.max(), num=len(flat), sum=flat.sum(),
                           sum_squares=flat.dot(flat), bucket_limit=edges[first:last + 2].tolist(),
                           bucket=kept.tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def histogram_raw(tag: str, min: float, max: float, num: int, sum: float, sum_squares: float,
                  bucket_limits: Any, bucket_counts: Any) -> Summary:
    """A histogram given by its statistics and buckets (``bucket_limits``: upper edges, one per count)."""
    limits = as_vector(bucket_limits, "add_histogram_raw")
    counts = as_vector(bucket_counts, "add_histogram_raw")
    if len(limits) != len(counts):
        raise ValueError(f"add_histogram_raw: expected as many bucket_limits as bucket_counts, got "
                         f"{len(limits)} limits and {len(counts)} counts")
    proto = HistogramProto(min=float(min), max=float(max), num=float(num), sum=float(sum),
                           sum_squares=float(sum_squares), bucket_limit=limits.tolist(),
                           bucket=counts.tolist())
    return Summary(value=[Summary.Value(tag=tag, histo=proto)])


def _pr_summary(tag: str, data: np.ndarray, num_thresholds: int) -> Summary:
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    proto = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(), tensor_shape=_shape(data.shape))
    return Summary(value=[Summary.Value(tag=tag, tensor=proto, metadata=_metadata("pr_curves", content))])


def pr_curve(tag: str, labels: Any, predictions: Any, num_thresholds: int = 127, weights: Any = None) -> Summary:
    """Precision-recall data at ``num_thresholds`` (at most 127) evenly spaced thresholds.

    Shape: labels (N,) in {0, 1}, predictions (N,) in [0, 1] -> data (6, num_thresholds): TP, FP, TN,
    FN, precision, recall.
    """
    labels = make_np(labels, "add_pr_curve")
    predictions = make_np(predictions, "add_pr_curve")
    if labels.shape != predictions.shape:
        raise ValueError(f"add_pr_curve: expected labels and predictions of one shape, got "
                         f"{tuple(labels.shape)} and {tuple(predictions.shape)}")
    num_thresholds = min(int(num_thresholds), 127)
    if num_thresholds < 2:
        raise ValueError(f"add_pr_curve: expected num_thresholds >= 2, got {num_thresholds}")
    weights = 1.0 if weights is None else make_np(weights, "add_pr_curve")
    bucket = np.int32(np.floor(predictions * (num_thresholds - 1)))
    positive = labels.astype(np.float64)
    span = (0, num_thresholds - 1)
    tp_hist, _ = np.histogram(bucket, bins=num_thresholds, range=span, weights=positive * weights)
    fp_hist, _ = np.histogram(bucket, bins=num_thresholds, range=span, weights=(1.0 - positive) * weights)
    tp = np.cumsum(tp_hist[::-1])[::-1]  # predictions at or above each threshold
    fp = np.cumsum(fp_hist[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    tiny = 1e-7  # keeps 0/0 at a threshold above every prediction finite (precision 0)
    precision = tp / np.maximum(tiny, tp + fp)
    recall = tp / np.maximum(tiny, tp + fn)
    return _pr_summary(tag, np.stack((tp, fp, tn, fn, precision, recall)), num_thresholds)


def pr_curve_raw(tag: str, counts: Sequence[Any], num_thresholds: int = 127) -> Summary:
    """Precision-recall data given as the six rows TP, FP, TN, FN, precision, recall."""
    rows = [as_vector(c, "add_pr_curve_raw") for c in counts]
    if len({len(r) for r in rows}) != 1:
        raise ValueError(f"add_pr_curve_raw: expected six rows of one length, got lengths {[len(r) for r in rows]}")
    return _pr_summary(tag, np.stack(rows), min(int(num_thresholds), 127))


def custom_scalars(layout: Mapping[str, Mapping[str, Sequence[Any]]]) -> Summary:
    """The custom-scalars dashboard layout ``{category: {chart: ['Multiline' | 'Margin', tags]}}``."""
    categories = []
    for category, charts in layout.items():
        protos = []
        for title, (kind, tags) in charts.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise ValueError(f"add_custom_scalars: a Margin chart takes 3 tags (value, lower, upper), "
                                     f"got {len(tags)} for {title!r}")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1], upper=tags[2])
                protos.append(layout_pb2.Chart(title=title, margin=layout_pb2.MarginChartContent(series=[series])))
            elif kind == "Multiline":
                protos.append(layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(tag=tags)))
            else:
                raise ValueError(f"add_custom_scalars: chart type must be one of ['Multiline', 'Margin'], "
                                 f"got {kind!r} for {title!r}")
        categories.append(layout_pb2.Category(title=category, chart=protos))
    proto = TensorProto(dtype="DT_STRING", string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
                        tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=proto,
                                        metadata=_metadata("custom_scalars"))])


def mesh(tag: str, vertices: Any, colors: Any, faces: Any, config_dict: Mapping[str, Any] | None) -> Summary:
    """A mesh or point cloud for the ``mesh`` plugin: one float tensor per component given.

    Shape: vertices (B, N, 3) float; colors (B, N, 3) in [0, 255]; faces (B, F, 3) vertex indices.
    """
    import json

    from tensorboard.plugins.mesh import metadata
    from tensorboard.plugins.mesh.plugin_data_pb2 import MeshPluginData

    given = [(vertices, MeshPluginData.VERTEX), (faces, MeshPluginData.FACE), (colors, MeshPluginData.COLOR)]
    given = [(make_np(t, "add_mesh"), kind) for t, kind in given if t is not None]
    for array, kind in given:
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"add_mesh: expected {MeshPluginData.ContentType.Name(kind).lower()} of shape "
                             f"(B, N, 3), got {tuple(array.shape)}")
    components = metadata.get_components_bitmask([kind for _, kind in given])
    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    values = []
    for array, kind in given:
        smd = metadata.create_summary_metadata(tag, None, kind, components, array.shape, None,
                                               json_config=json_config)
        proto = TensorProto(dtype="DT_FLOAT", float_val=array.astype(np.float32).reshape(-1).tolist(),
                            tensor_shape=_shape(array.shape))
        values.append(Summary.Value(tag=metadata.get_instance_name(tag, kind), tensor=proto, metadata=smd))
    return Summary(value=values)
