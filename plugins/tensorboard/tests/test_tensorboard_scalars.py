"""SummaryWriter: scalars and tensors read back exactly, run folders, event-file names, purge_step,
flush/close/reopen, errors, and the same read-back as PyTorch's writer."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import lamina
import numpy as np
import pytest
from _tensorboard_readback import event_files, read_run, scalars, torch_writer
from lamina.utils.tensorboard import SummaryWriter
from tensorboard.util import tensor_util

VALUES = [0.1, 2, np.float64(1 / 3), np.float32(-7.25), np.int64(5), 1e30, -0.0]


def test_scalars_read_back_as_float32_with_their_steps_and_walltimes(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step, value in enumerate(VALUES):
            w.add_scalar("loss/train", value, step, walltime=1000.0 + step)
        w.add_scalar("loss/train", lamina.tensor(0.625), 10, walltime=2000.5)       # 0-d tensor
        w.add_scalar("loss/train", lamina.tensor([[3.5]]), 11, walltime=2001.0)     # one element, any shape
        w.add_scalar("other", np.array([4.0]), walltime=3.0)                         # no step
    got = scalars(read_run(tmp_path), "loss/train")
    expected = [(s, float(np.float32(v)), 1000.0 + s) for s, v in enumerate(VALUES)]
    assert got == expected + [(10, 0.625, 2000.5), (11, 3.5, 2001.0)]
    assert scalars(read_run(tmp_path), "other") == [(0, 4.0, 3.0)]


@pytest.mark.parametrize("double", [False, True])
def test_new_style_scalars_are_tensors_of_the_scalars_plugin(tmp_path, double):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("acc", 1 / 3, 7, new_style=True, double_precision=double)
    run = read_run(tmp_path)
    (event,) = run.Tensors("acc")
    assert event.step == 7
    value = tensor_util.make_ndarray(event.tensor_proto)
    assert value.dtype == (np.float64 if double else np.float32) and value.shape == ()
    assert value == (1 / 3 if double else np.float32(1 / 3))
    assert run.SummaryMetadata("acc").plugin_data.plugin_name == "scalars"


def test_add_scalars_writes_one_sub_run_per_key_under_the_main_tag(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("run/14h", {"xsinx": 1.5, "tanx": -2}, 0)
        w.add_scalars("run/14h", {"xsinx": 2.5, "tanx": 3}, 1, walltime=50.0)
        assert sorted(w.all_writers) == sorted([str(tmp_path), f"{tmp_path}/run_14h_xsinx", f"{tmp_path}/run_14h_tanx"])
    assert sorted(os.listdir(tmp_path))[-2:] == ["run_14h_tanx", "run_14h_xsinx"]
    for key, values in {"xsinx": [1.5, 2.5], "tanx": [-2.0, 3.0]}.items():
        got = scalars(read_run(tmp_path / f"run_14h_{key}"), "run/14h")
        assert [(s, v) for s, v, _ in got] == list(enumerate(values))
        assert got[1][2] == 50.0
    first = [scalars(read_run(tmp_path / f"run_14h_{k}"), "run/14h")[0][2] for k in ("xsinx", "tanx")]
    assert first[0] == first[1]  # one wall time for all the keys of one call


def test_add_tensor_keeps_dtype_shape_and_values(tmp_path):
    arrays = {"f": np.arange(6, dtype=np.float32).reshape(2, 3) / 7, "i": np.array([[-3], [2**40]], np.int64),
              "h": np.array([0.5, -1.25, 65504], np.float16), "b": np.array([True, False]),
              "c": np.array([1 + 2j, -3j], np.complex64), "u": np.array([0, 200, 255], np.uint8),
              "t": lamina.arange(4).reshape(2, 2)}
    with SummaryWriter(tmp_path) as w:
        for tag, value in arrays.items():
            w.add_tensor(tag, value, lamina.tensor(1))  # a step may be a one-element tensor
    run = read_run(tmp_path)
    for tag, value in arrays.items():
        expected = value.numpy() if isinstance(value, lamina.Tensor) else value
        got = tensor_util.make_ndarray(run.Tensors(tag)[0].tensor_proto)
        assert got.dtype == expected.dtype and got.shape == expected.shape, tag
        np.testing.assert_array_equal(got, expected)


def test_default_log_dir_and_event_file_name_follow_torch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    w = SummaryWriter(comment="_lr0.1", filename_suffix=".v2")
    w.close()
    host = re.escape(socket.gethostname())
    assert re.fullmatch(rf"runs/[A-Z][a-z]{{2}}\d\d_\d\d-\d\d-\d\d_{host}_lr0\.1", w.log_dir), w.log_dir
    assert w.get_logdir() == w.log_dir
    (name,) = [p.name for p in event_files(w.log_dir)]
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\.{host}\.{os.getpid()}\.\d+\.v2", name), name
    theirs = torch_writer()(comment="_lr0.1")
    theirs.close()
    pattern = lambda d: re.sub(r"\d", "0", d)  # noqa: E731  (the same layout, digits aside)
    assert pattern(w.log_dir) == pattern(theirs.log_dir)


def test_purge_step_hides_the_crashed_run_events_from_that_step_on(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(10):
            w.add_scalar("loss", float(step), step)
    with SummaryWriter(tmp_path, purge_step=5) as w:  # resumed at step 5 after a "crash" at step 9
        for step in range(5, 8):
            w.add_scalar("loss", 100.0 + step, step)
    got = [(s, v) for s, v, _ in scalars(read_run(tmp_path), "loss")]
    assert got == [(s, float(s)) for s in range(5)] + [(s, 100.0 + s) for s in range(5, 8)]


def test_flush_makes_events_readable_and_close_is_final_until_the_next_write(tmp_path):
    w = SummaryWriter(tmp_path, max_queue=1000, flush_secs=10_000)
    assert (w.max_queue, w.flush_secs) == (1000, 10_000)
    w.add_scalar("a", 1.0, 0)
    w.flush()
    assert scalars(read_run(tmp_path), "a")[0][:2] == (0, 1.0)
    w.close()
    w.close()  # twice is harmless
    assert w.all_writers is None and len(event_files(tmp_path)) == 1
    w.add_scalar("a", 2.0, 1)  # as torch: a write after close opens a new event file
    w.close()
    assert len(event_files(tmp_path)) == 2
    assert [(s, v) for s, v, _ in scalars(read_run(tmp_path), "a")] == [(0, 1.0), (1, 2.0)]


def test_the_same_calls_read_back_the_same_as_pytorch(tmp_path):
    calls = [("loss", v, s, 10.0 + s) for s, v in enumerate([0.5, 1 / 3, 7, -2.5e-8])]
    for folder, writer_class in (("ours", SummaryWriter), ("torch", torch_writer())):
        with writer_class(str(tmp_path / folder)) as w:
            for tag, value, step, walltime in calls:
                w.add_scalar(tag, value, step, walltime)
            w.add_scalar("new", 0.1, 3, new_style=True)
            w.add_scalars("pair", {"a": 1.0, "b": 2.0}, 4, walltime=9.0)
    ours, theirs = read_run(tmp_path / "ours"), read_run(tmp_path / "torch")
    assert ours.Tags()["scalars"] == theirs.Tags()["scalars"] and ours.Tags()["tensors"] == theirs.Tags()["tensors"]
    assert scalars(ours, "loss") == scalars(theirs, "loss")
    assert ours.Tensors("new")[0].tensor_proto == theirs.Tensors("new")[0].tensor_proto
    assert sorted(os.listdir(tmp_path / "ours"))[-2:] == sorted(os.listdir(tmp_path / "torch"))[-2:]
    for key in "ab":
        assert scalars(read_run(tmp_path / "ours" / f"pair_{key}"), "pair") == \
            scalars(read_run(tmp_path / "torch" / f"pair_{key}"), "pair")


@pytest.mark.parametrize("call, error, match", [
    (lambda w: w.add_scalar("x", np.zeros(2)), ValueError, r"add_scalar: expected a single value .* shape \(2,\)"),
    (lambda w: w.add_scalar("x", "1.0"), TypeError, r"add_scalar: expected a lamina Tensor, a NumPy array or a "
                                                     r"Python number, got str"),
    (lambda w: w.add_scalar(3, 1.0), TypeError, r"add_scalar: expected tag as a str, got int"),
    (lambda w: w.add_tensor("x", np.array(["a"])), TypeError, r"add_tensor: expected a tensor of dtype .* got <U1"),
    (lambda w: w.add_graph(None), NotImplementedError, r"torch\.utils\.tensorboard\.SummaryWriter\.add_graph"),
    (lambda w: w.add_onnx_graph("m.onnx"), NotImplementedError, r"SummaryWriter\.add_onnx_graph"),
])
def test_bad_input_names_the_method_and_what_it_expected(tmp_path, call, error, match):
    with SummaryWriter(tmp_path) as w, pytest.raises(error, match=match):
        call(w)


def test_import_lamina_does_not_import_tensorboard_and_the_namespace_is_the_plugin():
    code = ("import sys, lamina; assert 'tensorboard' not in sys.modules; "
            "import lamina.utils.tensorboard as tb, lamina_tensorboard; assert tb is lamina_tensorboard; "
            "from lamina.utils.tensorboard import SummaryWriter; assert 'tensorboard' in sys.modules")
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True)
