"""Check recording for the DDP and SyncBatchNorm programs run under mpiexec (imported by them).

Each rank records named checks and writes them to ``<out_dir>/rank<r>.json`` (``out_dir`` is the
program's first argument; a file per rank, since the ranks' stdout lines can interleave); the pytest
side (``tests/test_ddp.py``, ``tests/test_syncbn.py``) reads every rank's file and fails, listing the
details, on any failed check or on a rank that wrote none.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def as_numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach()
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


class Checks:
    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.items: list[dict] = []

    def true(self, name: str, ok: bool, detail: str = "") -> bool:
        self.items.append({"name": name, "ok": bool(ok), "detail": detail})
        return bool(ok)

    def close(self, name: str, got: Any, want: Any, rtol: float = 1e-5, atol: float = 1e-6) -> bool:
        g, w = as_numpy(got).astype(np.float64), as_numpy(want).astype(np.float64)
        if g.shape != w.shape:
            return self.true(name, False, f"shape {g.shape} != {w.shape}")
        diff = np.abs(g - w)
        ok = bool(np.all(diff <= atol + rtol * np.abs(w)))
        worst = float(diff.max()) if diff.size else 0.0
        return self.true(name, ok, f"max abs diff {worst:.3g} (rtol {rtol}, atol {atol})")

    def equal(self, name: str, got: Any, want: Any) -> bool:
        g, w = as_numpy(got), as_numpy(want)
        ok = g.shape == w.shape and bool(np.array_equal(g, w))
        return self.true(name, ok, "" if ok else f"not bitwise equal: {g.ravel()[:4]} vs {w.ravel()[:4]}")

    def raises(self, name: str, fn: Callable[[], Any], exc: type, pattern: str) -> str:
        try:
            fn()
        except exc as e:
            msg = str(e)
            self.true(name, re.search(pattern, msg) is not None, f"message: {msg}")
            return msg
        except Exception as e:  # noqa: BLE001 - the wrong exception is the failure being recorded
            self.true(name, False, f"raised {type(e).__name__}: {e}")
            return ""
        self.true(name, False, f"did not raise {exc.__name__}")
        return ""

    def report(self) -> None:
        out = Path(sys.argv[1]) / f"rank{self.rank}.json"
        out.write_text(json.dumps({"rank": self.rank, "checks": self.items}))
