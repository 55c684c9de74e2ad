"""Run lamina and PyTorch CPU side by side on the same workloads; print ms, ratios and targets.

Usage: python benchmarks/run.py [--threads 1,2] [--repeats R] [--warmup W] [--only SUBSTRING]
                                [--json FILE] [--compare OLD.json] [--no-rss] [--no-import-time]

For each thread count a fresh process is started with OPENBLAS/OMP/MKL_NUM_THREADS set before
NumPy or torch is imported (and ``torch.set_num_threads``); it builds both frameworks' version of
each workload with identical weights and inputs, checks that their outputs agree, runs warm-up
steps (not timed), then times the two interleaved (A B A B ...) and reports the medians and the
ratio lamina / PyTorch next to the issue's target; for the input pipeline also images/s and the
speedup of 2 DataLoader workers over 0 (``pipeline.py``). It also measures the NumPy GEMM rate of the
machine and the MLP's achieved GFLOP/s. Then peak RSS per framework x workload (``rss.py``, one
process each) and the time of ``import lamina`` + resolving ``nn.Linear`` in fresh processes.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rss  # noqa: E402  (imports nothing heavy)

IMPORT_TARGET_S = 0.15
GEMM_FRACTION_TARGET = 0.8


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    p.add_argument("--repeats", type=int, default=9)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--only", default="", help="run only workloads whose name contains this")
    p.add_argument("--json", metavar="FILE", help="write all results as JSON")
    p.add_argument("--compare", metavar="OLD_JSON", help="print ratio changes against an earlier --json file")
    p.add_argument("--no-rss", dest="rss", action="store_false")
    p.add_argument("--no-import-time", dest="import_time", action="store_false")
    p.add_argument("--child-out", help=argparse.SUPPRESS)  # internal: a pinned timing process
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    threads = [int(t) for t in args.threads.split(",")]
    if args.child_out:
        import timing

        timing.child(threads[0], args.repeats, args.warmup, args.only, args.child_out)
        return 0
    result: dict = {"meta": _meta(), "timing": {}}
    print(f"# {result['meta']}")
    for n in threads:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "t.json")
            cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(n), "--repeats", str(args.repeats),
                   "--warmup", str(args.warmup), "--only", args.only, "--child-out", out]
            proc = subprocess.run(cmd, env=rss.pinned_env(n))
            if proc.returncode != 0:
                print(f"timing process for {n} thread(s) failed with exit code {proc.returncode}")
                return proc.returncode
            with open(out) as f:
                result["timing"][str(n)] = json.load(f)
        _pipeline_summary(result, n)
    if args.rss:
        from workloads import WORKLOADS

        names = [w.name for w in WORKLOADS if args.only in w.name]
        result["rss"] = rss.measure(names, threads[0])
        rss.print_table(result["rss"], threads[0])
    if args.import_time:
        result["import_time"] = _import_time()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if args.compare:
        _compare(args.compare, result)
    return 0


def _pipeline_summary(result: dict, threads: int) -> None:
    """Images/s and the 2-worker speedup of the input pipeline rows, when they ran."""
    import pipeline

    summary = pipeline.summary(result["timing"][str(threads)]["rows"], threads)
    if summary:
        result.setdefault("pipeline", {})[str(threads)] = summary


def _meta() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for dist in ("lamina", "numpy", "torch"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {"date": time.strftime("%Y-%m-%d"), "cpu": cpu, "cpus": os.cpu_count(), "machine": platform.machine(),
            "python": platform.python_version(), **versions}


def _import_time(runs: int = 7) -> dict:
    code = "import time; t0 = time.perf_counter(); import {m}; {use}; print(time.perf_counter() - t0)"
    out = {}
    for m, use in (("lamina", "lamina.nn.Linear"), ("torch", "torch.nn.Linear"), ("numpy", "numpy.ndarray")):
        times = []
        for _ in range(runs):
            proc = subprocess.run([sys.executable, "-c", code.format(m=m, use=use)], capture_output=True, text=True,
                                  env=rss.pinned_env(1), check=True)
            times.append(float(proc.stdout.strip().splitlines()[-1]))
        out[m] = statistics.median(times)
    ok = "ok" if out["lamina"] <= IMPORT_TARGET_S else "OVER"
    print(f"\n## Import time (fresh process, median of {runs}): `import lamina; lamina.nn.Linear` "
          f"{out['lamina']:.3f} s (target <= {IMPORT_TARGET_S} s: {ok}; of which `import numpy` alone takes "
          f"{out['numpy']:.3f} s); `import torch; torch.nn.Linear` {out['torch']:.3f} s")
    out["target_s"] = IMPORT_TARGET_S
    return out


def _compare(path: str, new: dict) -> None:
    with open(path) as f:
        old = json.load(f)
    print(f"\n## Ratio lamina/torch: {path} ({old['meta'].get('date')}) -> now")
    for n, run in new["timing"].items():
        before = {r["workload"]: r for r in old.get("timing", {}).get(n, {}).get("rows", [])}
        for r in run["rows"]:
            o = before.get(r["workload"])
            if r.get("ratio") is None or not o or o.get("ratio") is None:
                continue
            print(f"{n} thr  {r['workload']:60} {o['ratio']:6.2f} -> {r['ratio']:6.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
