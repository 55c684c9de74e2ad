"""add_text, add_hparams (a sub-run with the HParams plugin's records), add_custom_scalars and
add_mesh read back through tensorboard's own parsers (and equal to PyTorch's writer's)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from _tensorboard_readback import read_run, scalars, torch_writer
from lamina.utils.tensorboard import SummaryWriter
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.mesh import metadata as mesh_metadata
from tensorboard.util import tensor_util


def test_text_reads_back_as_utf8_markdown(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "**lr** = 1e-3, 损失下降", 0)
        w.add_text("notes", "second", 5)
    run = read_run(tmp_path)
    events = run.Tensors("notes/text_summary")
    assert [e.step for e in events] == [0, 5]
    assert [tensor_util.make_ndarray(e.tensor_proto).tolist() for e in events] == [
        ["**lr** = 1e-3, 损失下降".encode()], [b"second"]]
    assert run.SummaryMetadata("notes/text_summary").plugin_data.plugin_name == "text"
    with SummaryWriter(tmp_path / "bad") as w, pytest.raises(TypeError, match="add_text: expected text_string"):
        w.add_text("notes", 3)


def hparams_records(folder):
    """The experiment, session-start and session-end records of a run, parsed."""
    content = read_run(folder).PluginTagToContent("hparams")
    parsed = {tag: plugin_data_pb2.HParamsPluginData.FromString(data) for tag, data in content.items()}
    return (parsed["_hparams_/experiment"].experiment, parsed["_hparams_/session_start_info"].session_start_info,
            parsed["_hparams_/session_end_info"].session_end_info)


HPARAMS = {"lr": 0.01, "batch": 32, "optimizer": "adam", "nesterov": True, "skipped": None}
METRICS = {"hparam/accuracy": 0.875, "hparam/loss": 0.25}


def test_hparams_write_a_sub_run_with_values_types_and_metrics(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams(HPARAMS, METRICS, hparam_domain_discrete={"optimizer": ["adam", "sgd"], "batch": [32, 64]},
                      run_name="trial-1", global_step=3)
    sub = tmp_path / "trial-1"
    assert sub.is_dir()
    experiment, start, end = hparams_records(sub)
    infos = {h.name: h for h in experiment.hparam_infos}
    assert list(infos) == ["lr", "batch", "optimizer", "nesterov"]  # None is left out
    assert {k: api_pb2.DataType.Name(h.type) for k, h in infos.items()} == {
        "lr": "DATA_TYPE_FLOAT64", "batch": "DATA_TYPE_FLOAT64", "optimizer": "DATA_TYPE_STRING",
        "nesterov": "DATA_TYPE_FLOAT64"}  # bool as a number, as torch writes it
    assert [v.string_value for v in infos["optimizer"].domain_discrete.values] == ["adam", "sgd"]
    assert [v.number_value for v in infos["batch"].domain_discrete.values] == [32, 64]
    assert [m.name.tag for m in experiment.metric_infos] == list(METRICS)
    assert {k: v.WhichOneof("kind") for k, v in start.hparams.items()} == {
        "lr": "number_value", "batch": "number_value", "optimizer": "string_value", "nesterov": "number_value"}
    assert (start.hparams["lr"].number_value, start.hparams["batch"].number_value,
            start.hparams["optimizer"].string_value, start.hparams["nesterov"].number_value) == (0.01, 32, "adam", 1)
    assert api_pb2.Status.Name(end.status) == "STATUS_SUCCESS"
    for tag, value in METRICS.items():
        assert [(s, v) for s, v, _ in scalars(read_run(sub), tag)] == [(3, np.float32(value))]


def test_hparams_default_run_name_is_a_timestamp_folder(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1}, {"m": 1.0})
    (folder,) = [d for d in os.listdir(tmp_path) if (tmp_path / d).is_dir()]
    assert float(folder) > 1.6e9


def test_hparams_records_equal_pytorch(tmp_path):
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            w.add_hparams(HPARAMS, METRICS, hparam_domain_discrete={"optimizer": ["adam", "sgd"]}, run_name="r",
                          global_step=1)
    assert hparams_records(tmp_path / "ours" / "r") == hparams_records(tmp_path / "torch" / "r")
    for tag in METRICS:
        ours, theirs = scalars(read_run(tmp_path / "ours" / "r"), tag), scalars(read_run(tmp_path / "torch" / "r"), tag)
        assert [e[:2] for e in ours] == [e[:2] for e in theirs]


@pytest.mark.parametrize("args, error, match", [
    (([("lr", 1)], {}), TypeError, r"add_hparams: expected hparam_dict and metric_dict as dicts, got list and dict"),
    (({"lr": [1, 2]}, {}), ValueError, r"add_hparams: hyperparameter 'lr' must be an int, .* got list"),
    (({"lr": 0.1}, {}, {"lr": ["a"]}), TypeError, r"hparam_domain_discrete\['lr'\] must be a list of values"),
    (({"lr": 0.1}, {}, {"other": [1.0]}), TypeError, r"hparam_domain_discrete\['other'\]"),
])
def test_bad_hparams_are_named(tmp_path, args, error, match):
    with SummaryWriter(tmp_path) as w, pytest.raises(error, match=match):
        w.add_hparams(*args)


def test_custom_scalar_layouts_parse_back(tmp_path):
    layout = {"Taiwan": {"twse": ["Multiline", ["twse/0050", "twse/2330"]]},
              "USA": {"dow": ["Margin", ["dow/aaa", "dow/bbb", "dow/ccc"]]}}
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            w.add_custom_scalars(layout)
    runs = [read_run(tmp_path / f).Tensors("custom_scalars__config__")[0].tensor_proto for f in ("ours", "torch")]
    assert runs[0] == runs[1]
    parsed = layout_pb2.Layout.FromString(runs[0].string_val[0])
    assert [c.title for c in parsed.category] == ["Taiwan", "USA"]
    assert list(parsed.category[0].chart[0].multiline.tag) == ["twse/0050", "twse/2330"]
    series = parsed.category[1].chart[0].margin.series[0]
    assert (series.value, series.lower, series.upper) == ("dow/aaa", "dow/bbb", "dow/ccc")
    with SummaryWriter(tmp_path / "bad") as w:
        with pytest.raises(ValueError, match="add_custom_scalars_marginchart: expected 3 tags"):
            w.add_custom_scalars_marginchart(["a", "b"])
        with pytest.raises(ValueError, match=r"chart type must be one of \['Multiline', 'Margin'\], got 'Pie'"):
            w.add_custom_scalars({"c": {"t": ["Pie", ["a"]]}})
        w.add_custom_scalars_multilinechart(["a", "b"], category="cat", title="both")
    (event,) = read_run(tmp_path / "bad").Tensors("custom_scalars__config__")
    chart = layout_pb2.Layout.FromString(event.tensor_proto.string_val[0]).category[0].chart[0]
    assert (chart.title, list(chart.multiline.tag)) == ("both", ["a", "b"])


def test_mesh_components_read_back(tmp_path):
    vertices = np.array([[[1, 1, 1], [-1, -1, 1], [1, -1, -1], [-1, 1, -1]]], dtype=np.float32)
    colors = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 0, 255]]], dtype=np.int32)
    faces = np.array([[[0, 2, 3], [0, 3, 1], [0, 1, 2], [1, 3, 2]]], dtype=np.int32)
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            w.add_mesh("mesh", vertices, colors=colors, faces=faces, config_dict={"camera": {"fov": 75}},
                       global_step=2)
    ours, theirs = read_run(tmp_path / "ours"), read_run(tmp_path / "torch")
    assert sorted(ours.Tags()["tensors"]) == sorted(theirs.Tags()["tensors"]) == [
        "mesh_COLOR", "mesh_FACE", "mesh_VERTEX"]
    for tag, expected in {"mesh_VERTEX": vertices, "mesh_COLOR": colors, "mesh_FACE": faces}.items():
        np.testing.assert_array_equal(tensor_util.make_ndarray(ours.Tensors(tag)[0].tensor_proto), expected)
        assert ours.Tensors(tag)[0].tensor_proto == theirs.Tensors(tag)[0].tensor_proto
        info = mesh_metadata.parse_plugin_metadata(ours.SummaryMetadata(tag).plugin_data.content)
        assert info == mesh_metadata.parse_plugin_metadata(theirs.SummaryMetadata(tag).plugin_data.content)
        assert info.json_config == '{"camera": {"fov": 75}}' and list(info.shape) == list(expected.shape)
