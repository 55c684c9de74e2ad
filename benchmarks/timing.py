"""The timing process of ``run.py``: one thread count, both frameworks, interleaved A B A B.

Runs only in a process whose thread variables were set before NumPy/torch were imported; if that
is not the case it re-executes itself with them set.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time

import rss


def _ensure_pinned(threads: int) -> None:
    env = rss.pinned_env(threads)
    pinned = all(os.environ.get(k) == v for k, v in env.items() if k.endswith("_THREADS"))
    if not pinned or "numpy" in sys.modules or "torch" in sys.modules:
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def gemm_gflops(n: int = 1024, repeats: int = 15) -> tuple[float, float]:
    """The NumPy float32 GEMM rate of this machine in GFLOP/s: (wall, CPU), each from the fastest of
    ``repeats``. With one thread the CPU-time rate is the core's rate even when other processes
    share it; with more threads it is the rate per thread."""
    import numpy as np

    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    wall, cpu = [], []
    for _ in range(repeats):
        w = _time_ms(lambda: a @ b)
        wall.append(w[0])
        cpu.append(w[1])
    flop = 2.0 * n ** 3
    return flop / min(wall) / 1e6, flop / max(min(cpu), 1e-6) / 1e6


def _time_ms(step) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one step; CPU time of this process is what other processes on a
    busy machine disturb least (with one thread it is the step's own compute time)."""
    t, c = time.perf_counter(), time.process_time()
    step()
    return (time.perf_counter() - t) * 1e3, (time.process_time() - c) * 1e3


def _parity(a, b) -> float:
    import numpy as np

    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-12)) if a.size else 0.0


def run_workload(w, repeats: int, warmup: int) -> dict:
    from workloads import missing

    row: dict = {"workload": w.name, "unit": w.unit, "target": w.target}
    why = missing(w)
    if why is None:
        try:
            benches = {"lamina": w.build("lamina"), "torch": w.build("torch")}
        except Exception as e:  # a plugin that resolves but cannot run the workload yet
            why = f"build failed: {type(e).__name__}: {str(e).splitlines()[0][:140] if str(e) else ''}"
    if why is not None:
        row["skipped"] = why
        return row
    if benches["lamina"].probe and benches["torch"].probe:
        row["parity"] = _parity(benches["lamina"].probe(), benches["torch"].probe())
    for _ in range(warmup):
        for b in benches.values():
            b.step()
    gc.collect()
    times: dict = {"lamina": [], "torch": []}
    cpu: dict = {"lamina": [], "torch": []}
    for _ in range(repeats):
        for k in ("lamina", "torch"):
            wall, c = _time_ms(benches[k].step)
            times[k].append(wall)
            cpu[k].append(c)
    row["lamina_ms"] = statistics.median(times["lamina"])
    row["torch_ms"] = statistics.median(times["torch"])
    row["ratio"] = row["lamina_ms"] / row["torch_ms"]
    # the fastest repeat of each: less sensitive to other processes on a loaded machine
    row["lamina_min_ms"], row["torch_min_ms"] = min(times["lamina"]), min(times["torch"])
    row["ratio_min"] = row["lamina_min_ms"] / row["torch_min_ms"]
    row["lamina_cpu_ms"], row["torch_cpu_ms"] = statistics.median(cpu["lamina"]), statistics.median(cpu["torch"])
    row["ratio_cpu"] = row["lamina_cpu_ms"] / row["torch_cpu_ms"]
    if w.flops:  # from the fastest repeat, like the GEMM rate it is compared with
        row["lamina_gflops"] = w.flops / row["lamina_min_ms"] / 1e6
        row["torch_gflops"] = w.flops / row["torch_min_ms"] / 1e6
        row["lamina_gflops_cpu"] = w.flops / max(min(cpu["lamina"]), 1e-6) / 1e6
    return row


def child(threads: int, repeats: int, warmup: int, only: str, out_path: str) -> None:
    _ensure_pinned(threads)
    import torch

    torch.set_num_threads(threads)
    import lamina
    from workloads import WORKLOADS

    torch.manual_seed(0)
    lamina.manual_seed(0)
    gemm, gemm_cpu = gemm_gflops()
    load = os.getloadavg()[0]
    print(f"\n## {threads} thread(s): ms per step (median of {repeats}, interleaved, {warmup} warm-up); "
          f"NumPy GEMM 1024x1024 float32: {gemm:.1f} GFLOP/s ({gemm_cpu:.1f} by CPU time); "
          f"load average {load:.1f}")
    print(f"{'workload':60} {'lamina':>9} {'torch':>9} {'ratio':>6} {'target':>6}        {'parity':>8} "
          f"{'min-ratio':>9} {'cpu-ratio':>9}")
    rows = []
    for w in WORKLOADS:
        if only not in w.name:
            continue
        r = run_workload(w, repeats, warmup)
        if "lamina_gflops" in r:
            r["gemm_fraction"] = r["lamina_gflops"] / gemm
            r["gemm_fraction_cpu"] = r["lamina_gflops_cpu"] / gemm_cpu
        rows.append(r)
        _print_row(r, gemm)
        sys.stdout.flush()
    with open(out_path, "w") as f:
        result = {"threads": threads, "gemm_gflops": gemm, "gemm_gflops_cpu": gemm_cpu, "load_before": load,
                  "rows": rows}
        json.dump(result, f, indent=2)


def _print_row(r: dict, gemm: float) -> None:
    if "skipped" in r:
        print(f"{r['workload']:60} SKIPPED: {r['skipped']}")
        return
    tgt = f"{r['target']:.2f}" if r["target"] else "-"
    status = "" if not r["target"] else ("ok" if r["ratio"] <= r["target"] else "OVER")
    parity = f"{r['parity']:.1e}" if "parity" in r else "-"
    print(f"{r['workload']:60} {r['lamina_ms']:9.2f} {r['torch_ms']:9.2f} {r['ratio']:6.2f} {tgt:>6} "
          f"{status:>6} {parity:>8} {r['ratio_min']:9.2f} {r['ratio_cpu']:9.2f}")
    if "lamina_gflops" in r:
        frac = r["gemm_fraction"]
        ok = "ok" if frac >= 0.8 else "UNDER"
        print(f"{'':4}achieved: lamina {r['lamina_gflops']:.1f} GFLOP/s = {frac:.0%} of the GEMM rate "
              f"(target >= 80%: {ok}); by CPU time {r['gemm_fraction_cpu']:.0%}; torch {r['torch_gflops']:.1f} "
              f"GFLOP/s (6 x batch x weights per step)")
