"""The checks and plumbing every tensor collective shares: argument checks with torch's exception types
(and lamina's: ShapeError, DTypeError), the group (or torch's non-member warning), reduction ops against
dtypes, and finishing a started operation (a Work for ``async_op=True``, else waited for).
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
from ._comm import RedOpType, Request, as_red_op
from .process_group import ProcessGroup, get_rank, resolve
from .work import Slot, Work, read_only


class DTypeMismatchError(DTypeError, ValueError):
    """Tensors of one collective with different dtypes (a ValueError too, as torch's check raises)."""


class ReductionError(ValueError, RuntimeError):
    """A reduction the dtype has not (MIN on complex, ...): a ValueError as torch's all_reduce raises, and a
    RuntimeError as its reduce_scatter does."""


_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)
_NOT_COMPLEX = (RedOpType.PRODUCT, RedOpType.MIN, RedOpType.MAX, *_BITWISE)


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


def desc(t: Any) -> str:
    return _debug.describe_tensor(t)


def divider(array: Any, n: int) -> Callable[[], None]:
    def divide() -> None:
        np.true_divide(array, n, out=array, casting="unsafe")

    return divide


def sum_for(op: RedOpType) -> RedOpType:
    return RedOpType.SUM if op is RedOpType.AVG else op


def gathered(pg: ProcessGroup, fn: str, comm: Any, outs: Sequence[Any]) -> tuple[Any, list[Slot]]:
    """One staging buffer for a list of outputs, and a slot per output over its slice."""
    counts = [t.numel() for t in outs]
    big = comm.empty(sum(counts), outs[0].array.dtype)
    slots, at = [], 0
    for t, n in zip(outs, counts):
        slots.append(Slot(t, big[at:at + n], back=True, host_staged=t.device.type != comm.device_type))
        at += n
    return big, slots


def concat(comm: Any, ts: Sequence[Any]) -> Any:
    parts = [read_only(t, comm.device_type) for t in ts]
    return np.concatenate(parts) if parts else comm.empty(0, np.float32)


def unaliased(src: Any, dst: Any) -> Any:
    return src.copy() if np.may_share_memory(src, dst) else src
