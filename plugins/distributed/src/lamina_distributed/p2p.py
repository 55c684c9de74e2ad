"""Point-to-point: ``send``/``recv`` (any source), ``isend``/``irecv``, ``batch_isend_irecv`` with ``P2POp``,
and ``monitored_barrier`` (built on messages to and from rank 0, so it can name the ranks that are late).

Tags are the caller's (0 by default); the largest MPI tag is reserved for ``monitored_barrier``, the one
below for ``new_group(use_local_synchronization=True)``.
"""

from __future__ import annotations

import datetime
import warnings
from typing import Any

import numpy as np

from ._checks import check_tensor, finish, group_or_warn
from ._comm import DistBackendError, wait
from .process_group import ProcessGroup, group_rank
from .work import Work, read_only, stage


def _tag(pg: ProcessGroup, tag: Any, fn: str) -> int:
    top = getattr(pg.host, "max_tag", 32767) - 1
    if not isinstance(tag, int) or isinstance(tag, bool) or not 0 <= tag < top:
        raise RuntimeError(f"{fn}: expected tag to be an int in [0, {top}) (MPI's tag bound, less the two tags "
                           f"that monitored_barrier and new_group reserve), got {tag!r}")
    return tag


def _not_self(pg: ProcessGroup, peer: int, what: str) -> None:
    if peer == pg.rank():
        raise ValueError(f"Invalid {what} rank: {what} rank should not be the same as the rank of the current process.")


def isend(tensor: Any, dst: int | None = None, group: Any = None, tag: int = 0,
          group_dst: int | None = None) -> Work | None:
    """Start sending ``tensor`` to rank ``dst``; the Work completes once the buffer may be reused."""
    fn = "isend"
    check_tensor(tensor, "tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    peer = group_rank(pg, dst, group_dst, fn, "dst")
    comm = pg.communicator(tensor.device.type)
    req = comm.isend(read_only(tensor, comm.device_type), peer, _tag(pg, tag, fn))
    return finish(pg, fn, [req], [], [tensor], True)


def irecv(tensor: Any, src: int | None = None, group: Any = None, tag: int = 0,
          group_src: int | None = None) -> Work | None:
    """Start receiving into ``tensor`` from rank ``src`` (None: any rank; ``Work.source_rank()`` tells which)."""
    fn = "irecv"
    check_tensor(tensor, "tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    peer = None if src is None and group_src is None else group_rank(pg, src, group_src, fn, "src")
    comm = pg.communicator(tensor.device.type)
    slot = stage(tensor, comm.device_type, read=False)
    req = comm.irecv(slot.array, peer, _tag(pg, tag, fn))
    return finish(pg, fn, [req], [slot], [tensor], True, source=lambda: pg._ranks[req.source()])


def send(tensor: Any, dst: int | None = None, group: Any = None, tag: int = 0, group_dst: int | None = None) -> None:
    """Send ``tensor`` to rank ``dst`` and wait until it is on its way."""
    check_tensor(tensor, "tensor", "send")
    pg = group_or_warn(group, "send")
    if pg is None:
        return None
    peer = group_rank(pg, dst, group_dst, "send", "dst")
    _not_self(pg, peer, "destination")
    work = isend(tensor, group=pg, tag=tag, group_dst=peer)
    if work is not None:
        work.wait()


def recv(tensor: Any, src: int | None = None, group: Any = None, tag: int = 0, group_src: int | None = None) -> int:
    """Receive into ``tensor`` from rank ``src`` (None: any rank); returns the sender's global rank (-1 outside
    the group)."""
    check_tensor(tensor, "tensor", "recv")
    pg = group_or_warn(group, "recv")
    if pg is None:
        return -1
    if src is not None or group_src is not None:
        peer = group_rank(pg, src, group_src, "recv", "src")
        _not_self(pg, peer, "source")
        src, group_src = None, peer
    work = irecv(tensor, src, pg, tag, group_src)
    assert work is not None
    work.wait()
    return work.source_rank()


class P2POp:
    """One operation for ``batch_isend_irecv``: ``op`` is ``isend`` or ``irecv``, ``peer`` a global rank."""

    def __init__(self, op: Any, tensor: Any, peer: int | None = None, group: Any = None, tag: int = 0,
                 group_peer: int | None = None) -> None:
        if op not in (isend, irecv):
            raise ValueError("Invalid ``op``. Expected ``op`` to be of type ``lamina.distributed.isend`` or "
                             f"``lamina.distributed.irecv``, got {op!r}")
        check_tensor(tensor, "tensor", "P2POp")
        if peer is None and group_peer is None:
            raise ValueError("P2POp: must specify peer or group_peer")
        self.op, self.tensor, self.peer, self.group = op, tensor, peer, group
        self.tag, self.group_peer = tag, group_peer

    def __repr__(self) -> str:
        return f"P2POp({self.op.__name__}, peer={self.peer}, tag={self.tag})"


def batch_isend_irecv(p2p_op_list: list[P2POp]) -> list[Work]:
    """Start every operation of ``p2p_op_list`` (all on one group); returns their Works, in order."""
    fn = "batch_isend_irecv"
    if not isinstance(p2p_op_list, list) or not p2p_op_list or not all(isinstance(p, P2POp) for p in p2p_op_list):
        raise ValueError(f"{fn}: expected a non-empty list of P2POp, got {p2p_op_list!r}")
    if len({id(p.group) for p in p2p_op_list}) != 1:
        raise ValueError(f"{fn}: all ops need to use the same group")
    works = []
    for p in p2p_op_list:
        if p.op is isend:
            w = isend(p.tensor, p.peer, p.group, p.tag, p.group_peer)
        else:
            w = irecv(p.tensor, p.peer, p.group, p.tag, p.group_peer)
        if w is not None:
            works.append(w)
    return works


def monitored_barrier(group: Any = None, timeout: Any = None, wait_all_ranks: bool = False) -> None:
    """A barrier that names the late ranks: rank 0 waits for each rank's message until ``timeout`` (default:
    the group's) and raises DistBackendError naming the first rank that did not arrive (all, with
    ``wait_all_ranks=True``); then it releases the others."""
    fn = "monitored_barrier"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    if timeout is None:
        timeout = pg.timeout
    elif isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        warnings.warn(f"{fn}: please specify timeout as a datetime.timedelta; taking {timeout} as seconds",
                      stacklevel=2)
        timeout = datetime.timedelta(seconds=timeout)
    if not isinstance(timeout, datetime.timedelta) or timeout.total_seconds() <= 0:
        raise TypeError(f"{fn}: expected timeout to be a positive datetime.timedelta, got {timeout!r}")
    comm, tag = pg.host, getattr(pg.host, "max_tag", 32767)
    if pg.rank() != 0:
        token, release = np.zeros(1, np.uint8), np.zeros(1, np.uint8)
        pg.wait([comm.isend(token, 0, tag), comm.irecv(release, 0, tag)], f"{fn} (waiting for rank 0)", timeout)
        return None
    others = list(range(1, pg.size()))
    tokens = np.zeros(max(len(others), 1), np.uint8)
    arrivals = [comm.irecv(tokens[i:i + 1], r, tag) for i, r in enumerate(others)]

    def late() -> DistBackendError:
        missing = [r for r, q in zip(others, arrivals) if not q.test()]
        named = missing if wait_all_ranks else missing[:1]
        who = ", ".join(f"{r} (global rank {pg._ranks[r]})" for r in named)
        return DistBackendError(f"{fn}: rank{'s' if len(named) > 1 else ''} {who} failed to pass monitored_barrier "
                                f"within {timeout} in process group {pg.name()!r} of size {pg.size()}")

    wait(arrivals, timeout.total_seconds(), late)
    pg.wait([comm.isend(tokens[i:i + 1], r, tag) for i, r in enumerate(others)], f"{fn} (releasing the ranks)",
            timeout)
    return None
