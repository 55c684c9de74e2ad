"""The recording itself, on lamina's public hooks only.

* Ops: ``lamina.autograd.observe_ops`` calls an observer after each top-level op returns; the core has no
  before-op hook, so an op's time range runs from the previous *mark* to that notification. Marks are set
  after every recorded event (once the recorder's own bookkeeping is done, so that it is not charged to the
  next op), at each module's forward (``register_module_forward_pre_hook``), at ``record_function`` entry and
  exit and around each backward node. An op's time therefore includes the Python work between the previous
  mark and the op (argument checks in ``F.linear``, the dispatch), as torch's ``aten::linear`` includes its
  dispatch; ops a forward runs inside another op are part of that op's time, never rows of their own.
* Backward: for each recorded op whose output requires grad, a hook on the output (it runs just before the
  node's backward) and one on the node (just after it) time the node exactly, as the row
  ``autograd::engine::evaluate_function: <Node>``; ops run inside a backward (``create_graph=True``) nest
  under it. Hooks are removed when recording stops.
* ``record_function(name)`` regions time exactly from entry to exit; events nest by time.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import traceback
from collections.abc import Callable
from time import perf_counter_ns
from typing import Any

import lamina
from lamina.autograd import observe_ops

from ._events import FunctionEvent, nest

__all__ = ["Recorder", "record_function"]

_active: list[Recorder] = []  # recorders now recording (nested profilers each record)
_HERE = os.path.dirname(os.path.abspath(__file__))
_OBSERVER_FILE = getattr(sys.modules.get(observe_ops.__module__), "__file__", None)  # the core's Function.apply


def op_name(op: Any) -> str:
    """``lamina::<op>``: the Function class's (or non-differentiable op function's) name, lower-cased."""
    return "lamina::" + getattr(op, "__name__", type(op).__name__).strip("_").lower()


def _shape(a: Any) -> list:
    return list(a.shape) if lamina.is_tensor(a) else []


def _outputs(result: Any) -> tuple:
    if lamina.is_tensor(result):
        return (result,)
    if isinstance(result, (tuple, list)):
        return tuple(r for r in result if lamina.is_tensor(r))
    return ()


class Recorder:
    """Collects the events of one recording window (``start`` ... ``stop``)."""

    def __init__(self, t0_ns: int, record_shapes: bool, profile_memory: bool, with_stack: bool,
                 first_id: int = 0) -> None:
        self.t0_ns = t0_ns
        self.record_shapes, self.profile_memory, self.with_stack = record_shapes, profile_memory, with_stack
        self.events: list[FunctionEvent] = []
        self._next_id = first_id
        self._marks: dict[int, int] = {}  # thread -> ns of the last mark
        self._open_nodes: dict[int, int] = {}  # id(node) -> ns its backward began
        self._hooked: set[int] = set()
        self._handles: list[Any] = []
        self._observing: Any = None
        self._module_hook: Any = None

    # --- window -------------------------------------------------------------------------------------
    def start(self) -> None:
        self._observing = observe_ops(self._on_op)
        self._observing.__enter__()
        from lamina.nn.module import register_module_forward_pre_hook

        self._module_hook = register_module_forward_pre_hook(self._on_module)
        _active.append(self)
        self.mark()

    def stop(self) -> list[FunctionEvent]:
        if self in _active:
            _active.remove(self)
        if self._observing is not None:
            self._observing.__exit__(None, None, None)
            self._observing = None
        if self._module_hook is not None:
            self._module_hook.remove()
            self._module_hook = None
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        nest(self.events)
        return self.events

    # --- time ---------------------------------------------------------------------------------------
    def mark(self) -> int:
        now = perf_counter_ns()
        self._marks[threading.get_ident()] = now
        return now

    def _us(self, ns: int) -> float:
        return (ns - self.t0_ns) / 1000.0

    def _add(self, name: str, start_ns: int, end_ns: int, kind: str = "cpu_op", input_shapes: list | None = None,
             memory: int = 0, sequence_nr: int = -1) -> FunctionEvent:
        event = FunctionEvent(self._next_id, name, threading.get_ident(), self._us(start_ns), self._us(end_ns), kind,
                              input_shapes, self._stack() if self.with_stack else None, memory, sequence_nr)
        self._next_id += 1
        self.events.append(event)
        return event

    def _stack(self) -> list[str]:
        """The Python frames of the call, innermost first, without the profiler's own."""
        frames = traceback.extract_stack()
        return [f"{f.filename}({f.lineno}): {f.name}" for f in reversed(frames)
                if not f.filename.startswith(_HERE) and f.filename != _OBSERVER_FILE]

    # --- hooks --------------------------------------------------------------------------------------
    def _on_module(self, module: Any, args: Any) -> None:
        self.mark()

    def _on_op(self, op: Any, args: tuple, kwargs: dict, result: Any) -> None:
        end = perf_counter_ns()
        start = self._marks.get(threading.get_ident(), end)
        outputs = _outputs(result)
        memory = sum(int(o.nbytes) for o in outputs) if self.profile_memory else 0
        shapes = [_shape(a) for a in args] if self.record_shapes else None
        event = self._add(op_name(op), start, end, input_shapes=shapes, memory=memory)
        for o in outputs:
            node = o.grad_fn
            if node is not None and id(node) not in self._hooked:
                self._time_backward(node, outputs, event.id)
                break
        self.mark()

    def _time_backward(self, node: Any, outputs: tuple, forward_id: int) -> None:
        self._hooked.add(id(node))
        key = id(node)

        def before(grad: Any) -> None:
            if key not in self._open_nodes:
                self._open_nodes[key] = self.mark()

        def after(grad_inputs: Any, grad_outputs: Any) -> None:
            end = perf_counter_ns()
            start = self._open_nodes.pop(key, None)
            if start is not None:
                memory = sum(int(g.nbytes) for g in grad_inputs if g is not None) if self.profile_memory else 0
                self._add(f"autograd::engine::evaluate_function: {node.name()}", start, end, memory=memory,
                          sequence_nr=forward_id)
            self.mark()

        for o in outputs:
            if o.grad_fn is node:
                self._handles.append(o.register_hook(before))
        self._handles.append(node.register_hook(after))

    # --- record_function ----------------------------------------------------------------------------
    def region(self, name: str, start_ns: int, end_ns: int) -> None:
        # as torch's: step regions share one row name ("ProfilerStep*"); the trace keeps "ProfilerStep#<n>"
        step = name.startswith("ProfilerStep#")
        event = self._add("ProfilerStep*" if step else name, start_ns, end_ns, kind="user_annotation")
        event.trace_name = name
        self.mark()


class record_function:  # noqa: N801 - torch's name
    """Time a region under every active profiler, as a row named ``name``: a context manager, and a decorator
    (each call of the decorated function is one region). Outside a profiler it does nothing."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name, self.args = name, args
        self._started: list[tuple[Recorder, int]] = []

    def __enter__(self) -> record_function:
        self._started = [(r, r.mark()) for r in _active]
        return self

    def __exit__(self, *exc: Any) -> None:
        end = perf_counter_ns()
        for recorder, start in self._started:
            if recorder in _active:  # a recorder stopped meanwhile keeps no half-open region
                recorder.region(self.name, start, end)
        self._started = []

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return timed
