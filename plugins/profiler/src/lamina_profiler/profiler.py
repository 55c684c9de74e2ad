"""``profile``: torch.profiler's context manager, with torch's ``schedule`` step semantics.

Each ``prof.step()`` asks the schedule for the next step's action (NONE, WARMUP, RECORD, RECORD_AND_SAVE)
and moves between them as torch does: ops are recorded only in RECORD and RECORD_AND_SAVE steps; the end of
a RECORD_AND_SAVE step (or of the profile, while recording) closes the trace and calls ``on_trace_ready(prof)``,
after which ``prof.events()`` / ``prof.key_averages()`` hold that trace. With a schedule, each step is a
``ProfilerStep#<n>`` region, as in torch.
"""

from __future__ import annotations

import enum
import os
import socket
import time
import warnings
from collections.abc import Callable, Iterable
from functools import partial
from time import perf_counter_ns
from typing import Any

from ._events import EventList
from ._recorder import Recorder, record_function

__all__ = ["DeviceType", "ExecutionTraceObserver", "ProfilerAction", "ProfilerActivity", "kineto_available",
           "profile", "schedule", "supported_activities", "tensorboard_trace_handler"]


class ProfilerActivity(enum.Enum):
    """Activity groups, by torch's names and values. lamina records the host side (CPU) of every device."""

    CPU = 0
    XPU = 1
    CUDA = 2
    HPU = 3
    MTIA = 4
    PrivateUse1 = 5


class ProfilerAction(enum.Enum):
    """What the profiler does in a step (a schedule's answer)."""

    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3
    DEVICE_STOPPED = 4  # torch's, set internally when device collection stops: never returned by a schedule


DeviceType = enum.Enum("DeviceType", [(n, i) for i, n in enumerate(
    ("CPU", "CUDA", "MKLDNN", "OPENGL", "OPENCL", "IDEEP", "HIP", "FPGA", "MAIA", "XLA", "Vulkan", "Metal", "XPU",
     "MPS", "MTIA", "Meta", "HPU", "VE", "Lazy", "IPU", "PrivateUse1"))])


def supported_activities() -> set[ProfilerActivity]:
    """CPU, and CUDA where lamina has a CUDA device."""
    import lamina

    out = {ProfilerActivity.CPU}
    if lamina.cuda.is_available():
        out.add(ProfilerActivity.CUDA)
    return out


def kineto_available() -> bool:
    """False: lamina's profiler is its own, not torch's Kineto library."""
    return False


class ExecutionTraceObserver:
    """torch's execution-graph observer: not available (lamina records no execution graph)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("lamina.profiler.ExecutionTraceObserver (torch.profiler.ExecutionTraceObserver): "
                                  "lamina records op times, not an execution graph; use prof.export_chrome_trace")


def schedule(*, wait: int, warmup: int, active: int, repeat: int = 0, skip_first: int = 0,
             skip_first_wait: int = 0) -> Callable[[int], ProfilerAction]:
    """torch's schedule: skip ``skip_first`` steps, then cycles of ``wait`` idle, ``warmup`` warming and ``active``
    recorded steps (the last one RECORD_AND_SAVE), ``repeat`` times (0: until the profile ends); with
    ``skip_first_wait``, the first cycle has no wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
                             f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                             f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def schedule_fn(step: int) -> ProfilerAction:
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait:
            step += wait  # the first cycle starts at its warmup
        if repeat > 0 and step >= repeat * cycle:
            return ProfilerAction.NONE
        phase = step % cycle
        if phase < wait:
            return ProfilerAction.NONE
        if phase < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if phase < cycle - 1 else ProfilerAction.RECORD_AND_SAVE

    return schedule_fn


def tensorboard_trace_handler(dir_name: str, worker_name: str | None = None, use_gzip: bool = False,
                              use_python_export: bool = False) -> Callable[[Any], None]:
    """An ``on_trace_ready`` that writes each trace to ``dir_name/<worker>.<time_ns>.pt.trace.json[.gz]``
    (``worker_name`` defaults to ``<hostname>_<pid>``), the files TensorBoard's profiler plugin reads."""

    def handler_fn(prof: Any) -> None:
        nonlocal worker_name
        try:
            os.makedirs(dir_name, exist_ok=True)
        except OSError as e:
            raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json" + (".gz" if use_gzip else "")
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler_fn


def _always_record(step: int) -> ProfilerAction:
    return ProfilerAction.RECORD


_A = ProfilerAction


class profile:  # noqa: N801 - torch's name
    """Record op, backward and ``record_function`` times on the host while active (see the package docstring).

    ``with_modules`` changes nothing, as in torch for eager (non-TorchScript) models; ``experimental_config``,
    ``custom_trace_id_callback`` and ``post_processing_timeout_s`` tune torch's Kineto backend, which lamina
    does not have, and change nothing. ``with_flops=True`` raises: lamina does not estimate FLOPs."""

    def __init__(self, *, activities: Iterable[Any] | None = None,
                 schedule: Callable[[int], ProfilerAction] | None = None,
                 on_trace_ready: Callable[..., Any] | None = None, record_shapes: bool = False,
                 profile_memory: bool = False, with_stack: bool = False, with_flops: bool = False,
                 with_modules: bool = False, experimental_config: Any = None, execution_trace_observer: Any = None,
                 acc_events: bool = False, use_cuda: bool | None = None,
                 custom_trace_id_callback: Callable[[], str] | None = None,
                 post_processing_timeout_s: float | None = None) -> None:
        if with_flops:
            raise NotImplementedError("lamina.profiler.profile(with_flops=True): lamina-profiler does not estimate "
                                      "FLOPs (torch.profiler's with_flops); profile without it")
        chosen = set()
        for a in supported_activities() if activities is None else activities:
            for group in (a if isinstance(a, dict) else {a: None}):
                if not isinstance(group, ProfilerActivity):
                    raise TypeError(f"activities must be ProfilerActivity values, got {group!r}")
                chosen.add(group)
        if use_cuda is not None:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use "
                          "``use_device = 'cuda'`` instead.", FutureWarning, stacklevel=2)
            if use_cuda:
                chosen.add(ProfilerActivity.CUDA)
        if not chosen:
            raise AssertionError("No valid profiler activities found")
        if execution_trace_observer is not None:
            ExecutionTraceObserver()
        self.activities = chosen
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.with_flops, self.with_modules, self.acc_events = with_flops, with_modules, acc_events
        self.schedule = schedule if schedule else _always_record
        self.record_steps = bool(schedule)
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.step_rec_fn: record_function | None = None
        self.current_action = self.schedule(self.step_num)
        if self.current_action == _A.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler and must not be "
                             "returned by a user-provided schedule")
        self._t0_ns = perf_counter_ns()
        self._recorder: Recorder | None = None
        self._events: EventList | None = None
        self._next_id = 0
        warn = partial(warnings.warn, stacklevel=4)
        self._actions = {  # (previous, current) -> what happens, as torch's profiler does
            (_A.NONE, _A.WARMUP): [self.prepare_trace],
            (_A.NONE, _A.RECORD): [self.prepare_trace, self.start_trace],
            (_A.NONE, _A.RECORD_AND_SAVE): [self.prepare_trace, self.start_trace],
            (_A.WARMUP, _A.NONE): [partial(warn, "Incorrect schedule: WARMUP followed by NONE"), self.start_trace,
                                   self.stop_trace],
            (_A.WARMUP, _A.RECORD): [self.start_trace],
            (_A.WARMUP, _A.RECORD_AND_SAVE): [self.start_trace],
            (_A.RECORD, _A.NONE): [partial(warn, "Incorrect schedule: RECORD followed by NONE"), self.stop_trace],
            (_A.RECORD, _A.WARMUP): [partial(warn, "Incorrect schedule: RECORD followed by WARMUP"), self.stop_trace],
            (_A.RECORD_AND_SAVE, _A.NONE): [self.stop_trace, self._trace_ready],
            (_A.RECORD_AND_SAVE, _A.WARMUP): [self.stop_trace, self._trace_ready, self.prepare_trace],
            (_A.RECORD_AND_SAVE, _A.RECORD): [self.stop_trace, self._trace_ready, self.prepare_trace,
                                              self.start_trace],
            (_A.RECORD_AND_SAVE, _A.RECORD_AND_SAVE): [self.stop_trace, self._trace_ready, self.prepare_trace,
                                                       self.start_trace],
            (_A.WARMUP, None): [self.start_trace, self.stop_trace],
            (_A.RECORD, None): [self.stop_trace, self._trace_ready],
            (_A.RECORD_AND_SAVE, None): [self.stop_trace, self._trace_ready],
        }

    # --- the state machine ----------------------------------------------------------------------------
    def __enter__(self) -> profile:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> None:
        self._transit(_A.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def stop(self) -> None:
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit(self.current_action, None)

    def step(self) -> None:
        """The next step begins: move to the schedule's action for it."""
        if self.step_rec_fn is not None:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        action = self.schedule(self.step_num + 1)
        if action == _A.DEVICE_STOPPED:
            raise ValueError("ProfilerAction.DEVICE_STOPPED is set internally by the profiler and must not be "
                             "returned by a user-provided schedule")
        previous, self.current_action = self.current_action, action
        self.step_num += 1
        self._transit(previous, action)
        if self.record_steps:
            self.step_rec_fn = record_function(f"ProfilerStep#{self.step_num}")
            self.step_rec_fn.__enter__()

    def _transit(self, previous: ProfilerAction, current: ProfilerAction | None) -> None:
        for action in self._actions.get((previous, current), ()):
            action()

    def prepare_trace(self) -> None:
        """Begin a cycle (its warmup): nothing is recorded yet."""
        self._recorder = Recorder(self._t0_ns, self.record_shapes, self.profile_memory, self.with_stack,
                                  self._next_id)

    def start_trace(self) -> None:
        if self._recorder is None:
            self.prepare_trace()
        self._recorder.start()

    def stop_trace(self) -> None:
        if self._recorder is None:
            return
        events = self._recorder.stop()
        self._next_id = self._recorder._next_id
        self._recorder = None
        if self.acc_events and self._events is not None:
            events = list(self._events) + events
        self._events = EventList(events, self.profile_memory, self.with_stack)

    def _trace_ready(self) -> None:
        if self.on_trace_ready:
            self.on_trace_ready(self)

    # --- results --------------------------------------------------------------------------------------
    def events(self) -> EventList:
        """The events of the last finished trace (all traces with ``acc_events=True``)."""
        if self._events is None:
            raise AssertionError("lamina.profiler: no trace has finished yet (the schedule has not recorded a "
                                 "step, or the profile is still recording)")
        return self._events

    def key_averages(self, group_by_input_shape: bool = False, group_by_stack_n: int = 0,
                     group_by_overload_name: bool = False) -> EventList:
        return self.events().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path: str) -> None:
        self.events().export_chrome_trace(path)

    def export_stacks(self, path: str, metric: str = "self_cpu_time_total") -> None:
        """One ``frame;frame;... <microseconds>`` line per event with a recorded stack (outermost frame first),
        the input of flame-graph tools; needs ``with_stack=True``."""
        if metric not in ("self_cpu_time_total", "self_cuda_time_total", "self_device_time_total"):
            raise ValueError(f"metric must be 'self_cpu_time_total' or 'self_device_time_total', got {metric!r}")
        with open(path, "w", encoding="utf-8") as f:
            for e in self.events():
                if e.stack:
                    value = e.self_cpu_time_total if metric == "self_cpu_time_total" else 0.0
                    f.write(";".join(reversed(e.stack)) + f";{e.name} {int(value)}\n")
