"""Collectives of picklable Python objects: ``all_gather_object``, ``broadcast_object_list``,
``gather_object``, ``scatter_object_list``, ``send_object_list`` / ``recv_object_list``.

TRUSTED PEERS ONLY: objects travel as pickles, and unpickling runs code chosen by the rank that
pickled it. Use these only among the ranks of your own job, never with data from elsewhere.

Each object becomes a uint8 buffer; sizes travel first, then the bytes, over the group's MPI
communicator (its buffer interface: no second pickle), bounded by the group's timeout.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np

from . import _debug
from ._checks import group_or_warn
from ._comm import Request
from .process_group import ProcessGroup, group_rank


def _dumps(obj: Any) -> np.ndarray:
    return np.frombuffer(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), np.uint8)


def _loads(buf: np.ndarray) -> Any:
    return pickle.loads(buf.tobytes())  # noqa: S301  (trusted peers only; see the module docstring)


def _unpack_into(out: list[Any], data: np.ndarray, sizes: Any) -> None:
    """``out[i]`` = the object pickled in the i-th run of ``sizes[i]`` bytes of ``data`` (runs back to back)."""
    at = 0
    for i, n in enumerate(sizes):
        out[i] = _loads(data[at:at + n])
        at += int(n)


def _run(pg: ProcessGroup, fn: str, *requests: Request) -> None:
    pg.wait(list(requests), fn)


def _check_list(fn: str, name: str, value: Any, length: int | None = None) -> None:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        want = f"a list of {length} objects (one per rank of the group)" if length is not None else "a list"
        got = f"a list of {len(value)}" if isinstance(value, list) else type(value).__name__
        raise ValueError(f"{fn}: expected `{name}` to be {want}, got {got}")


def _padded(parts: list[np.ndarray], width: int) -> np.ndarray:
    out = np.zeros(len(parts) * width, np.uint8)
    for i, p in enumerate(parts):
        out[i * width:i * width + p.size] = p
    return out


def all_gather_object(object_list: list[Any], obj: Any, group: Any = None) -> None:
    """Every rank's ``obj`` into ``object_list[r]`` (a list of the group's size) on every rank. Pickles: trusted
    peers only."""
    fn = "all_gather_object"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    _check_list(fn, "object_list", object_list, pg.size())
    _debug.check(pg, fn, f"{fn}()")
    comm, data = pg.host, _dumps(obj)
    sizes = np.empty(pg.size(), np.int64)
    _run(pg, fn, comm.allgather(np.array([data.size], np.int64), sizes, [1] * pg.size()))
    everyone = np.empty(int(sizes.sum()), np.uint8)
    _run(pg, fn, comm.allgather(data, everyone, [int(s) for s in sizes]))
    _unpack_into(object_list, everyone, sizes)
    return None


def broadcast_object_list(object_list: list[Any], src: int | None = None, group: Any = None, device: Any = None,
                          group_src: int | None = None) -> None:
    """Rank ``src``'s (default 0) ``object_list`` items into every rank's list of the same length. Pickles:
    trusted peers only."""
    fn = "broadcast_object_list"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    root = group_rank(pg, 0 if src is None and group_src is None else src, group_src, fn, "src")
    _check_list(fn, "object_list", object_list)
    _debug.check(pg, fn, f"{fn}(len={len(object_list)}, src={root})")
    comm = pg.host
    parts = [_dumps(o) for o in object_list] if pg.rank() == root else []
    sizes = np.array([p.size for p in parts], np.int64) if parts else np.empty(len(object_list), np.int64)
    _run(pg, fn, comm.bcast(sizes, root))
    data = np.concatenate(parts) if parts else np.empty(int(sizes.sum()), np.uint8)
    _run(pg, fn, comm.bcast(data, root))
    if pg.rank() != root:
        _unpack_into(object_list, data, sizes)
    return None


def gather_object(obj: Any, object_gather_list: list[Any] | None = None, dst: int | None = None, group: Any = None,
                  group_dst: int | None = None) -> None:
    """Every rank's ``obj`` into ``object_gather_list`` on rank ``dst`` (default 0; None elsewhere). Pickles:
    trusted peers only."""
    fn = "gather_object"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    root = group_rank(pg, 0 if dst is None and group_dst is None else dst, group_dst, fn, "dst")
    if pg.rank() == root:
        _check_list(fn, "object_gather_list", object_gather_list, pg.size())
    elif object_gather_list is not None:
        raise ValueError(f"{fn}: argument `object_gather_list` must NOT be specified on non-destination ranks")
    _debug.check(pg, fn, f"{fn}(dst={root})")
    comm, data = pg.host, _dumps(obj)
    sizes = np.empty(pg.size(), np.int64)
    _run(pg, fn, comm.allgather(np.array([data.size], np.int64), sizes, [1] * pg.size()))
    width = int(sizes.max())
    everyone = np.empty(width * pg.size(), np.uint8) if pg.rank() == root else None
    _run(pg, fn, comm.gather(_padded([data], width), everyone, root))
    if everyone is not None and object_gather_list is not None:
        for r, n in enumerate(sizes):
            object_gather_list[r] = _loads(everyone[r * width:r * width + n])
    return None


def scatter_object_list(scatter_object_output_list: list[Any], scatter_object_input_list: list[Any] | None = None,
                        src: int | None = None, group: Any = None, group_src: int | None = None) -> None:
    """``scatter_object_input_list[r]`` on rank ``src`` (default 0) into rank r's
    ``scatter_object_output_list[0]``. Pickles: trusted peers only."""
    fn = "scatter_object_list"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    root = group_rank(pg, 0 if src is None and group_src is None else src, group_src, fn, "src")
    if not isinstance(scatter_object_output_list, list) or not scatter_object_output_list:
        raise ValueError(f"{fn}: expected argument scatter_object_output_list to be a list of size at least 1, "
                         f"got {scatter_object_output_list!r}")
    _debug.check(pg, fn, f"{fn}(src={root})")
    comm, size = pg.host, pg.size()
    sizes = np.empty(size, np.int64)
    if pg.rank() == root:
        if scatter_object_input_list is None:
            raise ValueError(f"{fn}: the source rank ({root}) must provide scatter_object_input_list")
        _check_list(fn, "scatter_object_input_list", scatter_object_input_list, size)
        parts = [_dumps(o) for o in scatter_object_input_list]
        sizes[:] = [p.size for p in parts]
    _run(pg, fn, comm.bcast(sizes, root))
    width = int(sizes.max())
    send = _padded(parts, width) if pg.rank() == root else None
    mine = np.empty(width, np.uint8)
    _run(pg, fn, comm.scatter(send, mine, root))
    scatter_object_output_list[0] = _loads(mine[:sizes[pg.rank()]])
    return None


def send_object_list(object_list: list[Any], dst: int | None = None, group: Any = None, device: Any = None,
                     group_dst: int | None = None, use_batch: bool = False) -> None:
    """Send ``object_list``'s items to rank ``dst`` (which calls ``recv_object_list`` with a list of the same
    length). Pickles: trusted peers only."""
    fn = "send_object_list"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    peer = group_rank(pg, dst, group_dst, fn, "dst")
    if peer == pg.rank():
        raise ValueError(f"{fn}: Invalid destination rank: destination rank should not be the same as the rank of "
                         "the current process.")
    _check_list(fn, "object_list", object_list)
    parts = [_dumps(o) for o in object_list]
    sizes = np.array([p.size for p in parts], np.int64)
    data = np.concatenate(parts) if parts else np.empty(0, np.uint8)
    _run(pg, fn, pg.host.isend(sizes, peer, 0), pg.host.isend(data, peer, 0))
    return None


def recv_object_list(object_list: list[Any], src: int | None = None, group: Any = None, device: Any = None,
                     group_src: int | None = None, use_batch: bool = False) -> int:
    """Receive rank ``src``'s ``send_object_list`` into ``object_list`` (same length); returns the sender's
    global rank (-1 outside the group). Pickles: trusted peers only."""
    fn = "recv_object_list"
    pg = group_or_warn(group, fn)
    if pg is None:
        return -1
    peer = group_rank(pg, src, group_src, fn, "src")
    if peer == pg.rank():
        raise ValueError(f"{fn}: Invalid source rank: source rank should not be the same as the rank of the "
                         "current process.")
    _check_list(fn, "object_list", object_list)
    sizes = np.empty(len(object_list), np.int64)
    _run(pg, fn, pg.host.irecv(sizes, peer, 0))
    data = np.empty(int(sizes.sum()), np.uint8)
    _run(pg, fn, pg.host.irecv(data, peer, 0))
    _unpack_into(object_list, data, sizes)
    return pg._ranks[peer]
