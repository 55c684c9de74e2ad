"""Peak resident memory of each framework per workload, each measured in its own fresh process.

Usage: python benchmarks/rss.py [--threads N] [--steps S] [--only SUBSTRING]

For every framework x workload one ``python -c ...`` process imports only that framework (plus
NumPy), builds the workload, runs ``steps`` steps and prints ``resource.getrusage(RUSAGE_SELF)
.ru_maxrss``. Nothing is subtracted: the figure includes the interpreter and the imports.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FRAMEWORKS = ("lamina", "torch")

_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); import rss; rss.child(sys.argv[2], sys.argv[3], int(sys.argv[4]))"
)


def pinned_env(threads: int) -> dict:
    """The environment of a child process whose BLAS/OpenMP pools use ``threads`` threads."""
    env = dict(os.environ)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        env[var] = str(threads)
    return env


def child(fw: str, name: str, steps: int) -> None:
    """Runs inside the measured process: build, step, print the peak RSS in KiB as JSON."""
    import resource

    from workloads import WORKLOADS

    if fw == "torch":
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    (w,) = [w for w in WORKLOADS if w.name == name]
    bench = w.build(fw)
    for _ in range(steps):
        bench.step()
    print(json.dumps({"maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def measure_one(fw: str, name: str, threads: int, steps: int) -> tuple[float | None, str]:
    """Peak RSS in MiB of one fresh process, or (None, reason)."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, HERE, fw, name, str(steps)], env=pinned_env(threads),
                          capture_output=True, text=True, cwd=HERE)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        return None, tail[:160]
    return json.loads(proc.stdout.strip().splitlines()[-1])["maxrss_kib"] / 1024.0, ""


def measure(names: list[str], threads: int = 1, steps: int = 3) -> list[dict]:
    rows = []
    for name in names:
        row: dict = {"workload": name, "target": 1.0}
        for fw in FRAMEWORKS:
            mib, why = measure_one(fw, name, threads, steps)
            row[f"{fw}_mib"] = mib
            if why:
                row["skipped"] = f"{fw}: {why}"
        if row["lamina_mib"] and row["torch_mib"]:
            row["ratio"] = row["lamina_mib"] / row["torch_mib"]
        rows.append(row)
    return rows


def print_table(rows: list[dict], threads: int) -> None:
    print(f"\n## Peak RSS (MiB), one fresh process per framework x workload, {threads} thread(s)")
    print(f"{'workload':60} {'lamina':>9} {'torch':>9} {'ratio':>7} {'target':>7}")
    for r in rows:
        if r.get("ratio") is None:
            print(f"{r['workload']:60} skipped: {r.get('skipped', '')}")
            continue
        flag = "" if r["ratio"] <= r["target"] else "  OVER"
        print(f"{r['workload']:60} {r['lamina_mib']:9.1f} {r['torch_mib']:9.1f} {r['ratio']:7.2f} "
              f"{r['target']:7.2f}{flag}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--only", default="")
    args = p.parse_args(argv)
    sys.path.insert(0, HERE)
    from workloads import WORKLOADS

    rows = measure([w.name for w in WORKLOADS if args.only in w.name], args.threads, args.steps)
    print_table(rows, args.threads)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
