"""The worker processes of one multi-process DataLoader iterator: start method, start, stop.

Stopping is graceful (each worker is asked to exit, and given ``_JOIN_S`` seconds) at the end of an
epoch and on ``del``; after an error or Ctrl-C the workers are terminated at once. Either way every
worker is joined (no zombie, no orphan) and its unreceived shared memory is removed.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
import warnings
from typing import TYPE_CHECKING, Any

from . import _shm
from ._worker import _worker_loop, _WorkerSpec

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext

__all__ = ["Pool", "exit_reason", "resolve_context", "warn_if_too_many_workers"]

_JOIN_S = 2.0  # how long a clean shutdown waits for the workers before terminating them


def resolve_context(context: Any) -> BaseContext | None:
    """The multiprocessing context named by ``context`` (a start method name or a context object)."""
    if context is None:
        return None
    if isinstance(context, str):
        methods = mp.get_all_start_methods()
        if context not in methods:
            raise ValueError(f"multiprocessing_context option should specify a valid start method in {methods!r}, "
                             f"but got multiprocessing_context={context!r}")
        return mp.get_context(context)
    if not isinstance(context, mp.context.BaseContext):
        raise TypeError(f"multiprocessing_context option should be a valid context object or a string specifying "
                        f"the start method, but got multiprocessing_context={context}")
    return context


def warn_if_too_many_workers(num_workers: int) -> None:
    """Warn, as PyTorch does, when more workers are asked for than this process may run on CPUs."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cpus is None or num_workers > cpus:
        suggestion = f"The suggested maximum here is {cpus} (the CPUs this process may use)" if cpus else \
            "The number of CPUs is unknown"
        warnings.warn(f"This DataLoader will create {num_workers} worker processes in total. {suggestion}; more "
                      f"workers than CPUs can make loading slower or freeze it.", UserWarning, stacklevel=3)


def exit_reason(process: Any) -> str:
    """How a worker process ended: ``killed by signal SIGKILL`` or ``exit code 1``."""
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Pool:
    """The worker processes of one iterator, their queues and pipes, and how to stop them.

    Kept apart from the iterator so that ``weakref.finalize`` can stop the workers when the
    iterator is collected (even in a reference cycle, where the pipes would otherwise be finalized
    first) and at interpreter exit.
    """

    def __init__(self, shm_prefix: str) -> None:
        self.shm_prefix = shm_prefix
        self.workers: list[Any] = []
        self.index_queues: list[Any] = []
        self.result_conns: list[Any] = []
        self.segments: list[_shm.MainSegments] = []  # each worker's shared memory, on this side
        self.closed = False

    def start(self, context: Any, spec: _WorkerSpec) -> None:
        """Start ``spec.num_workers`` workers, each with an index queue and a result pipe."""
        for worker_id in range(spec.num_workers):
            index_queue = context.Queue()
            reader, writer = context.Pipe(duplex=False)
            process = context.Process(target=_worker_loop, args=(spec, worker_id, index_queue, writer), daemon=True)
            process.start()
            writer.close()  # the worker holds the only write end: EOF here when it dies
            self.workers.append(process)
            self.index_queues.append(index_queue)
            self.result_conns.append(reader)
            self.segments.append(_shm.MainSegments())

    def shutdown(self, graceful: bool) -> None:
        """Stop the workers: ask them to exit (``graceful``: wait a moment), then terminate the rest."""
        if self.closed:
            return
        self.closed = True
        for q in self.index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        if graceful:
            deadline = time.monotonic() + _JOIN_S
            for p in self.workers:
                p.join(timeout=max(0.0, deadline - time.monotonic()))
        for p in self.workers:
            if p.is_alive():
                p.terminate()
        for p in self.workers:
            p.join(timeout=_JOIN_S)
            if p.is_alive():
                p.kill()
                p.join()
        for q in self.index_queues:
            q.cancel_join_thread()
            q.close()
        for conn in self.result_conns:
            conn.close()
        for segments in self.segments:
            segments.close()
        _shm.remove_prefix(self.shm_prefix)
