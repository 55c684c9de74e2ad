"""``Work`` (what ``async_op=True`` returns), its ``Future``, and the staging of tensors into buffers.

A communicator reads and writes 1-D contiguous arrays of its device. A contiguous tensor on that
device lends its own array (MPI writes the result in place); a non-contiguous one is copied into a
contiguous buffer, and a tensor on another device is staged through its backend's host copy
(``t.cpu()``); in both cases the result is written back when the operation completes. Every tensor a
collective writes has its version counted (``lamina.autograd.graph.increment_version``), so graphs
that saved the old values refuse to backward through them, as after an in-place op.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import lamina
import numpy as np
from lamina.autograd.graph import increment_version

from ._comm import DistBackendError, DistError, Request


class Slot:
    """One tensor's buffer in an operation: ``array`` (1-D contiguous) and whether it goes back on commit."""

    __slots__ = ("tensor", "array", "back", "host_staged")

    def __init__(self, tensor: Any, array: Any, back: bool, host_staged: bool = False) -> None:
        self.tensor, self.array, self.back, self.host_staged = tensor, array, back, host_staged

    def commit(self) -> None:
        """Write the buffer into the tensor (when staged) and count the write."""
        if self.back:
            arr = self.tensor.array
            src = self.array.reshape(arr.shape)
            if self.host_staged:
                src = lamina.from_numpy(src).to(self.tensor.device).array
            arr[...] = src
        increment_version(self.tensor)


def stage(tensor: Any, device_type: str, *, read: bool = True) -> Slot:
    """``tensor`` as a buffer of ``device_type`` arrays. ``read``: the buffer must start with its values."""
    arr = tensor.array
    if tensor.device.type == device_type:
        if arr.flags.c_contiguous and arr.flags.writeable:
            return Slot(tensor, arr.reshape(-1), back=False)
        return Slot(tensor, arr.copy().reshape(-1), back=True)
    if device_type != "cpu":
        raise DistBackendError(f"lamina.distributed: a tensor on {tensor.device} cannot use a {device_type} "
                               f"communicator")
    host = np.ascontiguousarray(tensor.detach().cpu().array) if read else np.empty(arr.shape, arr.dtype)
    return Slot(tensor, host.reshape(-1), back=True, host_staged=True)


def read_only(tensor: Any, device_type: str) -> Any:
    """``tensor``'s values as a 1-D contiguous ``device_type`` array that the operation only reads."""
    arr = tensor.array
    if tensor.device.type == device_type:
        return arr.reshape(-1) if arr.flags.c_contiguous else arr.copy().reshape(-1)
    return np.ascontiguousarray(tensor.detach().cpu().array).reshape(-1)


def _as_timeout(timeout: Any) -> datetime.timedelta | None:
    if timeout is None:
        return None
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Work.wait: expected timeout to be a datetime.timedelta or None, got {timeout!r}")
    return timeout if timeout.total_seconds() > 0 else None  # torch: a zero timeout means the group's


class Work:
    """A started operation (torch's ``Work``): ``wait()`` completes it and writes its outputs.

    ``wait(timeout=None)`` returns True or raises DistBackendError after ``timeout`` (default: the
    group's); ``is_completed()`` polls without blocking; ``result()`` lists the output tensors.
    """

    def __init__(self, pg: Any, what: str, requests: list[Request], slots: list[Slot], outputs: list[Any],
                 before_commit: Callable[[], None] | None = None, source: Callable[[], int] | None = None,
                 timeout: datetime.timedelta | None = None) -> None:
        self._pg, self._what, self._requests, self._slots = pg, what, requests, slots
        self._timeout = timeout
        self._outputs, self._before, self._source = outputs, before_commit, source
        self._done = False
        self._exc: BaseException | None = None

    def _fail(self, e: BaseException) -> BaseException:
        if not isinstance(e, DistError):
            e = DistBackendError(f"{self._what}: the MPI operation failed on rank {self._pg.rank()} of "
                                 f"{self._pg.size()} in process group {self._pg.name()!r}: {type(e).__name__}: {e}")
        self._exc = e
        self._pg.track(self._requests)
        return e

    def _finish(self) -> None:
        if self._before is not None:
            self._before()
        for s in self._slots:
            s.commit()
        self._done = True

    def wait(self, timeout: datetime.timedelta | None = None) -> bool:
        """Block until done (polling, bounded by ``timeout`` or the group's); True, else raises."""
        if self._exc is not None:
            raise self._exc
        if self._done:
            return True
        limit = _as_timeout(timeout) or self._timeout
        try:
            self._pg.wait(self._requests, self._what, limit)
        except Exception as e:
            err = self._fail(e)
            if err is e:
                raise
            raise err from e
        self._finish()
        return True

    def is_completed(self) -> bool:
        """Poll once (never blocks): True when finished (its outputs written) or failed."""
        if self._done or self._exc is not None:
            return True
        try:
            finished = all([r.test() for r in self._requests])
        except Exception as e:
            self._fail(e)
            return True
        if finished:
            self._finish()
        return self._done

    def is_success(self) -> bool:
        return self._done and self._exc is None

    def exception(self) -> BaseException | None:
        return self._exc

    def result(self) -> list[Any]:
        """The output tensors (after ``wait()``)."""
        return list(self._outputs)

    def source_rank(self) -> int:
        """The sender's global rank, for a receive (after ``wait()``)."""
        if self._source is None:
            raise ValueError(f"{self._what}: source_rank() is only defined for a receive")
        return self._source()

    def synchronize(self) -> None:
        self.wait()

    def get_future(self) -> Future:
        """A Future whose value is ``result()`` once the work completes."""
        return Future(lambda: (self.wait(), self.result())[1], self.is_completed)

    def __repr__(self) -> str:
        state = "failed" if self._exc is not None else "completed" if self._done else "pending"
        return f"<Work {self._what} {state}>"


class Future:
    """A value completed on demand: ``wait()`` and ``value()``, ``done()``, ``then(callback)`` (torch.futures' core)."""

    _UNSET = object()

    def __init__(self, resolve: Callable[[], Any], done: Callable[[], bool]) -> None:
        self._resolve, self._done, self._value = resolve, done, Future._UNSET

    def wait(self) -> Any:
        if self._value is Future._UNSET:
            self._value = self._resolve()
        return self._value

    def value(self) -> Any:
        return self.wait()

    def done(self) -> bool:
        return self._value is not Future._UNSET or self._done()

    def then(self, callback: Callable[[Future], Any]) -> Future:
        """A Future of ``callback(self)``, run once this one has completed."""
        return Future(lambda: (self.wait(), callback(self))[1], self.done)
