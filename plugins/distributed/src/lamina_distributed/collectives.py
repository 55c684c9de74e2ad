"""Collectives on lamina tensors, with torch.distributed's signatures and in-place results.

Each one checks its tensors (clear errors naming the collective), resolves the group (on a rank outside
it: torch's warning and nothing done), runs the DETAIL-mode fingerprint check, stages the tensors into
its communicator's buffers (``work.py``), starts the non-blocking operation and either returns the
``Work`` (``async_op=True``) or waits for it (bounded by the group's timeout). Ranks given as ``src``/
``dst`` are global; ``group_src``/``group_dst`` give them within the group instead.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import numpy as np
from lamina.errors import ShapeError

from . import _debug
from ._checks import (
    check_like,
    check_numel,
    check_tensor,
    check_tensor_list,
    concat,
    desc,
    divider,
    finish,
    gathered,
    group_or_warn,
    red_op,
    sum_for,
    unaliased,
)
from ._comm import RedOpType, ReduceOp
from .process_group import group_rank
from .work import Work, read_only, stage


def all_reduce(tensor: Any, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` over the group's ranks, in place on every rank. Shape: tensor (*) -> (*)."""
    fn = "all_reduce"
    check_tensor(tensor, "tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    op = red_op(fn, op, tensor)
    _debug.check(pg, fn, f"{fn}({desc(tensor)}, op={op.name})")
    comm = pg.communicator(tensor.device.type)
    slot = stage(tensor, comm.device_type)
    req = comm.allreduce(slot.array, sum_for(op))
    before = divider(slot.array, pg.size()) if op is RedOpType.AVG else None
    return finish(pg, fn, [req], [slot], [tensor], async_op, before)


def broadcast(tensor: Any, src: int | None = None, group: Any = None, async_op: bool = False,
              group_src: int | None = None) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into every rank's ``tensor``. Shape: tensor (*) -> (*)."""
    fn = "broadcast"
    check_tensor(tensor, "tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    root = group_rank(pg, src, group_src, fn, "src")
    _debug.check(pg, fn, f"{fn}({desc(tensor)}, src={root})")
    comm = pg.communicator(tensor.device.type)
    if pg.rank() == root:
        return finish(pg, fn, [comm.bcast(read_only(tensor, comm.device_type), root)], [], [tensor], async_op)
    slot = stage(tensor, comm.device_type, read=False)
    return finish(pg, fn, [comm.bcast(slot.array, root)], [slot], [tensor], async_op)


def reduce(tensor: Any, dst: int | None = None, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False,
           group_dst: int | None = None) -> Work | None:
    """Reduce ``tensor`` over the ranks into rank ``dst``'s ``tensor`` (the others' stay as they are)."""
    fn = "reduce"
    check_tensor(tensor, "tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    root = group_rank(pg, dst, group_dst, fn, "dst")
    op = red_op(fn, op, tensor)
    _debug.check(pg, fn, f"{fn}({desc(tensor)}, dst={root}, op={op.name})")
    comm = pg.communicator(tensor.device.type)
    if pg.rank() != root:
        req = comm.reduce(read_only(tensor, comm.device_type), sum_for(op), root)
        return finish(pg, fn, [req], [], [tensor], async_op)
    slot = stage(tensor, comm.device_type)
    before = divider(slot.array, pg.size()) if op is RedOpType.AVG else None
    return finish(pg, fn, [comm.reduce(slot.array, sum_for(op), root)], [slot], [tensor], async_op, before)


def all_gather(tensor_list: list[Any], tensor: Any, group: Any = None, async_op: bool = False) -> Work | None:
    """Every rank's ``tensor`` into ``tensor_list[r]`` on every rank. Shape: tensor_list[r] has rank r's numel."""
    fn = "all_gather"
    check_tensor(tensor, "tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    check_tensor_list(tensor_list, "tensor_list", fn, pg.size())
    check_like(fn, tensor, tensor_list, "tensor_list")
    check_numel(fn, f"tensor_list[{pg.rank()}] (this rank's slot)", tensor_list[pg.rank()], tensor.numel(),
                "the input tensor's")
    _debug.check(pg, fn, f"{fn}({tensor.dtype.name}, {[t.numel() for t in tensor_list]})")
    comm = pg.communicator(tensor.device.type)
    big, slots = gathered(pg, fn, comm, tensor_list)
    req = comm.allgather(read_only(tensor, comm.device_type), big, [t.numel() for t in tensor_list])
    return finish(pg, fn, [req], slots, tensor_list, async_op)


def all_gather_into_tensor(output_tensor: Any, input_tensor: Any, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """Every rank's input, rank-major, into ``output_tensor``. Shape: input (*) -> output (size * numel) elements,
    e.g. (size * N, ...) or (size, N, ...)."""
    fn = "all_gather_into_tensor"
    check_tensor(output_tensor, "output_tensor", fn)
    check_tensor(input_tensor, "input_tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    check_like(fn, input_tensor, [output_tensor], "output_tensor")
    n = input_tensor.numel()
    check_numel(fn, "output_tensor", output_tensor, pg.size() * n, f"world size {pg.size()} x the input's {n}")
    _debug.check(pg, fn, f"{fn}({desc(output_tensor)}, {desc(input_tensor)})")
    comm = pg.communicator(input_tensor.device.type)
    out = stage(output_tensor, comm.device_type, read=False)
    send = unaliased(read_only(input_tensor, comm.device_type), out.array)
    return finish(pg, fn, [comm.allgather(send, out.array, [n] * pg.size())], [out], [output_tensor], async_op)


def gather(tensor: Any, gather_list: list[Any] | None = None, dst: int | None = None, group: Any = None,
           async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Every rank's ``tensor`` into ``gather_list`` on rank ``dst`` (default 0), which alone passes the list."""
    fn = "gather"
    check_tensor(tensor, "tensor", fn)
    if gather_list:
        check_tensor_list(gather_list, "gather_list", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    root = group_rank(pg, 0 if dst is None and group_dst is None else dst, group_dst, fn, "dst")
    _debug.check(pg, fn, f"{fn}({desc(tensor)}, dst={root})")
    comm = pg.communicator(tensor.device.type)
    send = read_only(tensor, comm.device_type)
    if pg.rank() != root:
        if gather_list:
            raise ValueError(f"{fn}: argument `gather_list` must NOT be specified on non-destination ranks")
        return finish(pg, fn, [comm.gather(send, None, root)], [], [], async_op)
    if not gather_list:
        raise ValueError(f"{fn}: argument `gather_list` must be specified on the destination rank ({root})")
    check_tensor_list(gather_list, "gather_list", fn, pg.size())
    check_like(fn, tensor, gather_list, "gather_list")
    for i, t in enumerate(gather_list):
        check_numel(fn, f"gather_list[{i}]", t, tensor.numel(), "the input tensor's")
    big, slots = gathered(pg, fn, comm, gather_list)
    return finish(pg, fn, [comm.gather(send, big, root)], slots, gather_list, async_op)


def scatter(tensor: Any, scatter_list: list[Any] | None = None, src: int | None = None, group: Any = None,
            async_op: bool = False, group_src: int | None = None) -> Work | None:
    """``scatter_list[r]`` on rank ``src`` (default 0) into rank r's ``tensor``."""
    fn = "scatter"
    check_tensor(tensor, "tensor", fn)
    if scatter_list:
        check_tensor_list(scatter_list, "scatter_list", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    root = group_rank(pg, 0 if src is None and group_src is None else src, group_src, fn, "src")
    _debug.check(pg, fn, f"{fn}({desc(tensor)}, src={root})")
    comm = pg.communicator(tensor.device.type)
    send = None
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError(f"{fn}: argument `scatter_list` must be specified on the source rank ({root})")
        check_tensor_list(scatter_list, "scatter_list", fn, pg.size())
        check_like(fn, tensor, scatter_list, "scatter_list")
        for i, t in enumerate(scatter_list):
            check_numel(fn, f"scatter_list[{i}]", t, tensor.numel(), "the output tensor's")
        send = concat(comm, scatter_list)
    elif scatter_list:
        raise ValueError(f"{fn}: argument `scatter_list` must NOT be specified on non-source ranks")
    out = stage(tensor, comm.device_type, read=False)
    return finish(pg, fn, [comm.scatter(send, out.array, root)], [out], [tensor], async_op)


def reduce_scatter(output: Any, input_list: list[Any], op: Any = ReduceOp.SUM, group: Any = None,
                   async_op: bool = False) -> Work | None:
    """Reduce ``input_list[r]`` over the ranks into rank r's ``output``."""
    fn = "reduce_scatter"
    check_tensor(output, "output", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    check_tensor_list(input_list, "input_list", fn, pg.size())
    check_like(fn, output, input_list, "input_list")
    op = red_op(fn, op, output)
    check_numel(fn, f"input_list[{pg.rank()}] (this rank's block)", input_list[pg.rank()], output.numel(),
                "the output tensor's")
    counts = [t.numel() for t in input_list]
    _debug.check(pg, fn, f"{fn}({output.dtype.name}, {counts}, op={op.name})")
    comm = pg.communicator(output.device.type)
    out = stage(output, comm.device_type, read=False)
    req = comm.reduce_scatter(concat(comm, input_list), out.array, counts, sum_for(op))
    before = divider(out.array, pg.size()) if op is RedOpType.AVG else None
    return finish(pg, fn, [req], [out], [output], async_op, before)


def reduce_scatter_tensor(output: Any, input: Any, op: Any = ReduceOp.SUM, group: Any = None,  # noqa: A002
                          async_op: bool = False) -> Work | None:
    """Reduce ``input`` over the ranks; block r (rank-major) into rank r's ``output``.
    Shape: input (size * numel(output)) elements -> output (*)."""
    fn = "reduce_scatter_tensor"
    check_tensor(output, "output", fn)
    check_tensor(input, "input", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    check_like(fn, output, [input], "input")
    op = red_op(fn, op, output)
    n = output.numel()
    check_numel(fn, "input", input, pg.size() * n, f"world size {pg.size()} x the output's {n}")
    _debug.check(pg, fn, f"{fn}({desc(output)}, {desc(input)}, op={op.name})")
    comm = pg.communicator(output.device.type)
    out = stage(output, comm.device_type, read=False)
    send = unaliased(read_only(input, comm.device_type), out.array)
    req = comm.reduce_scatter(send, out.array, [n] * pg.size(), sum_for(op))
    before = divider(out.array, pg.size()) if op is RedOpType.AVG else None
    return finish(pg, fn, [req], [out], [output], async_op, before)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None,
            timeout: datetime.timedelta | None = None) -> Work | None:
    """Wait until every rank of the group has reached it (bounded by ``timeout``, default the group's)."""
    fn = "barrier"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{fn}: expected timeout to be a datetime.timedelta, got {timeout!r}")
    _debug.check(pg, fn, f"{fn}()")
    return finish(pg, fn, [pg.host.barrier()], [], [], async_op, timeout=timeout)


def all_to_all(output_tensor_list: list[Any], input_tensor_list: list[Any], group: Any = None,
               async_op: bool = False) -> Work | None:
    """``input_tensor_list[r]`` goes to rank r, which receives it into ``output_tensor_list[this rank]``."""
    fn = "all_to_all"
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    check_tensor_list(output_tensor_list, "output_tensor_list", fn, pg.size())
    check_tensor_list(input_tensor_list, "input_tensor_list", fn, pg.size())
    ref = input_tensor_list[0]
    check_like(fn, ref, input_tensor_list, "input_tensor_list")
    check_like(fn, ref, output_tensor_list, "output_tensor_list")
    _debug.check(pg, fn, f"{fn}({ref.dtype.name})")
    comm = pg.communicator(ref.device.type)
    big, slots = gathered(pg, fn, comm, output_tensor_list)
    req = comm.alltoall(concat(comm, input_tensor_list), [t.numel() for t in input_tensor_list], big,
                        [t.numel() for t in output_tensor_list])
    return finish(pg, fn, [req], slots, output_tensor_list, async_op)


def _splits(fn: str, name: str, t: Any, splits: Sequence[int] | None, size: int) -> list[int]:
    rows = t.shape[0] if t.ndim else 1
    if splits is None:
        if rows % size:
            raise ShapeError(f"{fn}: without {name}, dim 0 of the tensor ({rows}) must be divisible by the world "
                             f"size {size}")
        return [rows // size] * size
    splits = list(splits)
    if len(splits) != size or any(not isinstance(s, int) or s < 0 for s in splits) or sum(splits) != rows:
        raise ShapeError(f"{fn}: expected {name} to be {size} non-negative ints summing to dim 0 of the tensor "
                         f"({rows}), got {splits}")
    return splits


def all_to_all_single(output: Any, input: Any, output_split_sizes: list[int] | None = None,  # noqa: A002
                      input_split_sizes: list[int] | None = None, group: Any = None,
                      async_op: bool = False) -> Work | None:
    """Split ``input`` along dim 0 (``input_split_sizes``, default equal), send block r to rank r, and
    concatenate what arrives into ``output`` (``output_split_sizes``). Shape: input (N, *) -> output (M, *)."""
    fn = "all_to_all_single"
    check_tensor(output, "output", fn)
    check_tensor(input, "input", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    check_like(fn, input, [output], "output")
    if tuple(output.shape[1:]) != tuple(input.shape[1:]):
        raise ShapeError(f"{fn}: expected output and input to agree beyond dim 0, got output "
                         f"{tuple(output.shape)} and input {tuple(input.shape)}")
    row = int(np.prod(input.shape[1:], dtype=np.int64)) if input.ndim > 1 else 1
    send_counts = [s * row for s in _splits(fn, "input_split_sizes", input, input_split_sizes, pg.size())]
    recv_counts = [s * row for s in _splits(fn, "output_split_sizes", output, output_split_sizes, pg.size())]
    _debug.check(pg, fn, f"{fn}({input.dtype.name}, {list(input.shape[1:])})")
    comm = pg.communicator(input.device.type)
    out = stage(output, comm.device_type, read=False)
    send = unaliased(read_only(input, comm.device_type), out.array)
    return finish(pg, fn, [comm.alltoall(send, send_counts, out.array, recv_counts)], [out], [output], async_op)
