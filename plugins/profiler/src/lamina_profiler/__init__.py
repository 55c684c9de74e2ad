"""lamina-profiler: ``lamina.profiler``, torch.profiler's API with real host-side (CPU) times of lamina's ops.

A faithful pass-through of torch.profiler's interface: ``profile(activities=..., schedule=..., on_trace_ready=...,
record_shapes=..., profile_memory=..., with_stack=...)``, ``schedule`` with torch's step semantics and
``prof.step()``, ``record_function`` (context manager and decorator), ``tensorboard_trace_handler`` (Chrome trace
JSON files), ``prof.events()``, ``prof.key_averages(group_by_input_shape=...)`` and its ``table(sort_by=...,
row_limit=...)`` in torch's layout ("Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
"# of Calls"), and ``export_chrome_trace``.

What differs, and why:

* Rows are lamina's ops, named ``lamina::<op>`` (``lamina::linear``, ``lamina::relu``, ``lamina::sum``) and
  ``autograd::engine::evaluate_function: <Node>`` for backward nodes, not torch's ``aten::`` operators.
* Times are measured on lamina's public hooks (see :mod:`lamina_profiler._recorder`): the core tells observers
  when an op has returned but not when it begins, so an op's time runs from the previous event or module entry to
  its return (an upper bound that includes the Python glue before the op); backward nodes and ``record_function``
  regions are timed exactly.
* ``profile_memory`` counts the bytes of each op's outputs (lamina has no allocator events): "CPU Mem" is what an
  op returned, "Self CPU Mem" what a region's own ops did not account for.
* Device (CUDA) activity is the host side only: kernels run asynchronously and are not timed on the device.
  ``with_modules`` adds nothing (as in torch for eager models); ``with_flops=True`` raises NotImplementedError.
"""

from ._events import EventList, FunctionEvent, FunctionEventAvg
from ._recorder import record_function
from .profiler import (
    DeviceType,
    ExecutionTraceObserver,
    ProfilerAction,
    ProfilerActivity,
    kineto_available,
    profile,
    schedule,
    supported_activities,
    tensorboard_trace_handler,
)

__lamina_plugin_api__ = "1.0"

__all__ = ["profile", "schedule", "supported_activities", "tensorboard_trace_handler", "ProfilerAction",
           "ProfilerActivity", "kineto_available", "DeviceType", "record_function", "ExecutionTraceObserver",
           "EventList", "FunctionEvent", "FunctionEventAvg"]
