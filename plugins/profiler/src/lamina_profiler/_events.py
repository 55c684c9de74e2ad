"""What a profile holds: one :class:`FunctionEvent` per op call, backward node or ``record_function`` region
(times in microseconds, as torch's), nested by time into parents and children; :class:`EventList` groups them
by name (and input shapes, or stack) into :class:`FunctionEventAvg` rows, prints torch's table and writes a
Chrome trace."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterable
from typing import Any

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "Interval"]


class Interval:
    """A time range in microseconds since the profile began."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end = start, end

    def elapsed_us(self) -> float:
        return self.end - self.start

    def __repr__(self) -> str:
        return f"Interval(start={self.start:.3f}, end={self.end:.3f})"


class _Totals:
    """The derived times shared by single events and averaged rows."""

    count: int
    cpu_time_total: float
    self_cpu_time_total: float

    @property
    def cpu_time(self) -> float:
        """Average CPU time per call (us)."""
        return self.cpu_time_total / self.count if self.count else 0.0

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / self.count if self.count else 0.0

    # no device timeline is recorded: lamina times what the host spends (see the package docstring)
    device_time_total = self_device_time_total = device_time = 0.0
    device_memory_usage = self_device_memory_usage = 0
    flops = 0
    node_id = -1
    overload_name = ""
    is_async = is_remote = is_legacy = False


class FunctionEvent(_Totals):
    """One call: an op (``lamina::<op>``), a backward node (``autograd::engine::evaluate_function: <Node>``) or a
    ``record_function`` region (``kind`` "user_annotation")."""

    def __init__(self, id: int, name: str, thread: int, start_us: float, end_us: float, kind: str = "cpu_op",
                 input_shapes: list | None = None, stack: list[str] | None = None, cpu_memory_usage: int = 0,
                 sequence_nr: int = -1) -> None:
        self.id, self.name, self.thread, self.kind = id, name, thread, kind
        self.time_range = Interval(start_us, end_us)
        self.input_shapes = input_shapes if input_shapes is not None else []
        self.stack = stack if stack is not None else []
        self.cpu_memory_usage = cpu_memory_usage
        self.sequence_nr = sequence_nr
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] = []
        self.count = 1
        self.trace_name = name
        self.device_type = "CPU"
        self.is_user_annotation = kind == "user_annotation"

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_time_total(self) -> float:
        return self.time_range.elapsed_us()

    @property
    def self_cpu_time_total(self) -> float:
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def self_cpu_memory_usage(self) -> int:
        return self.cpu_memory_usage - sum(c.cpu_memory_usage for c in self.cpu_children)

    def __repr__(self) -> str:
        return (f"<FunctionEvent id={self.id} name={self.name} cpu_time={self.cpu_time_total:.3f}us "
                f"start_us={self.time_range.start:.3f} end_us={self.time_range.end:.3f} "
                f"cpu_children={[c.id for c in self.cpu_children]} thread={self.thread} "
                f"input_shapes={self.input_shapes} cpu_memory_usage={self.cpu_memory_usage}>")


class FunctionEventAvg(_Totals):
    """The calls of one name (and, when grouped so, one input-shape list or stack), added up."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.count = 0
        self.cpu_time_total = self.self_cpu_time_total = 0.0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.input_shapes: list | None = None
        self.stack: list[str] | None = None
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] | None = None
        self.is_user_annotation = False

    def add(self, other: FunctionEvent | FunctionEventAvg) -> FunctionEventAvg:
        if self.key is None:  # the first event fixes what the row stands for
            self.key, self.input_shapes, self.stack = other.key, other.input_shapes, other.stack
            self.cpu_parent, self.cpu_children = other.cpu_parent, other.cpu_children
            self.is_user_annotation = other.is_user_annotation
        elif other.key != self.key:
            raise AssertionError(f"FunctionEventAvg.add: expected an event named {self.key!r}, got {other.key!r}")
        self.count += other.count
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.cpu_memory_usage += other.cpu_memory_usage
        self.self_cpu_memory_usage += other.self_cpu_memory_usage
        return self

    __iadd__ = add

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total:.3f}us "
                f"cpu_time={self.cpu_time:.3f}us input_shapes={self.input_shapes} "
                f"cpu_memory_usage={self.cpu_memory_usage}>")


class EventList(list):
    """A list of events (or averaged rows) with torch's ``table``, ``key_averages``, ``total_average`` and
    ``export_chrome_trace``."""

    def __init__(self, events: Iterable[Any] = (), profile_memory: bool = False, with_stack: bool = False) -> None:
        super().__init__(events)
        self._profile_memory, self._with_stack = profile_memory, with_stack

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        """One row per name (per name and input shapes, or name and the ``group_by_stack_n`` innermost frames),
        in order of first appearance."""
        rows: dict[tuple, FunctionEventAvg] = {}
        for e in self:
            key = (e.key, str(e.input_shapes) if group_by_input_shape else "",
                   tuple(e.stack[:group_by_stack_n]) if group_by_stack_n > 0 else ())
            rows.setdefault(key, FunctionEventAvg()).add(e)
        if group_by_stack_n > 0:
            for row in rows.values():
                row.stack = row.stack[:group_by_stack_n]
        else:
            for row in rows.values():
                row.stack = []
        return EventList(rows.values(), self._profile_memory, self._with_stack)

    def total_average(self) -> FunctionEventAvg:
        """All events added up, under the key ``"Total"``."""
        total = FunctionEventAvg()
        for e in self:
            total.count += e.count
            total.cpu_time_total += e.cpu_time_total
            total.self_cpu_time_total += e.self_cpu_time_total
            total.cpu_memory_usage += e.cpu_memory_usage
            total.self_cpu_memory_usage += e.self_cpu_memory_usage
        total.key = "Total"
        return total

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_src_column_width: int = 75,
              max_name_column_width: int = 55, max_shapes_column_width: int = 80, header: str | None = None,
              top_level_events_only: bool = False, time_unit: str | None = None) -> str:
        """torch's table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, (CPU Mem, Self CPU
        Mem when memory was profiled), # of Calls, (Input Shapes, Source Location when recorded)."""
        from ._table import build_table

        return build_table(self, sort_by=sort_by, header=header, row_limit=row_limit,
                           max_src_column_width=max_src_column_width, max_name_column_width=max_name_column_width,
                           max_shapes_column_width=max_shapes_column_width, profile_memory=self._profile_memory,
                           top_level_events_only=top_level_events_only, time_unit=time_unit)

    def __str__(self) -> str:
        return self.table()

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the events as a Chrome trace (``chrome://tracing``, Perfetto): one complete ("X") event per
        call; a path ending in ``.gz`` is gzip-compressed."""
        pid = os.getpid()
        trace_events = []
        for e in self:
            if not isinstance(e, FunctionEvent):
                raise TypeError("export_chrome_trace: expected the profile's events, got averaged rows "
                                "(call it on prof.events() or the profiler itself, not on key_averages())")
            args: dict[str, Any] = {"External id": e.id}
            if e.input_shapes:
                args["Input Dims"] = e.input_shapes
            if e.sequence_nr >= 0:
                args["Sequence number"] = e.sequence_nr
            if e.stack:
                args["Call stack"] = ";".join(e.stack)
            trace_events.append({"ph": "X", "cat": e.kind, "name": e.trace_name, "pid": pid, "tid": e.thread,
                                 "ts": round(e.time_range.start, 3), "dur": round(e.cpu_time_total, 3),
                                 "args": args})
        text = json.dumps({"schemaVersion": 1, "displayTimeUnit": "ms", "traceName": os.fspath(path),
                           "traceEvents": trace_events}, indent=1)
        opener = gzip.open if os.fspath(path).endswith(".gz") else open
        with opener(path, "wt", encoding="utf-8") as f:
            f.write(text)


def nest(events: list[FunctionEvent]) -> None:
    """Give each event its ``cpu_parent`` and ``cpu_children``: per thread, the innermost event whose time
    range contains it."""
    by_thread: dict[int, list[FunctionEvent]] = {}
    for e in events:
        by_thread.setdefault(e.thread, []).append(e)
    for thread_events in by_thread.values():
        thread_events.sort(key=lambda e: (e.time_range.start, -e.time_range.end, e.id))
        open_events: list[FunctionEvent] = []
        for e in thread_events:
            while open_events and open_events[-1].time_range.end < e.time_range.end:
                open_events.pop()
            if open_events:
                e.cpu_parent = open_events[-1]
                open_events[-1].cpu_children.append(e)
            open_events.append(e)
