"""lamina.profiler.profile on a small model's forward and backward, against torch.profiler on the same model:
one row per op and backward node with counts equal to the calls, positive and consistent times (self <= total,
averages, percentages, nesting under record_function), shapes and memory as torch reports them, torch's table
layout, Chrome traces and tensorboard_trace_handler files; profiling changes no value or gradient."""

from __future__ import annotations

import gzip
import json
import os
import re

import lamina
import lamina.profiler as lprof
import numpy as np
import pytest
import torch
import torch.profiler as tprof


def _mlp(lib, seed=0):
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(4, 5), lib.nn.ReLU(), lib.nn.Linear(5, 2))
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)), dtype=p.dtype))
    return model


def _profile(lib, profiler_lib, iterations=1, **kwargs):
    model = _mlp(lib)
    x = lib.tensor(np.random.default_rng(1).standard_normal((3, 4)), dtype=lib.float32)
    with profiler_lib.profile(activities=[profiler_lib.ProfilerActivity.CPU], **kwargs) as prof:
        for _ in range(iterations):
            with profiler_lib.record_function("forward_pass"):
                y = model(x)
            y.sum().backward()
    return prof, model


def _rows(prof):
    return {e.key: e for e in prof.key_averages()}


@pytest.mark.parametrize("iterations", [1, 3])
def test_rows_and_counts_for_a_model(iterations):
    prof, _ = _profile(lamina, lprof, iterations)
    tp, _ = _profile(torch, tprof, iterations)
    rows = _rows(prof)
    pairs = {"lamina::linear": "aten::linear", "lamina::relu": "aten::relu", "lamina::sum": "aten::sum",
             "forward_pass": "forward_pass",
             "autograd::engine::evaluate_function: Linear_Backward":
                 "autograd::engine::evaluate_function: AddmmBackward0",
             "autograd::engine::evaluate_function: ReluBackward":
                 "autograd::engine::evaluate_function: ReluBackward0",
             "autograd::engine::evaluate_function: SumBackward":
                 "autograd::engine::evaluate_function: SumBackward0"}
    for ours, theirs in pairs.items():
        expected = (2 if "inear" in ours else 1) * iterations  # two Linear layers
        assert rows[ours].count == expected, ours
        # torch's backward runs aten::sum again (bias gradients); lamina's backward ops are part of their node's
        top_level_in_torch = [e for e in tp.events() if e.key == theirs and (e.cpu_parent is None or
                              e.cpu_parent.name == "forward_pass")]
        assert len(top_level_in_torch) == expected, theirs
    assert set(rows) == set(pairs)  # no row for anything else (the profiler's own work included)


def test_times_positive_and_consistent():
    prof, _ = _profile(lamina, lprof, 2)
    events = prof.events()
    for e in events:
        assert e.cpu_time_total > 0 and 0 <= e.self_cpu_time_total <= e.cpu_time_total
        assert e.time_range.start >= 0
        for child in e.cpu_children:
            assert child.cpu_parent is e
            assert e.time_range.start <= child.time_range.start <= child.time_range.end <= e.time_range.end
        assert e.self_cpu_time_total == pytest.approx(e.cpu_time_total - sum(c.cpu_time_total
                                                                              for c in e.cpu_children))
    regions = [e for e in events if e.name == "forward_pass"]
    assert len(regions) == 2
    for region in regions:  # the model's ops are the region's children, nothing else is
        assert sorted(c.name for c in region.cpu_children) == ["lamina::linear", "lamina::linear", "lamina::relu"]
    top = [e for e in events if e.cpu_parent is None]
    assert events.self_cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in top))
    for row in prof.key_averages():
        assert row.cpu_time == pytest.approx(row.cpu_time_total / row.count)
        same = [e for e in events if e.key == row.key]
        assert row.count == len(same)
        assert row.cpu_time_total == pytest.approx(sum(e.cpu_time_total for e in same))
        assert row.self_cpu_time_total == pytest.approx(sum(e.self_cpu_time_total for e in same))
    total = prof.key_averages().total_average()
    assert total.count == len(events) and total.self_cpu_time_total == pytest.approx(events.self_cpu_time_total)


def test_profiling_changes_no_value_or_gradient():
    prof, model = _profile(lamina, lprof, 1)
    plain = _mlp(lamina)
    x = lamina.tensor(np.random.default_rng(1).standard_normal((3, 4)), dtype=lamina.float32)
    plain(x).sum().backward()
    for p, q in zip(model.parameters(), plain.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())
    # the timing hooks are gone once recording stops: a later backward records nothing and still works
    n = len(prof.events())
    model(x).sum().backward()
    assert len(prof.events()) == n


def test_backward_under_create_graph_nests_ops_in_nodes():
    x = lamina.tensor([0.5, 1.5], requires_grad=True)
    with lprof.profile() as prof:
        y = (x * x).sin().sum()
        (g,) = lamina.autograd.grad(y, x, create_graph=True)
    nodes = [e for e in prof.events() if e.name.startswith("autograd::engine::evaluate_function: ")]
    assert {e.name.split(": ")[1] for e in nodes} == {"SumBackward", "SinBackward", "MulBackward"}
    assert any(c.name.startswith("lamina::") for e in nodes for c in e.cpu_children)
    np.testing.assert_allclose(g.detach().numpy(), (2 * x * (x * x).cos()).detach().numpy(), rtol=1e-6)


def test_input_shapes_and_memory_as_torch():
    prof, _ = _profile(lamina, lprof, 1, record_shapes=True, profile_memory=True)
    tp, _ = _profile(torch, tprof, 1, record_shapes=True, profile_memory=True)
    ours = {(e.key, str(e.input_shapes)): e for e in prof.key_averages(group_by_input_shape=True)}
    theirs = {(e.key, str(e.input_shapes)): e for e in tp.key_averages(group_by_input_shape=True)}
    for name, shapes in [("linear", "[[3, 4], [5, 4], [5]]"), ("linear", "[[3, 5], [2, 5], [2]]"),
                         ("relu", "[[3, 5]]")]:
        row, trow = ours[("lamina::" + name, shapes)], theirs[("aten::" + name, shapes)]
        assert row.count == trow.count == 1
        assert row.cpu_memory_usage == trow.cpu_memory_usage > 0  # the bytes of the op's output
    assert len([k for k in ours if k[0] == "lamina::linear"]) == 2
    assert [e.count for e in prof.key_averages() if e.key == "lamina::linear"] == [2]


def _header_cells(table):
    lines = table.splitlines()
    return re.split(r"\s{2,}", lines[1].strip())


@pytest.mark.parametrize("kwargs", [{}, {"record_shapes": True}, {"profile_memory": True},
                                    {"record_shapes": True, "profile_memory": True}])
def test_table_layout_as_torch(kwargs):
    prof, _ = _profile(lamina, lprof, 1, **kwargs)
    tp, _ = _profile(torch, tprof, 1, **kwargs)
    group = bool(kwargs.get("record_shapes"))
    table = prof.key_averages(group_by_input_shape=group).table(sort_by="cpu_time_total", row_limit=10)
    ttable = tp.key_averages(group_by_input_shape=group).table(sort_by="cpu_time_total", row_limit=10)
    assert _header_cells(table) == _header_cells(ttable)
    lines = table.splitlines()
    assert lines[0] == lines[2] == lines[-2] and set(lines[0]) == {"-", " "}
    assert re.fullmatch(r"Self CPU time total: \d+\.\d{3}(us|ms|s)", lines[-1])
    assert len(lines[0]) == len(lines[1]) == len(lines[3])
    assert len(lines[3:-2]) == min(10, len(prof.key_averages(group_by_input_shape=group)))


def test_table_sorting_row_limit_and_percentages():
    prof, _ = _profile(lamina, lprof, 2)
    rows = prof.key_averages()
    table = rows.table(sort_by="self_cpu_time_total", row_limit=3)
    body = table.splitlines()[3:-2]
    assert len(body) == 3
    expected = sorted(rows, key=lambda e: e.self_cpu_time_total, reverse=True)[:3]
    assert [re.split(r"\s{2,}", line.strip())[0] for line in body] == [e.key for e in expected]
    total = rows.self_cpu_time_total
    for line, e in zip(body, expected):
        cells = re.split(r"\s{2,}", line.strip())
        assert cells[1] == f"{100 * e.self_cpu_time_total / total:.2f}%"
        assert cells[-1] == str(e.count)
    by_count = rows.table(sort_by="count").splitlines()[3:-2]
    counts = [int(re.split(r"\s{2,}", line.strip())[-1]) for line in by_count]
    assert counts == sorted(counts, reverse=True)
    with pytest.raises(AttributeError, match="sort_by must be one of"):
        rows.table(sort_by="bogus")
    assert "ms" not in rows.table(time_unit="us").splitlines()[3]
    top = rows.table(top_level_events_only=True)
    assert "top-level" in top and "lamina::linear" not in top and "forward_pass" in top


def test_names_too_long_are_cut_as_torch():
    with lprof.profile() as prof:
        with lprof.record_function("r" * 80):
            lamina.ones(2) + 1
    table = prof.key_averages().table()
    assert ("r" * 52 + "...") in table and "r" * 56 not in table


def test_record_function_decorator_nesting_and_outside_a_profile():
    @lprof.record_function("outer")
    def outer(x, depth):
        with lprof.record_function("inner"):
            x = x * 2
        return outer(x, depth - 1) if depth else x

    assert outer(lamina.ones(2), 1).tolist() == [4.0, 4.0]  # no profiler: nothing recorded, nothing breaks
    with lprof.profile() as prof:
        outer(lamina.ones(2), 2)
    events = prof.events()
    outers = sorted((e for e in events if e.name == "outer"), key=lambda e: e.time_range.start)
    assert len(outers) == 3 and [e.cpu_parent for e in outers[1:]] == outers[:2]
    assert all(c.name == "inner" for o in outers for c in o.cpu_children if c.name != "outer")
    assert all(c.cpu_children[0].name == "lamina::mul" for c in events if c.name == "inner")


def test_export_chrome_trace(tmp_path):
    prof, _ = _profile(lamina, lprof, 1, record_shapes=True)
    for name in ("trace.json", "trace.json.gz"):
        path = tmp_path / name
        prof.export_chrome_trace(str(path))
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt") as f:
            trace = json.load(f)
        events = trace["traceEvents"]
        assert len(events) == len(prof.events())
        assert {e["ph"] for e in events} == {"X"} and all(e["dur"] > 0 for e in events)
        linear = [e for e in events if e["name"] == "lamina::linear"]
        assert len(linear) == 2 and linear[0]["cat"] == "cpu_op" and linear[0]["args"]["Input Dims"] == \
            [[3, 4], [5, 4], [5]]
        assert [e["cat"] for e in events if e["name"] == "forward_pass"] == ["user_annotation"]


def test_tensorboard_trace_handler_writes_one_file_per_trace(tmp_path):
    logdir = tmp_path / "tb"
    x = lamina.ones(3)
    with lprof.profile(schedule=lprof.schedule(wait=1, warmup=1, active=2, repeat=2),
                       on_trace_ready=lprof.tensorboard_trace_handler(str(logdir), worker_name="w0")) as prof:
        for _ in range(10):
            x = x * 1.5
            prof.step()
    files = sorted(os.listdir(logdir))
    assert len(files) == 2 and all(re.fullmatch(r"w0\.\d+\.pt\.trace\.json", f) for f in files)
    for f in files:
        with open(logdir / f) as fh:
            names = [e["name"] for e in json.load(fh)["traceEvents"]]
        assert names.count("lamina::mul") == 2 and len([n for n in names if n.startswith("ProfilerStep#")]) == 2
    handler = lprof.tensorboard_trace_handler(str(tmp_path / "gz"), use_gzip=True)
    with lprof.profile(on_trace_ready=handler):
        lamina.ones(2) + 1
    (gz,) = os.listdir(tmp_path / "gz")
    assert gz.endswith(".pt.trace.json.gz")


def test_with_stack_and_export_stacks(tmp_path):
    with lprof.profile(with_stack=True) as prof:
        lamina.ones(2).exp()
    (exp,) = [e for e in prof.events() if e.name == "lamina::exp"]
    assert any(os.path.basename(__file__) in frame for frame in exp.stack)
    table = prof.key_averages(group_by_stack_n=2).table()
    assert "Source Location" in table and exp.stack[0][:40] in table
    assert os.path.basename(__file__) in exp.stack[1] or os.path.basename(__file__) in exp.stack[0]
    prof.export_stacks(str(tmp_path / "stacks.txt"))
    lines = (tmp_path / "stacks.txt").read_text().splitlines()
    assert any(line.rsplit(" ", 1)[0].endswith(";lamina::exp") for line in lines)


def test_activities_and_arguments():
    with pytest.raises(AssertionError, match="No valid profiler activities"):
        lprof.profile(activities=[])
    with pytest.raises(AssertionError, match="No valid profiler activities"):
        tprof.profile(activities=[])
    with pytest.raises(TypeError, match="ProfilerActivity"):
        lprof.profile(activities=["cpu"])
    with pytest.raises(NotImplementedError, match="ExecutionTraceObserver"):
        lprof.ExecutionTraceObserver()
    with pytest.raises(NotImplementedError, match="with_flops=True"):
        lprof.profile(with_flops=True)
    prof = lprof.profile(activities=[lprof.ProfilerActivity.CPU, {lprof.ProfilerActivity.CUDA: []}],
                         with_modules=True)
    assert prof.activities == {lprof.ProfilerActivity.CPU, lprof.ProfilerActivity.CUDA}
    assert lprof.kineto_available() is False


def test_nested_profilers_both_record():
    with lprof.profile() as outer:
        lamina.ones(2) + 1
        with lprof.profile() as inner:
            lamina.ones(2) * 3
    assert [e.name for e in inner.events()] == ["lamina::mul"]
    assert [e.name for e in outer.events()] == ["lamina::add", "lamina::mul"]
