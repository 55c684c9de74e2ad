"""The GPU section: the same workloads as ``workloads.py``, lamina on CuPy vs PyTorch on CUDA.

Usage: python benchmarks/gpu.py [--repeats R] [--warmup W] [--only SUBSTRING]

Runs only where both ``lamina.cuda.is_available()`` and ``torch.cuda.is_available()``; otherwise
it prints why it skipped and exits 0. Each workload is built for both frameworks with identical
weights and inputs (``_bench_util``), with the default device set to ``cuda`` and every input
tensor moved there; steps are timed between device synchronisations, the two frameworks
interleaved (A B A B ...), and the report gives medians and the ratio lamina / PyTorch.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def _why_skip() -> str | None:
    import lamina

    if not lamina.cuda.is_available():
        return f"lamina has no CUDA device ({lamina.cuda.unavailable_reason()})"
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed"
    if not torch.cuda.is_available():
        return "PyTorch sees no CUDA device (CPU-only build or no driver)"
    return None


def _on_cuda(fw: str):
    """Make ``fw`` build models and inputs on the GPU; returns (lib, synchronize)."""
    import _bench_util

    lib = _bench_util.framework(fw)
    lib.set_default_device("cuda")
    plain = _bench_util.to_tensor
    _bench_util.to_tensor = lambda lib_, arr, requires_grad=False: _move(plain(lib_, arr), requires_grad)
    return lib, lib.cuda.synchronize


def _move(t, requires_grad):
    t = t.to("cuda")
    return t.requires_grad_(True) if requires_grad else t


def _time(bench, sync, repeats: int) -> float:
    sync()
    t = time.perf_counter()
    for _ in range(repeats):
        bench.step()
    sync()
    return (time.perf_counter() - t) / repeats * 1e3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="")
    args = ap.parse_args(argv)
    why = _why_skip()
    if why:
        print(f"gpu benchmarks skipped: {why}")
        return 0
    import workloads

    libs = {fw: _on_cuda(fw) for fw in ("lamina", "torch")}
    print(f"{'workload':70s} {'lamina':>10s} {'torch':>10s} {'ratio':>7s}")
    for w in workloads.WORKLOADS:
        if args.only not in w.name:
            continue
        missing = workloads.missing(w)
        if missing:
            print(f"{w.name:70s} skipped: {missing}")
            continue
        try:
            benches = {fw: w.build(fw) for fw in libs}
        except Exception as e:  # noqa: BLE001  (a workload lamina cannot run on CUDA yet: report it)
            print(f"{w.name:70s} failed to build on cuda: {type(e).__name__}: {str(e)[:120]}")
            continue
        for b in benches.values():
            for _ in range(args.warmup):
                b.step()
        times = {fw: [] for fw in benches}
        for _ in range(args.rounds):
            for fw, b in benches.items():
                times[fw].append(_time(b, libs[fw][1], args.repeats))
        la, to = statistics.median(times["lamina"]), statistics.median(times["torch"])
        print(f"{w.name:70s} {la:10.3f} {to:10.3f} {la / to:7.2f}  ({w.unit})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
