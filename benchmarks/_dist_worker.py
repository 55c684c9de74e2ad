"""One rank of a distributed benchmark job (started by ``benchmarks/distributed.py``, never by hand).

    <mpiexec -n N python -m mpi4py> _dist_worker.py MODE STEPS REPEATS PORT

MODE: ``lamina-ddp`` / ``torch-ddp`` (the MLP 784-256-256-10, batch 64 per rank, Adam, one thread;
with one rank it is the plain single-process step, no DDP), ``allreduce`` (10 MB of float32 through
``lamina.distributed.all_reduce`` and through mpi4py's own ``Allreduce`` on a NumPy buffer,
interleaved). Rank 0 prints one JSON line: the median and minimum milliseconds per step of each repeat.
Ranks find each other through MPI (lamina) or through gloo on 127.0.0.1:PORT (torch, ranks from
MPI's environment so both frameworks are started the same way).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

import numpy as np

SIZES = (784, 256, 256, 10)
BATCH = 64


def _rank_size() -> tuple[int, int]:
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()


def _mlp(lib, rank: int):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(), nn.Linear(SIZES[1], SIZES[2]), nn.ReLU(),
                          nn.Linear(SIZES[2], SIZES[3]))
    rng = np.random.default_rng(1 + rank)
    x = lib.from_numpy(rng.standard_normal((BATCH, SIZES[0])).astype(np.float32))
    y = lib.from_numpy(rng.integers(0, SIZES[-1], BATCH).astype(np.int64))
    return model, x, y


def _train(lib, dist, rank: int, size: int, steps: int, repeats: int) -> list[float]:
    model, x, y = _mlp(lib, rank)
    if size > 1:
        model = lib.nn.parallel.DistributedDataParallel(model)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    times = []
    for _ in range(repeats):
        if size > 1:
            dist.barrier()
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - t0) / steps * 1e3)
    return times


def _allreduce(steps: int, repeats: int) -> dict[str, list[float]]:
    import lamina
    import lamina.distributed as dist
    from mpi4py import MPI

    dist.init_process_group("mpi")
    n = 10 * 2**20 // 4
    buf = np.ones(n, np.float32)
    out = np.empty_like(buf)
    t = lamina.ones(n)
    comm = MPI.COMM_WORLD
    res: dict[str, list[float]] = {"lamina": [], "mpi4py": []}
    for _ in range(3):
        dist.all_reduce(t)
        comm.Allreduce(buf, out)
    for _ in range(repeats):
        for name in ("lamina", "mpi4py"):
            comm.Barrier()
            t0 = time.perf_counter()
            for _ in range(steps):
                if name == "lamina":
                    dist.all_reduce(t)
                else:
                    comm.Allreduce(buf, out)
            res[name].append((time.perf_counter() - t0) / steps * 1e3)
    return res


def main() -> int:
    mode, steps, repeats, port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rank, size = _rank_size()
    if mode == "allreduce":
        res = _allreduce(steps, repeats)
    elif mode == "lamina-ddp":
        import lamina
        import lamina.distributed as dist

        if size > 1:
            dist.init_process_group("mpi")
        res = {"step": _train(lamina, dist, rank, size, steps, repeats)}
    elif mode == "torch-ddp":
        import torch
        import torch.distributed as dist

        torch.set_num_threads(1)
        if size > 1:
            dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=size)
        res = {"step": _train(torch, dist, rank, size, steps, repeats)}
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    if rank == 0:
        print(json.dumps({k: {"median": statistics.median(v), "min": min(v)} for k, v in res.items()}), flush=True)
    if mode == "torch-ddp" and size > 1:
        # gloo's threads sometimes abort the process at teardown ("terminate called without an active
        # exception", seen 1 job in ~20 here): the figures are out, so leave without running it
        dist.barrier()
        sys.stdout.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    assert os.environ.get("OMP_NUM_THREADS") == "1", "benchmarks/distributed.py sets one thread per rank"
    sys.exit(main())
