"""Debug mode: ``TORCH_DISTRIBUTED_DEBUG=DETAIL`` (or ``LAMINA_DISTRIBUTED_DEBUG=DETAIL``).

In DETAIL mode every collective first all-gathers a small fingerprint of the call (the collective's
name, its tensors' shapes and dtypes, its root and op) over the group, and raises on every rank, naming
the collective and the ranks that disagree, instead of hanging or mixing up buffers. The level is read
from the environment by ``init_process_group`` (LAMINA_ first, then TORCH_); ``set_debug_level``
changes it at run time. Point-to-point operations are not checked (their two sides differ by design).
"""

from __future__ import annotations

import enum
import hashlib
import os
from typing import Any

import numpy as np

from ._comm import DistError

ENV_VARS = ("LAMINA_DISTRIBUTED_DEBUG", "TORCH_DISTRIBUTED_DEBUG")
RECORD = 96  # bytes per rank: an 8-byte digest of the whole description, then its first 88 bytes


class DebugLevel(enum.IntEnum):
    """torch.distributed.DebugLevel: OFF, INFO, DETAIL (only DETAIL adds checks here)."""

    OFF = 0
    INFO = 1
    DETAIL = 2


_level = [DebugLevel.OFF]


def get_debug_level() -> DebugLevel:
    return _level[0]


def set_debug_level(level: DebugLevel | str) -> None:
    """Set the level: a :class:`DebugLevel` or its name (``"DETAIL"``)."""
    if isinstance(level, str):
        if level.upper() not in DebugLevel.__members__:
            raise ValueError(f"set_debug_level: expected one of {list(DebugLevel.__members__)}, got {level!r}")
        level = DebugLevel[level.upper()]
    if not isinstance(level, DebugLevel):
        raise TypeError(f"set_debug_level: expected a DebugLevel or its name, got {level!r}")
    _level[0] = level


def set_debug_level_from_env() -> None:
    """Read LAMINA_DISTRIBUTED_DEBUG, else TORCH_DISTRIBUTED_DEBUG (unset: OFF)."""
    for var in ENV_VARS:
        value = os.environ.get(var)
        if value:
            if value.upper() not in DebugLevel.__members__:
                raise ValueError(f"{var}: expected one of {list(DebugLevel.__members__)}, got {value!r}")
            _level[0] = DebugLevel[value.upper()]
            return
    _level[0] = DebugLevel.OFF


def describe_tensor(t: Any) -> str:
    return f"{t.dtype.name}{list(t.shape)}"


def _record(desc: str) -> np.ndarray:
    raw = desc.encode()
    out = np.zeros(RECORD, np.uint8)
    out[:8] = np.frombuffer(hashlib.blake2b(raw, digest_size=8).digest(), np.uint8)
    text = raw[:RECORD - 8]
    out[8:8 + len(text)] = np.frombuffer(text, np.uint8)
    return out


def _text(row: np.ndarray) -> str:
    return bytes(row[8:]).rstrip(b"\0").decode(errors="replace")


def check(pg: Any, fn: str, desc: str) -> None:
    """In DETAIL mode, check that every rank of ``pg`` calls ``fn`` with the same ``desc``; else return."""
    if _level[0] is not DebugLevel.DETAIL:
        return
    host = pg.host
    mine = _record(desc)
    everyone = np.empty(RECORD * host.size, np.uint8)
    pg.wait([host.allgather(mine, everyone, [RECORD] * host.size)], f"{fn} (TORCH_DISTRIBUTED_DEBUG=DETAIL check)")
    rows = everyone.reshape(host.size, RECORD)
    differ = [r for r in range(host.size) if not np.array_equal(rows[r, :8], rows[0, :8])]
    if not differ:
        return
    calls = "; ".join(f"rank {r}: {_text(rows[r])}" for r in range(host.size))
    raise DistError(f"{fn}: TORCH_DISTRIBUTED_DEBUG=DETAIL found a mismatch between collectives in process group "
                    f"{pg.name()!r}: ranks {differ} do not call what rank 0 calls. {calls}")
