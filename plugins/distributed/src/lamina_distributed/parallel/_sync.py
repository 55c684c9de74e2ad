"""What DDP does outside backward: check that every rank holds the same model, and broadcast rank
0's parameters and buffers (coalesced, one broadcast per dtype and device).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import lamina
from lamina import Tensor
from lamina.autograd.graph import increment_version

_DTYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128", "int8", "uint8", "int16",
           "int32", "int64", "bool")
_CODE_TO_NAME = {zlib.crc32(f"lamina.{n}".encode()): n for n in _DTYPES}


def _code(dtype: Any) -> int:
    return zlib.crc32(str(dtype).encode())


def _describe(row: list[int]) -> str:
    ndim, code = row[1], row[2]
    dtype = _CODE_TO_NAME.get(code, f"dtype#{code}")
    return f"shape {tuple(row[3:3 + ndim])} dtype {dtype}"


def verify_same_model(dist: Any, group: Any, names: Sequence[str], tensors: Sequence[Tensor]) -> None:
    """All_gather each rank's parameter count and (numel, ndim, dtype, *shape) rows; raise on any difference.

    Every rank raises the same error, naming the first parameter that differs and the ranks involved.
    """
    world, me = dist.get_world_size(group), dist.get_rank(group)
    head = lamina.tensor([len(tensors), max((t.ndim for t in tensors), default=0)], dtype=lamina.int64)
    heads = [lamina.zeros(2, dtype=lamina.int64) for _ in range(world)]
    dist.all_gather(heads, head, group=group)
    counts = [int(h[0].item()) for h in heads]
    width = 3 + max(int(h[1].item()) for h in heads)
    rows = max(counts)
    mine = [[t.numel(), t.ndim, _code(t.dtype), *t.shape] for t in tensors]
    mine = [row + [-1] * (width - len(row)) for row in mine] + [[-1] * width] * (max(rows, 1) - len(mine))
    table = lamina.tensor(mine, dtype=lamina.int64)
    tables = [lamina.zeros(table.shape, dtype=lamina.int64) for _ in range(world)]
    dist.all_gather(tables, table, group=group)
    got = [tb.tolist() for tb in tables]
    for i in range(rows):
        ref = got[0][i] if i < counts[0] else None
        for r in range(1, world):
            row = got[r][i] if i < counts[r] else None
            if row == ref:
                continue
            name = f" ({names[i]!r} on rank {me})" if i < len(names) else ""
            if ref is None or row is None:
                raise RuntimeError(
                    f"DistributedDataParallel: expected the same model on every rank, but rank 0 has {counts[0]} "
                    f"parameters and rank {r} has {counts[r]}; parameter {i}{name} exists on only one of them")
            raise RuntimeError(
                f"DistributedDataParallel: expected the same model on every rank, but parameter {i}{name} has "
                f"{_describe(ref)} on rank 0 and {_describe(row)} on rank {r}")


def broadcast_coalesced(dist: Any, group: Any, src: int, tensors: Sequence[Tensor], count_write: bool) -> None:
    """Overwrite ``tensors`` with ``src``'s values: one flat broadcast per (dtype, device).

    ``count_write=False`` leaves version counters alone (buffers, as torch does, so that a graph that
    saved a buffer still backwards after the sync).
    """
    groups: dict[tuple, list[Tensor]] = {}
    for t in tensors:
        groups.setdefault((str(t.dtype), str(t.device)), []).append(t)
    receiving = dist.get_rank() != src
    with lamina.no_grad():
        for ts in groups.values():
            flat = lamina.cat([t.detach().reshape(-1) for t in ts]) if len(ts) > 1 else ts[0].detach().flatten()
            if len(ts) == 1:
                flat = flat.clone()  # a reshape may share storage; the broadcast receives into a copy
            dist.broadcast(flat, src, group=group)
            if not receiving:
                continue
            off = 0
            for t in ts:
                n = t.numel()
                t.array[...] = flat.array[off:off + n].reshape(t.array.shape)
                off += n
                if count_write:
                    increment_version(t)
