"""The CPU backend's kernel thread pool (``NumpyBackend.parallel_for``) and its BLAS thread count.

NumPy releases the GIL in copies and ufunc loops, so kernels that cut their work into independent
pieces (one sample of a batch each) run those pieces on several cores from plain Python threads.
The pieces are ``Backend.chunks(n, grain)``: fixed by the work, never by the thread count, so a
kernel whose pieces are independent gives the same bits on any number of threads. The calling
thread works too; the pool holds ``threads - 1`` workers, started on first use. A piece that calls
``parallel_for`` again (nested) runs its pieces inline. BLAS follows the count through threadpoolctl,
except while pieces run on several threads: then the pool's threads are the parallelism and BLAS
runs on one thread inside each piece (a GEMM per sample on each thread, no oversubscription; a
BLAS's threads split a GEMM's output, so its bits do not change with its thread count).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

__lamina_plugin_api__ = "1.0"

_inside = threading.local()  # .active: this thread is running pieces already (a worker, or a busy caller)


def quiet_numpy() -> None:
    """Turn NumPy's floating-point warnings off in this thread, as torch's ops never warn on overflow, NaN or
    division by zero (a program run on lamina prints what it prints on torch); ``LAMINA_NUMPY_WARNINGS=1`` keeps
    them. NumPy keeps the setting per thread, so each pool worker sets it too."""
    if os.environ.get("LAMINA_NUMPY_WARNINGS") != "1":
        import numpy

        numpy.seterr(all="ignore")


def _mark_worker() -> None:
    _inside.active = True
    quiet_numpy()


class _BlasOnOne:
    """BLAS limited to one thread while pieces run on several, set and put back from the main thread
    only (threadpoolctl lets one Python thread control a shared BLAS pool, and ``set_blas_threads``
    is called from there); elsewhere BLAS keeps its count."""

    def __init__(self) -> None:
        self._libs: list | None = None

    def libs(self) -> list:
        if self._libs is None:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

            self._libs = list(ThreadpoolController().select(user_api="blas").lib_controllers)
        return self._libs

    def enter(self) -> list[tuple[Any, int]]:
        """Set each BLAS with more than one thread to one; return what to put back."""
        if threading.current_thread() is not threading.main_thread():
            return []
        changed = []
        for lib in self.libs():
            n = lib.get_num_threads()
            if n is not None and n > 1:
                lib.set_num_threads(1)
                changed.append((lib, n))
        return changed

    @staticmethod
    def leave(changed: list[tuple[Any, int]]) -> None:
        for lib, n in changed:
            lib.set_num_threads(n)


_BLAS_ON_ONE = _BlasOnOne()


def set_blas_threads(n: int) -> None:
    """Limit the BLAS libraries loaded in this process (OpenBLAS, MKL, BLIS, ...) to ``n`` threads.

    threadpoolctl finds them whatever NumPy was built against and sets each through its own API.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    threadpool_limits(limits=n, user_api="blas")


class ThreadPool:
    """Runs the pieces of a range on ``size`` threads (the caller and ``size - 1`` workers)."""

    def __init__(self) -> None:
        self.size: int | None = None   # None: ``lamina.get_num_threads()`` on first use
        self._executor: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def resize(self, n: int) -> None:
        with self._lock:
            self.size = n
            old, self._executor = self._executor, None
        if old is not None:
            old.shutdown(wait=False)   # its workers finish the pieces they hold, then exit

    def _submit(self, size: int, work: Callable[[], None], count: int) -> list[Future]:
        """``count`` calls of ``work`` queued on the workers (under the lock, so a concurrent ``resize``
        shuts the old workers down only after they have taken these)."""
        with self._lock:
            if self._executor is None or self._pid != os.getpid():   # a forked child has no workers
                self._executor = ThreadPoolExecutor(max(size - 1, 1), "lamina-cpu", initializer=_mark_worker)
                self._pid = os.getpid()
            return [self._executor.submit(work) for _ in range(count)]

    def run(self, pieces: list[tuple[int, int]], fn: Callable[[int, int], Any]) -> list[Any]:
        """``[fn(start, stop) for each piece]``, the pieces shared out among the threads; the first
        exception (in piece order) is raised after every thread has stopped."""
        if self.size is None:
            import lamina

            self.resize(lamina.get_num_threads())
        size = self.size or 1
        if size == 1 or len(pieces) < 2 or getattr(_inside, "active", False):
            return [fn(start, stop) for start, stop in pieces]
        results: list[Any] = [None] * len(pieces)
        errors: list[BaseException | None] = [None] * len(pieces)
        taken, failed = [0], [False]
        lock = threading.Lock()

        def work() -> None:
            while True:
                with lock:
                    i = taken[0]
                    if i >= len(pieces) or failed[0]:
                        return
                    taken[0] += 1
                try:
                    results[i] = fn(*pieces[i])
                except BaseException as e:   # re-raised on the calling thread below
                    errors[i], failed[0] = e, True

        blas = _BLAS_ON_ONE.enter()
        try:
            futures = self._submit(size, work, min(size, len(pieces)) - 1)
            _inside.active = True
            try:
                work()
            finally:
                _inside.active = False
                for f in futures:
                    f.result()
        finally:
            _BLAS_ON_ONE.leave(blas)
        for e in errors:
            if e is not None:
                raise e
        return results
