"""torch's profiler table layout: right-aligned columns two spaces apart, dashed rules, times as
``12.345us`` / ``1.234ms`` / ``1.234s``, memory as ``B`` / ``Kb`` / ``Mb`` / ``Gb``, and a closing
``Self CPU time total:`` line."""

from __future__ import annotations

from typing import Any

__all__ = ["build_table", "format_memory", "format_time"]

_SORT_KEYS = ("cpu_time", "cuda_time", "xpu_time", "device_time", "cpu_time_total", "cuda_time_total",
              "xpu_time_total", "device_time_total", "cpu_memory_usage", "cuda_memory_usage",
              "device_memory_usage", "self_cpu_memory_usage", "self_cuda_memory_usage",
              "self_device_memory_usage", "count", "self_cpu_time_total", "self_cuda_time_total",
              "self_device_time_total")
_COLUMN = 12
_SPACING = 2


def format_time(us: float, unit: str | None = None) -> str:
    """Microseconds as torch prints them; ``unit`` ("s", "ms", "us") forces one unit."""
    if unit not in (None, "s", "ms", "us"):
        raise ValueError(f"time_unit must be one of 's', 'ms', 'us' or None, got {unit!r}")
    if unit == "s" or (unit is None and us >= 1e6):
        return f"{us / 1e6:.3f}s"
    if unit == "ms" or (unit is None and us >= 1e3):
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


def format_memory(nbytes: int) -> str:
    kb, mb, gb = 1024, 1024 ** 2, 1024 ** 3
    if abs(nbytes) >= gb:
        return f"{nbytes / gb:.2f} Gb"
    if abs(nbytes) >= mb:
        return f"{nbytes / mb:.2f} Mb"
    if abs(nbytes) >= kb:
        return f"{nbytes / kb:.2f} Kb"
    return f"{nbytes} B"


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.2f}%" if whole > 0 else "0.00%"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def build_table(events: Any, sort_by: str | None = None, header: str | None = None, row_limit: int = 100,
                max_src_column_width: int = 75, max_name_column_width: int = 55, max_shapes_column_width: int = 80,
                profile_memory: bool = False, top_level_events_only: bool = False,
                time_unit: str | None = None) -> str:
    if len(events) == 0:
        return ""
    if sort_by is not None:
        if sort_by not in _SORT_KEYS:
            raise AttributeError(f"sort_by must be one of {list(_SORT_KEYS)}, got {sort_by!r}")  # torch's type
        attr = sort_by.replace("cuda", "device").replace("xpu", "device")
        events = sorted(events, key=lambda e: getattr(e, attr), reverse=True)
    rows = [e for e in events if not top_level_events_only or e.cpu_parent is None]
    has_shapes = any(e.input_shapes for e in events)
    stacks = [e.stack for e in events if e.stack]
    name_width = min(max(len(e.key) for e in events) + 4, max_name_column_width)
    columns: list[tuple[str, int]] = [("Name", name_width)]
    columns += [(h, _COLUMN) for h in ("Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg")]
    if profile_memory:
        columns += [("CPU Mem", _COLUMN), ("Self CPU Mem", _COLUMN)]
    columns.append(("# of Calls", _COLUMN))
    if has_shapes:
        columns.append(("Input Shapes", min(max(len(str(e.input_shapes)) for e in events) + 4,
                                            max_shapes_column_width)))
    if stacks:
        columns.append(("Source Location", min(max(len(f) for s in stacks for f in s) + 4, max_src_column_width)))

    def line(cells: list[str]) -> str:
        return "".join(f"{_fit(c, w):>{w}}" + " " * _SPACING for c, (_, w) in zip(cells, columns))

    rule = "".join("-" * w + " " * _SPACING for _, w in columns)
    total_self = sum(e.self_cpu_time_total for e in events)  # every row's, shown or not (as torch)
    out = []
    if header is not None:
        out += ["=" * len(rule), header]
    if top_level_events_only:
        out += ["=" * len(rule), "This report only display top-level ops statistics"]
    out += [rule, line([h for h, _ in columns]), rule]
    for k, e in enumerate(rows):
        if row_limit is not None and row_limit > 0 and k == row_limit:
            break
        cells = [e.key, _percent(e.self_cpu_time_total, total_self), format_time(e.self_cpu_time_total, time_unit),
                 _percent(e.cpu_time_total, total_self), format_time(e.cpu_time_total, time_unit),
                 format_time(e.cpu_time, time_unit)]
        if profile_memory:
            cells += [format_memory(e.cpu_memory_usage), format_memory(e.self_cpu_memory_usage)]
        cells.append(str(e.count))
        if has_shapes:
            cells.append(str(e.input_shapes))
        if stacks:
            cells.append(e.stack[0] if e.stack else "")
        out.append(line(cells))
        for frame in e.stack[1:] if stacks else ():
            out.append(line([""] * (len(columns) - 1) + [frame]))
    out += [rule, f"Self CPU time total: {format_time(total_self, time_unit)}", ""]
    return "\n".join(out)
