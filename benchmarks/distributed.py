"""Distributed benchmarks: lamina's DDP on MPI against one process and against PyTorch DDP on gloo.

    python benchmarks/distributed.py [--rounds 5] [--steps 50] [--repeats 3] [--json FILE]

Workloads (one thread per rank, every job started by the venv's ``mpiexec`` under ``python -m mpi4py``):

* the MLP 784-256-256-10, batch 64 per rank, Adam: one process, and 2 ranks under DDP, for lamina
  and for PyTorch (gloo, ranks from MPI's environment); ms per step;
* all-reduce of 10 MB of float32 on 2 ranks: ``lamina.distributed.all_reduce`` on a tensor against
  mpi4py's own ``Allreduce`` on a NumPy buffer, interleaved inside one job; ms per call.

The jobs run interleaved (lamina 1, lamina 2, torch 1, torch 2, all-reduce; then again) for
``--rounds`` rounds; each figure is the median over rounds of each job's median repeat. Ratios and the
issue's targets: DDP step / single-process step (<= 1.6), lamina DDP / torch DDP (<= 0.5),
lamina all-reduce / mpi4py Allreduce (<= 1.2).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_dist_worker.py"


def _mpiexec() -> str:
    local = Path(sys.executable).parent / "mpiexec"
    found = str(local) if local.exists() else shutil.which("mpiexec")
    if not found:
        raise SystemExit('mpiexec not found: pip install "lamina[mpi]" (mpi4py and MPICH\'s wheel)')
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _job(ranks: int, mode: str, steps: int, repeats: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    cmd = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "mpi4py", str(WORKER), mode, str(steps),
           str(repeats), str(_free_port())]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    jobs = {"lamina 1 process": (1, "lamina-ddp"), "lamina DDP 2 ranks": (2, "lamina-ddp"),
            "torch 1 process": (1, "torch-ddp"), "torch DDP 2 ranks": (2, "torch-ddp")}
    got: dict[str, list[float]] = {k: [] for k in jobs}
    ar: dict[str, list[float]] = {"lamina": [], "mpi4py": []}
    for r in range(args.rounds):
        for name, (ranks, mode) in jobs.items():
            got[name].append(_job(ranks, mode, args.steps, args.repeats)["step"]["median"])
        res = _job(2, "allreduce", 20, args.repeats)
        for k in ar:
            ar[k].append(res[k]["median"])
        print(f"round {r + 1}/{args.rounds}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in got.items()), flush=True)
    med = {k: statistics.median(v) for k, v in got.items()}
    arm = {k: statistics.median(v) for k, v in ar.items()}
    rows = [
        ("MLP 784-256-256-10 b64/rank: lamina DDP 2 ranks / lamina 1 process", med["lamina DDP 2 ranks"],
         med["lamina 1 process"], 1.6),
        ("lamina DDP 2 ranks / torch DDP (gloo) 2 ranks", med["lamina DDP 2 ranks"], med["torch DDP 2 ranks"], 0.5),
        ("(torch DDP 2 ranks / torch 1 process, for reference)", med["torch DDP 2 ranks"], med["torch 1 process"],
         None),
        ("all-reduce 10 MB float32, 2 ranks: lamina.distributed / mpi4py Allreduce", arm["lamina"], arm["mpi4py"], 1.2),
    ]
    print("\n| measurement | ms | vs ms | ratio | target |\n|---|---|---|---|---|")
    for label, a, b, target in rows:
        print(f"| {label} | {a:.2f} | {b:.2f} | {a / b:.2f} | {'<= ' + str(target) if target else '-'} |")
    if args.json:
        Path(args.json).write_text(json.dumps({"steps_ms": got, "allreduce_ms": ar}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
