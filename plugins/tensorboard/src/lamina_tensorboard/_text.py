"""Summaries of words: text (markdown) and the hyperparameter plugin's experiment/session records."""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import lamina
import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.hparams import api_pb2, metadata, plugin_data_pb2
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

from ._convert import make_np


def text(tag: str, text_string: str) -> Summary:
    """A string (rendered as markdown) under ``<tag>/text_summary``, as a 1-element string tensor."""
    if not isinstance(text_string, str):
        raise TypeError(f"add_text: expected text_string as a str, got {type(text_string).__name__}")
    smd = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name="text", content=TextPluginData(version=0).SerializeToString()))
    proto = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf-8")],
                        tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=smd, tensor=proto)])


def _hparams_summary(tag: str, **content: Any) -> Summary:
    data = plugin_data_pb2.HParamsPluginData(version=metadata.PLUGIN_DATA_VERSION, **content)
    smd = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
        plugin_name=metadata.PLUGIN_NAME, content=data.SerializeToString()))
    return Summary(value=[Summary.Value(tag=tag, metadata=smd)])


def _struct_value(value: Any, kind: str) -> struct_pb2.Value:
    return struct_pb2.Value(**{kind: value})


def hparams(hparam_dict: Mapping[str, Any], metric_dict: Mapping[str, Any],
            hparam_domain_discrete: Mapping[str, list] | None = None) -> tuple[Summary, Summary, Summary]:
    """The experiment (hyperparameter and metric names), session-start (the values) and session-end
    (success) summaries of one run.

    Numbers (bool included, as in torch: True is logged as 1.0), one-element tensors and NumPy numbers
    are FLOAT64 hyperparameters, strings STRING ones; ``None`` values are left out.
    """
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError(f"add_hparams: expected hparam_dict and metric_dict as dicts, got "
                        f"{type(hparam_dict).__name__} and {type(metric_dict).__name__}")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict):
        raise TypeError(f"add_hparams: expected hparam_domain_discrete as a dict, got {type(domains).__name__}")
    for name, values in domains.items():
        if name not in hparam_dict or not isinstance(values, list) \
                or not all(isinstance(v, type(hparam_dict[name])) for v in values):
            raise TypeError(f"add_hparams: hparam_domain_discrete[{name!r}] must be a list of values of the "
                            f"type of hparam_dict[{name!r}] ({type(hparam_dict.get(name)).__name__})")
    start = plugin_data_pb2.SessionStartInfo()
    infos = []
    for name, value in hparam_dict.items():
        if value is None:
            continue
        if isinstance(value, str):
            kind, dtype = "string_value", "DATA_TYPE_STRING"
        elif isinstance(value, (numbers.Real, np.generic, lamina.Tensor, np.ndarray)) and not isinstance(value, str):
            kind, dtype = "number_value", "DATA_TYPE_FLOAT64"
            if not isinstance(value, numbers.Real):
                value = float(make_np(value, "add_hparams").reshape(-1)[0])
        else:
            raise ValueError(f"add_hparams: hyperparameter {name!r} must be an int, float, bool, str or a "
                             f"one-element tensor, got {type(value).__name__}")
        setattr(start.hparams[name], kind, value)
        domain = None
        if name in domains:
            domain = struct_pb2.ListValue(values=[_struct_value(d, kind) for d in domains[name]])
        infos.append(api_pb2.HParamInfo(name=name, type=api_pb2.DataType.Value(dtype), domain_discrete=domain))
    metrics = [api_pb2.MetricInfo(name=api_pb2.MetricName(tag=k)) for k in metric_dict]
    experiment = _hparams_summary(metadata.EXPERIMENT_TAG,
                                  experiment=api_pb2.Experiment(hparam_infos=infos, metric_infos=metrics))
    session_start = _hparams_summary(metadata.SESSION_START_INFO_TAG, session_start_info=start)
    session_end = _hparams_summary(metadata.SESSION_END_INFO_TAG, session_end_info=plugin_data_pb2.SessionEndInfo(
        status=api_pb2.Status.Value("STATUS_SUCCESS")))
    return experiment, session_start, session_end
