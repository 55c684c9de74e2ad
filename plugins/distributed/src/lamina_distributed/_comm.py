"""The communicator protocol under ``lamina.distributed``'s collectives, its errors and its wait loop.

The collectives (``collectives.py``, ``p2p.py``, ``objects.py``) are written once, over this small
protocol: a :class:`Communicator` starts an operation on 1-D contiguous arrays of its device and
returns a :class:`Request`; the caller completes it with :func:`wait`, which polls ``Request.test()``
(a short spin, then naps that back off) until the group's timeout, so nothing blocks forever.

Communicators by device type: the MPI communicator (``_mpi.py``) works on host (NumPy) arrays and
serves every tensor (a tensor on another device is staged through its backend's host copy). A
device type may register its own communicator factory in :data:`DEVICE_COMMUNICATORS`; ``"cuda"``
holds the NCCL slot, which is designed but not verified without GPUs and so refuses to start.

Imports neither lamina's tensors nor MPI (NumPy only, for host staging arrays): this is the vocabulary
the layers above share.
"""

from __future__ import annotations

import enum
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class DistError(RuntimeError):
    """Base of lamina.distributed's errors (torch.distributed.DistError)."""


class DistBackendError(DistError):
    """The communication backend failed or timed out (torch.distributed.DistBackendError)."""


class DistNetworkError(DistError):
    """A network error (torch.distributed.DistNetworkError); the MPI backend raises DistBackendError."""


class DistStoreError(DistError):
    """A store error (torch.distributed.DistStoreError); the MPI backend uses no store."""


class MPIUnavailableError(ImportError):
    """mpi4py (or the MPI library under it) cannot be imported."""


MPI_HINT = 'pip install "lamina-distributed[mpi]" (the same as pip install "lamina[mpi]": mpi4py and MPICH)'


class RedOpType(enum.IntEnum):
    """A reduction (torch's ``ReduceOp.RedOpType``; members compare equal to ``ReduceOp.SUM`` & co)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7


_RedOp = RedOpType  # the name inside ReduceOp's body is its attribute


class ReduceOp:
    """Reductions for ``all_reduce``, ``reduce``, ``reduce_scatter``: ``ReduceOp.SUM``, ``AVG``, ``PRODUCT``,
    ``MIN``, ``MAX`` and, for integers and bool, ``BAND``, ``BOR``, ``BXOR``.

    ``ReduceOp(ReduceOp.MAX)`` or ``ReduceOp("max")`` give the member. On bool, as in torch, ``SUM`` and
    ``MAX`` are a logical or, ``PRODUCT`` and ``MIN`` a logical and, ``BXOR`` an exclusive or.
    """

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR

    def __new__(cls, op: Any = RedOpType.SUM) -> _RedOp:  # type: ignore[misc]
        return as_red_op(op, "ReduceOp")


def as_red_op(op: Any, fn: str) -> RedOpType:
    """``op`` as a :class:`RedOpType`; a clear TypeError/ValueError naming ``fn`` otherwise."""
    if isinstance(op, RedOpType):
        return op
    if isinstance(op, str) and op.upper() in RedOpType.__members__:
        return RedOpType[op.upper()]
    if isinstance(op, int) and not isinstance(op, bool) and op in RedOpType._value2member_map_:
        return RedOpType(op)
    raise TypeError(f"{fn}: expected op to be a lamina.distributed.ReduceOp (one of "
                    f"{', '.join(RedOpType.__members__)}), got {op!r}")


class Request:
    """One started operation. ``test()`` advances it and says whether it is complete (never blocks)."""

    def test(self) -> bool:
        raise NotImplementedError

    def poller(self) -> Callable[[], bool]:
        """The cheapest callable that does what ``test`` does (the wait loop calls it tightly)."""
        return self.test

    def source(self) -> int:
        """The sender's rank in the communicator (receives only; -1 otherwise)."""
        return -1


class Communicator:
    """Operations on 1-D contiguous arrays of ``device_type``, started non-blocking; each returns a Request.

    ``rank``/``size`` are within the communicator. ``op`` is a :class:`RedOpType` other than ``AVG``
    (the collectives compute an average as a sum, then divide). ``counts`` are element counts per rank.
    """

    device_type: str = "cpu"
    rank: int = 0
    size: int = 1

    def empty(self, count: int, dtype: Any) -> Any:
        """A 1-D staging array of ``count`` elements on this communicator's device."""
        return np.empty(count, dtype)

    def subgroup(self, ranks: Sequence[int], local: bool, timeout_s: float) -> Communicator | None:
        """A communicator of ``ranks`` (in that order), None on a rank outside; all ranks call it, or only the
        members with ``local``. Bounded by ``timeout_s``."""
        raise NotImplementedError

    def allreduce(self, buf: Any, op: RedOpType) -> Request:
        """buf (N,) -> the reduction over ranks, in place."""
        raise NotImplementedError

    def bcast(self, buf: Any, root: int) -> Request:
        raise NotImplementedError

    def reduce(self, buf: Any, op: RedOpType, root: int) -> Request:
        """buf (N,): in place on ``root``; other ranks' buffers are only read."""
        raise NotImplementedError

    def allgather(self, send: Any, recv: Any, counts: Sequence[int]) -> Request:
        """send (counts[rank],) -> recv (sum(counts),), rank-major."""
        raise NotImplementedError

    def gather(self, send: Any, recv: Any | None, root: int) -> Request:
        """send (N,) -> recv (size * N,) on root (None elsewhere)."""
        raise NotImplementedError

    def scatter(self, send: Any | None, recv: Any, root: int) -> Request:
        """send (size * N,) on root (None elsewhere) -> recv (N,)."""
        raise NotImplementedError

    def reduce_scatter(self, send: Any, recv: Any, counts: Sequence[int], op: RedOpType) -> Request:
        """send (sum(counts),) -> recv (counts[rank],): block r of the reduction goes to rank r."""
        raise NotImplementedError

    def alltoall(self, send: Any, send_counts: Sequence[int], recv: Any, recv_counts: Sequence[int]) -> Request:
        """Block r of send goes to rank r; block r of recv comes from rank r."""
        raise NotImplementedError

    def barrier(self) -> Request:
        raise NotImplementedError

    def isend(self, buf: Any, dest: int, tag: int) -> Request:
        raise NotImplementedError

    def irecv(self, buf: Any, source: int | None, tag: int) -> Request:
        """``source=None`` receives from any rank (``Request.source()`` tells which)."""
        raise NotImplementedError

    def shared_slots(self, nbytes: int) -> SharedSlots | None:
        """Collective: one ``nbytes`` slot per rank, twice over (two generations), that every rank of this
        communicator reads and writes directly, or None where the ranks share no memory (not all on one
        machine, or a communicator without shared memory). Freed with the communicator."""
        return None

    def free(self) -> None:
        """Release the communicator (after destroy_process_group)."""


class SharedSlots:
    """Memory every rank of one machine maps: ``slot(generation, rank)`` is rank's (nbytes,) uint8 slot of
    generation 0 or 1. A rank writes its own slot, then ``fence()``; once that request completes, every
    rank's writes to that generation are visible to it. Alternating generations, one fence each round keeps
    a rank from overwriting a slot that a peer is still reading (that peer has not passed the next fence)."""

    def slot(self, generation: int, rank: int) -> Any:
        raise NotImplementedError

    def fence(self) -> Request:
        raise NotImplementedError


# --- waiting ------------------------------------------------------------------------------------
#: MPI progresses only inside its calls, so a transfer must be polled tightly: BUSY_S seconds of pure
#: polling (the common, fast case), then polling that yields the core between tests until SPIN_S (so
#: that with more ranks than cores the rank that is behind gets to run), then naps from NAP_MIN_S
#: doubling up to NAP_MAX_S (a rank waiting long for a slow peer leaves its core alone)
BUSY_S = 1e-4
SPIN_S = 0.02
NAP_MIN_S = 1e-5
NAP_MAX_S = 1e-3
POLLS = 16  # tests between two looks at the clock


def all_done(requests: Sequence[Request]) -> bool:
    """Advance every request; True when all are complete."""
    done = True
    for r in requests:
        done = r.test() and done
    return done


def wait(requests: Sequence[Request], timeout_s: float, on_timeout: Callable[[], BaseException]) -> None:
    """Poll ``requests`` until all complete; raise ``on_timeout()`` once ``timeout_s`` seconds have passed."""
    polls = [r.poller() for r in requests]
    test = polls[0] if len(polls) == 1 else (lambda: all([p() for p in polls]))
    if test():
        return
    start = time.monotonic()
    yield_from, spin_until, deadline = start + BUSY_S, start + SPIN_S, start + timeout_s
    nap = NAP_MIN_S
    while True:
        for _ in range(POLLS):
            if test():
                return
        now = time.monotonic()
        if now >= deadline:
            if test():
                return
            raise on_timeout()
        if now >= spin_until:
            time.sleep(nap)
            nap = min(nap * 2, NAP_MAX_S)
        elif now >= yield_from:
            os.sched_yield()


# --- communicators by device type -----------------------------------------------------------------
#: device type -> factory(host communicator) -> Communicator for that device's arrays. Device types
#: missing here are staged through host arrays and the host (MPI) communicator.
DEVICE_COMMUNICATORS: dict[str, Callable[[Communicator], Communicator]] = {}


def register_communicator(device_type: str, factory: Callable[[Communicator], Communicator]) -> None:
    """Serve ``device_type``'s tensors with ``factory(host_communicator)`` under the backends that ask for it."""
    DEVICE_COMMUNICATORS[device_type] = factory


def _nccl_factory(host: Communicator) -> Communicator:
    # The design: a CuPy NCCL communicator per process group, its unique id broadcast over ``host``,
    # operations enqueued on the tensor's stream and completed by polling a CUDA event (Request.test),
    # so the same wait loop and timeout apply. It cannot be verified without GPUs, so it is not shipped.
    raise NotImplementedError("lamina.distributed: the NCCL communicator (NCCL through CuPy) is designed, not "
                              "verified without GPUs, and not available; use backend 'mpi' (or 'gloo'), "
                              "which stages CUDA tensors through host memory")


register_communicator("cuda", _nccl_factory)
