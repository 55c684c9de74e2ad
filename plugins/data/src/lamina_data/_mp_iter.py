"""One pass over a DataLoader with ``num_workers > 0``: worker processes, dispatch, reordering, faults.

Tasks (the index sampler's items) are numbered and sent round-robin to the workers' index queues,
at most ``prefetch_factor`` outstanding per worker; results come back on one pipe per worker and
are yielded in task order (``in_order=True``) or as they arrive. The main process waits on the
result pipes and the workers' process sentinels together, so a worker that dies wakes it at once:
it never hangs on a dead worker. Any error, the end of the epoch (unless ``persistent_workers``),
``del``, garbage collection and interpreter exit stop the workers and remove their leftover shared
memory (``_pool``, ``_shm``).
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import weakref
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any, NoReturn

from lamina import randint

from . import _shm
from ._pool import _JOIN_S, Pool, exit_reason, resolve_context
from ._worker import _RESUME, _WorkerError, _WorkerSpec

if TYPE_CHECKING:
    from .dataloader import DataLoader

__all__: list[str] = []


class _MultiProcessIter:
    """Iterates a DataLoader's batches, loaded by ``loader.num_workers`` worker processes."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._n = loader.num_workers
        self._prefetch = loader.prefetch_factor if loader.prefetch_factor is not None else 2
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._pool = Pool(_shm.new_prefix())
        self._workers = self._pool.workers
        self._index_queues = self._pool.index_queues
        self._result_conns = self._pool.result_conns
        self._finalizer = weakref.finalize(self, self._pool.shutdown, True)
        self._new_epoch()
        # Drawn after the sampler's first step, which makes the built-in samplers' draws for the
        # epoch, so a seeded generator gives the same order as num_workers=0.
        base_seed = int(randint(0, 2**63 - 1, (), generator=loader.generator, device="cpu").item())
        ctx = resolve_context(loader.multiprocessing_context) or mp.get_context()
        spec = _WorkerSpec(loader.dataset, loader._auto_collation, loader.collate_fn, loader.drop_last,
                           loader.worker_init_fn, self._n, base_seed, self._pool.shm_prefix, os.getpid())
        try:
            self._pool.start(ctx, spec)
            self._prime()
        except BaseException:
            self._shutdown(graceful=False)
            raise

    # --- epochs ----------------------------------------------------------------------------------
    def _new_epoch(self) -> None:
        self._sampler_iter = iter(self._loader._index_sampler)
        self._lookahead = list(itertools.islice(self._sampler_iter, 1))
        self._send_idx = 0  # the next task number to send
        self._rcvd_idx = 0  # the next task number to yield
        # task -> (worker,) while outstanding, (worker, message) once received out of order
        self._task_info: dict[int, tuple] = {}
        self._active = [True] * self._n  # False: this worker's iterable stream has ended
        self._worker_tasks = [0] * self._n
        self._cycle = itertools.cycle(range(self._n))
        self._num_yielded = 0

    def _prime(self) -> None:
        for _ in range(self._prefetch * self._n):
            self._try_put_index()

    def _reset(self) -> None:
        """Start another epoch on the same (persistent) workers."""
        self._new_epoch()
        for q in self._index_queues:
            q.put(_RESUME)
        pending = self._n
        while pending:  # stale results of an unfinished epoch are dropped (their memory freed)
            kind, _, _, _ = self._get_message()
            pending -= kind == "resume"
        self._prime()

    # --- dispatch --------------------------------------------------------------------------------
    def _try_put_index(self) -> None:
        for _ in range(self._n):
            worker = next(self._cycle)
            if self._active[worker] and (self._in_order or self._worker_tasks[worker] < self._prefetch):
                break
        else:
            return
        if self._lookahead:
            index = self._lookahead.pop()
        else:
            try:
                index = next(self._sampler_iter)
            except StopIteration:
                return
        self._index_queues[worker].put((self._send_idx, index, self._pool.segments[worker].take_returned()))
        self._task_info[self._send_idx] = (worker,)
        self._worker_tasks[worker] += 1
        self._send_idx += 1

    # --- receiving -------------------------------------------------------------------------------
    def _get_message(self, expect: int | None = None) -> tuple[str, Any, Any, int]:
        """The next message from any worker: (kind, task, payload, worker). Raises on a dead worker.

        ``expect``: the worker whose result is due; if it is there already, it is read without
        waiting on every pipe and process (the common case when the workers are ahead)."""
        if expect is not None and self._result_conns[expect].poll(0):
            try:
                kind, task, payload = self._pool.segments[expect].loads(self._result_conns[expect].recv_bytes())
                return kind, task, payload, expect
            except EOFError:  # its pipe closed: the worker is exiting, which the full wait reports
                pass
        readers: dict[Any, int] = {conn: w for w, conn in enumerate(self._result_conns)}
        sentinels = {p.sentinel: w for w, p in enumerate(self._workers)}
        ready = wait([*readers, *sentinels], timeout=self._timeout if self._timeout > 0 else None)
        if not ready:
            self._shutdown(graceful=False)
            raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")
        exited = {sentinels[obj] for obj in ready if obj in sentinels}
        for obj in ready:  # data first: a worker may have sent its last result just before dying
            if obj in readers:
                worker = readers[obj]
                try:
                    data = self._result_conns[worker].recv_bytes()
                except EOFError:  # the worker closed its pipe: it is exiting
                    exited.add(worker)
                    continue
                kind, task, payload = self._pool.segments[worker].loads(data)
                return kind, task, payload, worker
        self._raise_dead_workers(exited)

    def _raise_dead_workers(self, exited: set[int]) -> NoReturn:
        for w in exited:
            self._workers[w].join(timeout=_JOIN_S)  # it has exited or is exiting: this reaps it
        dead = [(w, p) for w, p in enumerate(self._workers) if p.exitcode is not None]
        pids = ", ".join(str(p.pid) for _, p in dead)
        details = "; ".join(f"worker {w} (pid {p.pid}) {exit_reason(p)}" for w, p in dead)
        self._shutdown(graceful=False)
        raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly: {details}")

    def _next_data(self) -> Any:
        while True:
            while self._rcvd_idx < self._send_idx:  # skip tasks of finished streams (never answered)
                info = self._task_info.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._task_info.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown(graceful=True)
                raise StopIteration
            info = self._task_info[self._rcvd_idx]
            if len(info) == 2:
                del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
                return self._process(info[1], info[0])
            kind, task, payload, worker = self._get_message(info[0])
            if kind == "stop":
                self._active[worker] = False
                self._task_info.pop(task, None)
                self._try_put_index()
                continue
            if task not in self._task_info:
                continue  # already skipped
            if task == self._rcvd_idx or not self._in_order:
                del self._task_info[task]
                if task == self._rcvd_idx:
                    self._rcvd_idx += 1
                return self._process((kind, payload), worker)
            self._task_info[task] = (worker, (kind, payload))

    def _process(self, message: tuple[str, Any], worker: int) -> Any:
        self._worker_tasks[worker] -= 1
        self._try_put_index()
        kind, payload = message
        if kind == "error":
            self._shutdown(graceful=False)
            assert isinstance(payload, _WorkerError)
            payload.reraise()
        return payload

    # --- the iterator protocol ---------------------------------------------------------------------
    def __iter__(self) -> _MultiProcessIter:
        return self

    def __next__(self) -> Any:
        if self._closed:
            raise StopIteration
        try:
            batch = self._next_data()
        except StopIteration:
            raise
        except BaseException:  # KeyboardInterrupt included: no worker outlives the error
            self._shutdown(graceful=False)
            raise
        self._num_yielded += 1
        return batch

    def __len__(self) -> int:
        return len(self._loader)

    # --- shutdown --------------------------------------------------------------------------------
    @property
    def _closed(self) -> bool:
        return self._pool.closed

    def _shutdown(self, graceful: bool) -> None:
        self._pool.shutdown(graceful)
        self._finalizer.detach()
