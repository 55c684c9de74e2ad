"""all_reduce of a 10 MB float32 tensor vs mpi4py's own Allreduce on a NumPy buffer (a manual benchmark).

    mpiexec -n 2 python -m mpi4py plugins/distributed/tests/programs/collectives_bench.py [MB] [repeats]

Prints, on rank 0, the median seconds of each and their ratio (lamina / mpi4py). Not run by the test suite
(no timed assertions there).
"""

from __future__ import annotations

import statistics
import sys
import time

import lamina
import lamina.distributed as dist
import numpy as np
from mpi4py import MPI


def main() -> None:
    mb = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    dist.init_process_group()
    n = int(mb * 2**20 / 4)
    comm = MPI.COMM_WORLD.Dup()
    # both on the same NumPy buffer (two allocations of 10 MB can differ in speed by 30%: page placement,
    # transparent huge pages); MAX keeps the values finite over many runs
    buf = np.ones(n, np.float32)
    t = lamina.from_numpy(buf)
    ours, theirs = [], []
    for _ in range(3):  # warm-up
        comm.Allreduce(MPI.IN_PLACE, buf, MPI.MAX)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
    def theirs_once() -> None:
        comm.Allreduce(MPI.IN_PLACE, buf, MPI.MAX)

    def ours_once() -> None:
        dist.all_reduce(t, op=dist.ReduceOp.MAX)

    for i in range(repeats):  # interleaved, in alternating order, so drift affects both alike
        for fn, times in ((theirs_once, theirs), (ours_once, ours))[::1 if i % 2 else -1]:
            comm.Barrier()
            s = time.perf_counter()
            fn()
            times.append(time.perf_counter() - s)
    if dist.get_rank() == 0:
        a, b = statistics.median(ours), statistics.median(theirs)
        paired = statistics.median(o / t for o, t in zip(ours, theirs))  # adjacent runs: robust to drift
        print(f"{mb:g} MB float32 x {dist.get_world_size()} ranks, {repeats} runs each: lamina all_reduce median "
              f"{a * 1e3:.2f} ms (min {min(ours) * 1e3:.2f}), mpi4py Allreduce median {b * 1e3:.2f} ms (min "
              f"{min(theirs) * 1e3:.2f}); median of paired ratios {paired:.3f}, ratio of medians {a / b:.3f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
