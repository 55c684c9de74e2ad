"""Run lamina and PyTorch CPU side by side on the same workloads; print ms and ratios.

Usage: python benchmarks/run.py [--threads N] [--repeats R] [--json FILE] [--only SUBSTRING]

Both frameworks are pinned to the same thread count (BLAS and torch intra-op), run interleaved
(A B A B ...) in one process, warm-up excluded, and the median of the repeats is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time


def _pin_threads(n: int) -> None:
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)


def _time(step) -> float:
    t = time.perf_counter()
    step()
    return (time.perf_counter() - t) * 1e3


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--json", metavar="FILE")
    p.add_argument("--only", default="")
    args = p.parse_args(argv)
    _pin_threads(args.threads)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import lamina
    import numpy
    import torch
    from workloads import WORKLOADS

    torch.set_num_threads(args.threads)
    rows = []
    for w in WORKLOADS:
        if args.only and args.only not in w.name:
            continue
        steps = {"lamina": w.lamina(), "torch": w.torch()}
        for _ in range(args.warmup):
            for s in steps.values():
                s()
        times = {"lamina": [], "torch": []}
        for _ in range(args.repeats):
            for k in ("lamina", "torch"):
                times[k].append(_time(steps[k]))
        ml, mt = statistics.median(times["lamina"]), statistics.median(times["torch"])
        rows.append({"workload": w.name, "unit": w.unit, "lamina_ms": ml, "torch_ms": mt, "ratio": ml / mt,
                     "target": w.target})
    meta = {"date": time.strftime("%Y-%m-%d"), "machine": platform.machine(), "cpus": os.cpu_count(),
            "threads": args.threads, "python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__, "lamina": lamina.__version__}
    print(f"# {meta}")
    print(f"{'workload':64} {'lamina':>10} {'torch':>10} {'ratio':>7} {'target':>7}")
    for r in rows:
        tgt = f"{r['target']:.2f}" if r["target"] else "-"
        flag = "" if not r["target"] or r["ratio"] <= r["target"] else "  OVER"
        print(f"{r['workload']:64} {r['lamina_ms']:10.2f} {r['torch_ms']:10.2f} {r['ratio']:7.2f} {tgt:>7}{flag}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": rows}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
