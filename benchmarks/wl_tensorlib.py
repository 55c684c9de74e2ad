"""The tensor library's workloads (issue #20): the per-op overhead of the newer ops on small tensors, and
``cdist`` on 1024 x 1024 points of 64 dims."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from _bench_util import Bench, framework, inputs, to_numpy, to_tensor

#: the small-tensor ops timed together: the tensor library's everyday newcomers, one call each
NEW_OPS: tuple[tuple[str, Callable[[Any, Any, Any], Any]], ...] = (
    ("tril", lambda m, a, b: m.tril(a)),
    ("triu", lambda m, a, b: a.triu(1)),
    ("logaddexp", lambda m, a, b: m.logaddexp(a, b)),
    ("hypot", lambda m, a, b: m.hypot(a, b)),
    ("cumsum", lambda m, a, b: a.cumsum(0)),
    ("diag", lambda m, a, b: m.diag(a)),
    ("median", lambda m, a, b: a.median(dim=0).values),
    ("cdist", lambda m, a, b: m.cdist(a, b)),
    ("erf", lambda m, a, b: m.erf(a)),
    ("lgamma", lambda m, a, b: b.abs().lgamma()),
    ("det", lambda m, a, b: m.linalg.det(a)),
    ("rfft", lambda m, a, b: m.fft.rfft(a).abs()),
)
NEW_OP_NEEDS = ("tril", "logaddexp", "hypot", "diag", "cdist", "erf", "linalg.det", "fft.rfft")


def new_op_overhead(fw: str, iters: int = 100) -> Bench:
    """``iters`` x one forward call of each op of NEW_OPS on 8x8 float32 tensors."""
    lib = framework(fw)
    x, _ = inputs(3, (2, 8, 8))
    a, b = to_tensor(lib, x[0]), to_tensor(lib, x[1])
    ops = [fn for _, fn in NEW_OPS]

    def step() -> None:
        for _ in range(iters):
            for fn in ops:
                fn(lib, a, b)

    def probe():
        return to_numpy(lib.stack([fn(lib, a, b).reshape(-1)[:1].float() for fn in ops]))  # det is 0-d

    return Bench(step, probe)


def cdist(fw: str, n: int = 1024, d: int = 64) -> Bench:
    """Euclidean distances between two sets of n points in d dims (forward)."""
    lib = framework(fw)
    x, _ = inputs(4, (2, n, d))
    a, b = to_tensor(lib, x[0]), to_tensor(lib, x[1])

    def step() -> None:
        lib.cdist(a, b)

    def probe():
        return to_numpy(lib.cdist(a[:8], b[:8]))

    return Bench(step, probe)
