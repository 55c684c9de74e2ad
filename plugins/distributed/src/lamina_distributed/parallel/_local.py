"""DDP's gradient averaging through shared memory, when every rank of the group is on this machine.

Each rank writes ``grad / world size`` of every parameter into its own slot of a shared window (the
copy DDP makes into its buckets anyway), the ranks meet in one fence, and each rank sums the ranks'
slots, in rank order, straight into its ``param.grad``: the all-reduce's messages and the copy back
from the buckets are gone. Every rank adds the same numbers in the same order, so the ranks' gradients
are bitwise equal. Two generations of slots alternate, so one fence per iteration is enough (a rank
that writes generation g again has passed the fence after which every peer finished reading it).

Used by default for CPU parameters with ``gradient_as_bucket_view=False`` (torch's default) when the
communicator offers shared slots (``LAMINA_DDP_SHARED_MEMORY=0`` turns it off: then MPI's all-reduce
runs); the other cases keep the bucket all-reduce.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from lamina import Tensor

ENV = "LAMINA_DDP_SHARED_MEMORY"
ALIGN = 64  # bytes: each parameter's slice starts on a cache line


def wanted() -> bool:
    return os.environ.get(ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def layout(params: Sequence[Tensor]) -> tuple[list[int], int]:
    """Byte offset of each parameter in a slot, and the slot's size."""
    offsets, n = [], 0
    for p in params:
        offsets.append(n)
        n += -(-p.numel() * p.element_size() // ALIGN) * ALIGN
    return offsets, n


class LocalSum:
    """Per-parameter views of the shared slots: ``target(i)`` is where this rank puts parameter i's share;
    ``meet()`` waits until every rank has written its shares; ``sum_into(i, grad)`` adds the ranks' shares
    into ``grad`` (or a new array). ``wait(request)`` completes a request within the group's timeout."""

    def __init__(self, slots: Any, params: Sequence[Tensor], offsets: Sequence[int], rank: int, world: int,
                 wait: Callable[[Any], None]) -> None:
        self.slots, self.rank, self.generation, self.wait = slots, rank, 0, wait
        self.views: list[list[list[np.ndarray]]] = []  # [generation][rank][param]
        for g in range(2):
            per_rank = []
            for r in range(world):
                raw = slots.slot(g, r)
                per_rank.append([raw[off:off + p.numel() * p.element_size()].view(p.array.dtype).reshape(p.shape)
                                 for p, off in zip(params, offsets)])
            self.views.append(per_rank)

    def target(self, i: int) -> np.ndarray:
        return self.views[self.generation][self.rank][i]

    def meet(self) -> None:
        """Every rank has written its shares of this generation (bounded by the group's timeout)."""
        self.wait(self.slots.fence())

    def sum_into(self, i: int, out: np.ndarray | None) -> np.ndarray:
        shares = [per_rank[i] for per_rank in self.views[self.generation]]
        out = np.add(shares[0], shares[1], out=out)
        for share in shares[2:]:
            np.add(out, share, out=out)
        return out

    def next_generation(self) -> None:
        self.generation ^= 1
