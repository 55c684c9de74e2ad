"""The MPI communicator: the protocol of ``_comm.py`` on host (NumPy) arrays, through mpi4py.

mpi4py is imported here, on first use (``init_process_group``), never at ``import lamina.distributed``.
Every operation is MPI's non-blocking variant (``Iallreduce``, ``Ibcast``, ...) on the arrays' own
buffers (mpi4py's uppercase methods: no pickling); ``_comm.wait`` completes it by polling.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _comm, _mpi_ops
from ._comm import MPI_HINT, Communicator, DistBackendError, MPIUnavailableError, RedOpType, Request, SharedSlots

_MPI: list[Any] = []


def load() -> Any:
    """The ``mpi4py.MPI`` module (initialises MPI: ranks from mpiexec, else a singleton of size 1)."""
    if not _MPI:
        try:
            from mpi4py import MPI
        except (ImportError, RuntimeError, OSError) as e:
            raise MPIUnavailableError(f"lamina.distributed: the MPI backend needs mpi4py and an MPI library; "
                                      f"{MPI_HINT} (importing mpi4py failed: {type(e).__name__}: {e})") from e
        _MPI.append(MPI)
    return _MPI[0]


class MPIRequest(Request):
    """An mpi4py request; ``keep`` holds the buffers alive until the request is dropped."""

    __slots__ = ("req", "status", "done", "keep")

    def __init__(self, req: Any, status: Any = None, keep: Any = None) -> None:
        self.req, self.status, self.done, self.keep = req, status, False, keep

    def test(self) -> bool:
        if not self.done:
            self.done = self.req.Test(self.status) if self.status is not None else self.req.Test()
        return self.done

    def poller(self) -> Any:
        # without a status to keep, mpi4py's own Test is the poller: a completed request becomes
        # REQUEST_NULL, whose Test answers True again
        return self.req.Test if self.status is None else self.test

    def source(self) -> int:
        return self.status.Get_source() if self.status is not None else -1


def _displacements(counts: Sequence[int]) -> list[int]:
    out, at = [], 0
    for c in counts:
        out.append(at)
        at += c
    return out


class MPICommunicator(Communicator):
    """An MPI communicator (``comm``, an ``mpi4py.MPI.Intracomm``) on 1-D contiguous NumPy arrays."""

    device_type = "cpu"

    def __init__(self, comm: Any) -> None:
        self.MPI = load()
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._shared: list[Any] = []  # MPISharedSlots made over this communicator, freed with it

    @classmethod
    def world(cls, timeout_s: float) -> MPICommunicator:
        """A duplicate of COMM_WORLD (lamina's traffic never meets the program's own MPI calls), made with
        the non-blocking ``Idup``: a rank that never calls init_process_group makes the others raise."""
        world = load().COMM_WORLD
        comm, req = world.Idup()
        _comm.wait([MPIRequest(req)], timeout_s, lambda: DistBackendError(
            f"init_process_group: not every rank of the MPI job ({world.Get_size()} ranks) called it within "
            f"{timeout_s:g} s (rank {world.Get_rank()} waited)"))
        return cls(comm)

    def subgroup(self, ranks: Sequence[int], local: bool, timeout_s: float) -> MPICommunicator | None:
        """A communicator of ``ranks`` (this communicator's ranks, in their new order); None when not one.

        Every rank of this communicator must call it, unless ``local``: then only the members do. The
        ranks first meet in a non-blocking barrier (over all, or among the members by messages), bounded
        by ``timeout_s``, so that the blocking ``Split``/``Create_group`` that follows cannot hang.
        """
        MPI, ranks = self.MPI, list(ranks)
        who = f"new_group: not every {'member of ' + str(ranks) if local else 'rank'} called it within " \
              f"{timeout_s:g} s (rank {self.rank} of {self.size} waited)"
        if local:
            if self.rank not in ranks:
                return None
            self._members_meet(ranks, timeout_s, lambda: DistBackendError(who))
            group = self.comm.Get_group().Incl(ranks)
            try:
                comm = self.comm.Create_group(group, 0)
            finally:
                group.Free()
        else:
            _comm.wait([self.barrier()], timeout_s, lambda: DistBackendError(who))
            member = self.rank in ranks
            comm = self.comm.Split(0 if member else MPI.UNDEFINED, ranks.index(self.rank) if member else 0)
            if comm == MPI.COMM_NULL:
                return None
        return MPICommunicator(comm)

    def _members_meet(self, ranks: list[int], timeout_s: float, late: Any) -> None:
        """Return once every member has arrived: each tells ranks[0], which answers all (tag TAG_UB - 1)."""
        tag, lead = self.max_tag - 1, ranks[0]
        if self.rank != lead:
            reqs = [self.isend(np.zeros(1, np.uint8), lead, tag), self.irecv(np.zeros(1, np.uint8), lead, tag)]
            _comm.wait(reqs, timeout_s, late)
            return
        others = [r for r in ranks if r != lead]
        _comm.wait([self.irecv(np.zeros(1, np.uint8), r, tag) for r in others], timeout_s, late)
        _comm.wait([self.isend(np.zeros(1, np.uint8), r, tag) for r in others], timeout_s, late)

    def _b(self, a: np.ndarray) -> list:
        return [a, _mpi_ops.datatype(self.MPI, a.dtype)]

    def allreduce(self, buf: np.ndarray, op: RedOpType) -> Request:
        dt, mop = _mpi_ops.reduction(self.MPI, buf.dtype, op)
        return MPIRequest(self.comm.Iallreduce(self.MPI.IN_PLACE, [buf, dt], mop), keep=buf)

    def bcast(self, buf: np.ndarray, root: int) -> Request:
        return MPIRequest(self.comm.Ibcast(self._b(buf), root), keep=buf)

    def reduce(self, buf: np.ndarray, op: RedOpType, root: int) -> Request:
        dt, mop = _mpi_ops.reduction(self.MPI, buf.dtype, op)
        if self.rank == root:
            return MPIRequest(self.comm.Ireduce(self.MPI.IN_PLACE, [buf, dt], mop, root), keep=buf)
        return MPIRequest(self.comm.Ireduce([buf, dt], None, mop, root), keep=buf)

    def allgather(self, send: np.ndarray, recv: np.ndarray, counts: Sequence[int]) -> Request:
        dt = _mpi_ops.datatype(self.MPI, send.dtype)
        if len(set(counts)) <= 1:
            return MPIRequest(self.comm.Iallgather([send, dt], [recv, dt]), keep=(send, recv))
        return MPIRequest(self.comm.Iallgatherv([send, dt], [recv, (list(counts), _displacements(counts)), dt]),
                          keep=(send, recv))

    def gather(self, send: np.ndarray, recv: np.ndarray | None, root: int) -> Request:
        return MPIRequest(self.comm.Igather(self._b(send), None if recv is None else self._b(recv), root),
                          keep=(send, recv))

    def scatter(self, send: np.ndarray | None, recv: np.ndarray, root: int) -> Request:
        return MPIRequest(self.comm.Iscatter(None if send is None else self._b(send), self._b(recv), root),
                          keep=(send, recv))

    def reduce_scatter(self, send: np.ndarray, recv: np.ndarray, counts: Sequence[int], op: RedOpType) -> Request:
        dt, mop = _mpi_ops.reduction(self.MPI, send.dtype, op)
        if len(set(counts)) <= 1:
            return MPIRequest(self.comm.Ireduce_scatter_block([send, dt], [recv, dt], mop), keep=(send, recv))
        return MPIRequest(self.comm.Ireduce_scatter([send, dt], [recv, dt], list(counts), mop), keep=(send, recv))

    def alltoall(self, send: np.ndarray, send_counts: Sequence[int], recv: np.ndarray,
                 recv_counts: Sequence[int]) -> Request:
        dt = _mpi_ops.datatype(self.MPI, send.dtype)
        return MPIRequest(self.comm.Ialltoallv([send, (list(send_counts), _displacements(send_counts)), dt],
                                               [recv, (list(recv_counts), _displacements(recv_counts)), dt]),
                           keep=(send, recv))

    def barrier(self) -> Request:
        return MPIRequest(self.comm.Ibarrier())

    def isend(self, buf: np.ndarray, dest: int, tag: int) -> Request:
        return MPIRequest(self.comm.Isend(self._b(buf), dest, tag), keep=buf)

    def irecv(self, buf: np.ndarray, source: int | None, tag: int) -> Request:
        src = self.MPI.ANY_SOURCE if source is None else source
        return MPIRequest(self.comm.Irecv(self._b(buf), src, tag), self.MPI.Status(), keep=buf)

    @property
    def max_tag(self) -> int:
        return int(self.comm.Get_attr(self.MPI.TAG_UB))

    def shared_slots(self, nbytes: int) -> SharedSlots | None:
        """MPI-3 shared windows over this communicator when all its ranks are on one machine (collective)."""
        from ._mpi_shared import MPISharedSlots

        node = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED, key=self.rank)
        if node.Get_size() != self.size:
            node.Free()
            return None
        slots = MPISharedSlots(node, nbytes)
        self._shared.append(slots)
        return slots

    def free(self) -> None:
        for slots in self._shared:
            slots.free()
        self._shared = []
        if self.comm != self.MPI.COMM_NULL:
            self.comm.Free()
