"""The DataLoader's worker process: seeding, ``get_worker_info``, the task loop and error capture.

Protocol (main -> worker on the worker's index queue; worker -> main on its result pipe, each
message one ``_shm.dumps`` pickle):
    (task, index, returned) -> ("data", task, batch) | ("error", task, _WorkerError) | ("stop", task, None)
                  (``returned``: the shared-memory segments the main process gave back, ``_shm``)
    _RESUME        -> ("resume", None, None)    a new epoch (persistent workers): a fresh stream
    None           -> the worker exits
"stop" means an iterable dataset's copy in this worker is exhausted; the worker then ignores
further tasks until _RESUME. The worker exits on its own if the main process goes away.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import queue
import random
import signal
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import lamina
import numpy as np

from . import _shm
from ._fetch import _IterableFetcher, _MapFetcher
from .dataset import IterableDataset

__all__ = ["WorkerInfo", "get_worker_info"]

_RESUME = "resume"
_PARENT_CHECK_S = 2.0  # how often an idle worker checks that the main process is still there


class WorkerInfo:
    """What ``get_worker_info()`` returns in a worker: ``id``, ``num_workers``, ``seed``, ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any
    __initialized = False

    def __init__(self, **kwargs: Any) -> None:
        for name, value in kwargs.items():
            setattr(self, name, value)
        self.__keys = tuple(kwargs)
        self.__initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__initialized:
            raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={getattr(self, k)}" for k in self.__keys)
        return f"{type(self).__name__}({items})"


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, this worker's ``WorkerInfo``; None in the main process.

    ``dataset`` is the worker's own copy of the dataset: an ``IterableDataset`` can shard itself with
    ``id`` and ``num_workers``.
    """
    return _worker_info


class _KeyErrorMessage(str):
    """A KeyError shows ``repr`` of its message; this keeps the traceback's line breaks readable."""

    def __repr__(self) -> str:
        return str(self)


@dataclass
class _WorkerError:
    """An exception raised in a worker, carried to the main process and raised there again."""

    exc_type: type[BaseException] | None
    message: str

    @classmethod
    def capture(cls, exc: BaseException, where: str) -> _WorkerError:
        exc_type: type[BaseException] | None = type(exc)
        try:
            pickle.loads(pickle.dumps(exc_type))
        except Exception:  # a class pickle cannot find by name: raised as RuntimeError
            exc_type = None
        tb = "".join(traceback.format_exception(exc))
        return cls(exc_type, f"Caught {type(exc).__name__} {where}.\nOriginal {tb}")

    def reraise(self) -> NoReturn:
        message: str = self.message
        if self.exc_type is None:
            raise RuntimeError(message)
        if issubclass(self.exc_type, KeyError):
            message = _KeyErrorMessage(message)
        try:
            exc = self.exc_type(message)
        except Exception:
            raise RuntimeError(message) from None
        raise exc


@dataclass
class _WorkerSpec:
    """Everything a worker needs besides its queues (pickled once per worker under 'spawn')."""

    dataset: Any
    auto_collation: bool
    collate_fn: Callable[[Any], Any]
    drop_last: bool
    worker_init_fn: Callable[[int], None] | None
    num_workers: int
    base_seed: int
    shm_prefix: str
    main_pid: int  # the main process, watched by the idle worker (its parent may be a fork server)


def _seed_worker(base_seed: int, worker_id: int) -> int:
    """Seed lamina and ``random`` with base_seed + worker_id, NumPy's global RNG from both (as PyTorch)."""
    seed = base_seed + worker_id
    random.seed(seed)
    lamina.manual_seed(seed)
    # NumPy's legacy seed takes 32-bit words; SeedSequence mixes them so that workers (and the
    # `random` module, seeded with the same integer) get unrelated streams.
    words = [worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32]
    np.random.seed(np.random.SeedSequence(words).generate_state(4))
    return seed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def _keep_heap_pad() -> None:
    """Let glibc keep 4 MiB free at the top of the heap (``M_TOP_PAD``) instead of returning memory to the
    system whenever 128 KiB lie free there.

    A worker that builds a few small arrays per sample, and never a large one (its batches are stacked
    into shared memory), otherwise keeps shrinking and regrowing its heap: measured on the benchmark's
    augmentation pipeline, 8,900 page faults and 10 ms of kernel time per epoch, a quarter of the
    worker's CPU time; with the pad, none. The main process's heap has adapted to its own large arrays.
    A ``MALLOC_TOP_PAD_`` set by the user wins; other C libraries are left alone.
    """
    if not sys.platform.startswith("linux") or "MALLOC_TOP_PAD_" in os.environ:
        return
    try:
        ctypes.CDLL("libc.so.6").mallopt(-2, 4 << 20)  # -2: M_TOP_PAD
    except (OSError, AttributeError):
        pass


def _make_fetcher(spec: _WorkerSpec, dataset: Any) -> _MapFetcher | _IterableFetcher:
    if isinstance(dataset, IterableDataset):
        return _IterableFetcher(dataset, spec.auto_collation, spec.collate_fn, spec.drop_last)
    return _MapFetcher(dataset, spec.auto_collation, spec.collate_fn)


def _worker_loop(spec: _WorkerSpec, worker_id: int, index_queue: Any, result_conn: Any) -> None:
    """The body of worker process ``worker_id`` (see the module docstring for the protocol)."""
    global _worker_info
    # Ctrl-C reaches the whole process group; the main process handles it and stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _keep_heap_pad()
    parent = os.getppid()
    segments = _shm.WorkerSegments(f"{spec.shm_prefix}{worker_id}_")
    _shm._worker_segments = segments  # default_collate stacks batches straight into shared memory
    where = f"in DataLoader worker process {worker_id}"
    seed = _seed_worker(spec.base_seed, worker_id)
    _worker_info = WorkerInfo(id=worker_id, num_workers=spec.num_workers, seed=seed, dataset=spec.dataset)
    init_error: _WorkerError | None = None
    fetcher: _MapFetcher | _IterableFetcher | None = None
    try:
        if spec.worker_init_fn is not None:
            spec.worker_init_fn(worker_id)
        fetcher = _make_fetcher(spec, spec.dataset)
    except Exception as e:
        init_error = _WorkerError.capture(e, where)

    def send(kind: str, task: Any, payload: Any) -> None:
        result_conn.send_bytes(segments.dumps((kind, task, payload)))

    ended = False
    try:
        while True:
            try:
                message = index_queue.get(timeout=_PARENT_CHECK_S)
            except queue.Empty:
                # the parent changes when it dies (the worker is adopted); the main process is checked
                # too, since it may have died before this worker started and read its parent
                if os.getppid() != parent or not _alive(spec.main_pid):
                    return
                continue
            if message is None:
                return
            if message == _RESUME:
                ended = False
                try:
                    fetcher = _make_fetcher(spec, spec.dataset)
                except Exception as e:
                    init_error = _WorkerError.capture(e, where)
                send("resume", None, None)
                continue
            task, index, returned = message
            segments.release(returned)
            if init_error is not None or fetcher is None:
                send("error", task, init_error)
                continue
            if ended:
                continue
            try:
                send("data", task, fetcher.fetch(index))
            except StopIteration as e:
                if isinstance(fetcher, _IterableFetcher):
                    ended = True
                    send("stop", task, None)
                else:
                    send("error", task, _WorkerError.capture(e, f"{where} ({fetcher.describe(index)})"))
            except (BrokenPipeError, EOFError):
                raise
            except Exception as e:  # in the dataset, the collate function or pickling the batch
                send("error", task, _WorkerError.capture(e, f"{where} ({fetcher.describe(index)})"))
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        return  # the main process is gone or shutting the workers down
    finally:
        result_conn.close()
