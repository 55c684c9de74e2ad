"""Shared-memory slots for the ranks of one machine (``SharedSlots`` on MPI-3 shared windows).

``MPI.Win.Allocate_shared`` maps one segment per rank that every rank of the (machine-local)
communicator can read and write as plain NumPy memory. Reading a peer's gradients there replaces a
message-passing all-reduce and its copies: DDP sums the ranks' slots straight into ``param.grad``.
The windows are locked once (``Lock_all``, passive target) and synchronised with ``Win.Sync`` (a
memory barrier) around a non-blocking barrier, as MPI's unified memory model asks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._comm import Request, SharedSlots


class _FenceRequest(Request):
    """A non-blocking barrier whose completion is followed by a memory barrier on the windows."""

    __slots__ = ("req", "wins", "done")

    def __init__(self, req: Any, wins: list[Any]) -> None:
        self.req, self.wins, self.done = req, wins, False

    def test(self) -> bool:
        if not self.done and self.req.Test():
            for w in self.wins:
                w.Sync()
            self.done = True
        return self.done


class MPISharedSlots(SharedSlots):
    """Two shared windows of ``nbytes`` per rank over ``node`` (a communicator of one machine's ranks)."""

    def __init__(self, node: Any, nbytes: int) -> None:
        from ._mpi import load

        MPI = load()
        self.node, self.nbytes = node, nbytes
        self.wins = [MPI.Win.Allocate_shared(max(nbytes, 1), 1, comm=node) for _ in range(2)]
        self.slots: list[list[np.ndarray]] = []
        for win in self.wins:
            win.Lock_all()
            per_rank = []
            for r in range(node.Get_size()):
                buf, _ = win.Shared_query(r)
                per_rank.append(np.frombuffer(buf, np.uint8, nbytes))
            self.slots.append(per_rank)

    def slot(self, generation: int, rank: int) -> np.ndarray:
        return self.slots[generation][rank]

    def fence(self) -> Request:
        for w in self.wins:
            w.Sync()  # this rank's writes reach the shared memory before the peers may read them
        return _FenceRequest(self.node.Ibarrier(), self.wins)

    def free(self) -> None:
        """Collective (with the communicator's ``free``)."""
        self.slots = []
        for w in self.wins:
            w.Unlock_all()
            w.Free()
        self.wins = []
        self.node.Free()
