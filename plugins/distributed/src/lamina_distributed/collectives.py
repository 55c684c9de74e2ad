"""Collectives on lamina tensors, with torch.distributed's signatures and in-place results.

Each one checks its tensors (clear errors naming the collective), resolves the group (on a rank outside
it: torch's warning and nothing done), runs the DETAIL-mode fingerprint check, stages the tensors into
its communicator's buffers (``work.py``), starts the non-blocking operation and either returns the
``Work`` (``async_op=True``) or waits for it (bounded by the group's timeout). Ranks given as ``src``/
``dst`` are global; ``group_src``/``group_dst`` give them within the group instead.
"""

from __future__ import annotations

import datetime
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import lamina
import numpy as np
from lamina.errors import DeviceMismatchError, DTypeError, ShapeError

from . import _debug
from ._comm import RedOpType, ReduceOp, Request, as_red_op
from .process_group import ProcessGroup, get_rank, group_rank, resolve
from .work import Slot, Work, read_only, stage


class DTypeMismatchError(DTypeError, ValueError):
    """Tensors of one collective with different dtypes (a ValueError too, as torch's check raises)."""


class ReductionError(ValueError, RuntimeError):
    """A reduction the dtype has not (MIN on complex, ...): a ValueError as torch's all_reduce raises, and a
    RuntimeError as its reduce_scatter does."""


_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)
_NOT_COMPLEX = (RedOpType.PRODUCT, RedOpType.MIN, RedOpType.MAX, *_BITWISE)


# --- shared checks and plumbing (also used by p2p.py and objects.py) ------------------------------
def check_tensor(t: Any, name: str, fn: str) -> None:
    if not isinstance(t, lamina.Tensor):
        raise TypeError(f"{fn}: expected parameter `{name}` to be a lamina.Tensor, got {type(t).__name__}")


def check_tensor_list(ts: Any, name: str, fn: str, length: int | None = None) -> None:
    if not isinstance(ts, list) or not all(isinstance(t, lamina.Tensor) for t in ts):
        got = type(ts).__name__ if not isinstance(ts, list) else f"a list of {[type(t).__name__ for t in ts]}"
        raise TypeError(f"{fn}: expected parameter `{name}` to be a list of lamina.Tensor, got {got}")
    if length is not None and len(ts) != length:
        raise ShapeError(f"{fn}: expected `{name}` to hold {length} tensors (one per rank of the group), "
                         f"got {len(ts)}")


def check_like(fn: str, ref: Any, ts: Sequence[Any], name: str) -> None:
    """Every tensor of ``ts`` has ``ref``'s dtype and device."""
    for i, t in enumerate(ts):
        if t.dtype != ref.dtype:
            raise DTypeMismatchError(f"{fn}: expected every tensor of `{name}` to have dtype {ref.dtype} (the "
                                     f"input's), got {t.dtype} at index {i}")
        if t.device != ref.device:
            raise DeviceMismatchError(f"{fn}: expected every tensor on {ref.device} (the input's device), got "
                                      f"{t.device} for `{name}`[{i}]")


def check_numel(fn: str, what: str, t: Any, numel: int, why: str) -> None:
    if t.numel() != numel:
        raise ShapeError(f"{fn}: expected {what} with {numel} elements ({why}), got shape {tuple(t.shape)} "
                         f"({t.numel()} elements)")


def group_or_warn(group: Any, fn: str) -> ProcessGroup | None:
    """The group to run on; None (after torch's warning) on a rank outside it."""
    pg = resolve(group)
    if pg is None:
        warnings.warn(f"Running {fn} on global rank {get_rank()} which does not belong to the given group.",
                      stacklevel=3)
    return pg


def red_op(fn: str, op: Any, t: Any) -> RedOpType:
    """``op`` checked against ``t``'s dtype as torch does (AVG on integers, MIN on complex, ... raise)."""
    op = as_red_op(op, fn)
    dt = t.dtype
    if dt.is_complex and op in _NOT_COMPLEX:
        raise ReductionError(f"{fn} does not support ReduceOp.{op.name} on complex tensors (supported: SUM, AVG)")
    if op in _BITWISE and (dt.is_floating_point or dt.is_complex):
        raise DTypeError(f"{fn}: cannot use ReduceOp.{op.name} with non-integral dtype {dt} (BAND, BOR and BXOR "
                         f"take integer or bool tensors)")
    if op is RedOpType.AVG and not (dt.is_floating_point or dt.is_complex):
        raise DTypeError(f"{fn}: ReduceOp.AVG needs a floating-point or complex tensor (an average of {dt} "
                         f"values is not a {dt}), got dtype {dt}; use SUM and divide")
    return op


def finish(pg: ProcessGroup, fn: str, requests: list[Request], slots: list[Slot], outputs: list[Any],
           async_op: bool, before: Callable[[], None] | None = None, source: Callable[[], int] | None = None,
           timeout: datetime.timedelta | None = None) -> Work | None:
    work = Work(pg, fn, requests, slots, outputs, before, source, timeout)
    if async_op:
        pg.track(requests)
        return work
    work.wait()
    return None


def _desc(t: Any) -> str:
    return _debug.describe_tensor(t)


def _divider(array: Any, n: int) -> Callable[[], None]:
    def divide() -> None:
        np.true_divide(array, n, out=array, casting="unsafe")

    return divide


def _sum_for(op: RedOpType) -> RedOpType:
    return RedOpType.SUM if op is RedOpType.AVG else op


def _gathered(pg: ProcessGroup, fn: str, comm: Any, outs: Sequence[Any]) -> tuple[Any, list[Slot]]:
    """One staging buffer for a list of outputs, and a slot per output over its slice."""
    counts = [t.numel() for t in outs]
    big = comm.empty(sum(counts), outs[0].array.dtype)
    slots, at = [], 0
    for t, n in zip(outs, counts):
        slots.append(Slot(t, big[at:at + n], back=True, host_staged=t.device.type != comm.device_type))
        at += n
    return big, slots


def _concat(comm: Any, ts: Sequence[Any]) -> Any:
    parts = [read_only(t, comm.device_type) for t in ts]
    return np.concatenate(parts) if parts else comm.empty(0, np.float32)


def _unaliased(src: Any, dst: Any) -> Any:
    return src.copy() if np.may_share_memory(src, dst) else src


# --- the collectives -----------------------------------------------------------------------------
def all_reduce(tensor: Any, op: Any = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Reduce ``tensor`` over the group's ranks, in place on every rank. Shape: tensor (*) -> (*)."""
    fn = "all_reduce"
    check_tensor(tensor, "tensor", fn)
    pg = group_or_warn(group, fn)
    if pg is None:
        return None
    op = red_op(fn, op, tensor)
    _debug.check(pg, fn, f"{fn}({_desc(tensor)}, op={op.name})")
    comm = pg.communicator(tensor.device.type)
    slot = stage(tensor, comm.device_type)
    req = comm.allreduce(slot.array, _sum_for(op))
    before = _divider(slot.array, pg.size()) if op is RedOpType.AVG else None
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
    _debug.check(pg, fn, f"{fn}({_desc(tensor)}, src={root})")
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
    _debug.check(pg, fn, f"{fn}({_desc(tensor)}, dst={root}, op={op.name})")
    comm = pg.communicator(tensor.device.type)
    if pg.rank() != root:
        req = comm.reduce(read_only(tensor, comm.device_type), _sum_for(op), root)
        return finish(pg, fn, [req], [], [tensor], async_op)
    slot = stage(tensor, comm.device_type)
    before = _divider(slot.array, pg.size()) if op is RedOpType.AVG else None
    return finish(pg, fn, [comm.reduce(slot.array, _sum_for(op), root)], [slot], [tensor], async_op, before)


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
    big, slots = _gathered(pg, fn, comm, tensor_list)
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
    _debug.check(pg, fn, f"{fn}({_desc(output_tensor)}, {_desc(input_tensor)})")
    comm = pg.communicator(input_tensor.device.type)
    out = stage(output_tensor, comm.device_type, read=False)
    send = _unaliased(read_only(input_tensor, comm.device_type), out.array)
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
    _debug.check(pg, fn, f"{fn}({_desc(tensor)}, dst={root})")
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
    big, slots = _gathered(pg, fn, comm, gather_list)
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
    _debug.check(pg, fn, f"{fn}({_desc(tensor)}, src={root})")
    comm = pg.communicator(tensor.device.type)
    send = None
    if pg.rank() == root:
        if not scatter_list:
            raise ValueError(f"{fn}: argument `scatter_list` must be specified on the source rank ({root})")
        check_tensor_list(scatter_list, "scatter_list", fn, pg.size())
        check_like(fn, tensor, scatter_list, "scatter_list")
        for i, t in enumerate(scatter_list):
            check_numel(fn, f"scatter_list[{i}]", t, tensor.numel(), "the output tensor's")
        send = _concat(comm, scatter_list)
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
    req = comm.reduce_scatter(_concat(comm, input_list), out.array, counts, _sum_for(op))
    before = _divider(out.array, pg.size()) if op is RedOpType.AVG else None
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
    _debug.check(pg, fn, f"{fn}({_desc(output)}, {_desc(input)}, op={op.name})")
    comm = pg.communicator(output.device.type)
    out = stage(output, comm.device_type, read=False)
    send = _unaliased(read_only(input, comm.device_type), out.array)
    req = comm.reduce_scatter(send, out.array, [n] * pg.size(), _sum_for(op))
    before = _divider(out.array, pg.size()) if op is RedOpType.AVG else None
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
    big, slots = _gathered(pg, fn, comm, output_tensor_list)
    req = comm.alltoall(_concat(comm, input_tensor_list), [t.numel() for t in input_tensor_list], big,
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
    send = _unaliased(read_only(input, comm.device_type), out.array)
    return finish(pg, fn, [comm.alltoall(send, send_counts, out.array, recv_counts)], [out], [output], async_op)
