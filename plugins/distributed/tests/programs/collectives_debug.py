"""DETAIL debug mode (run with mpiexec -n 2 and TORCH_DISTRIBUTED_DEBUG=DETAIL or LAMINA_DISTRIBUTED_DEBUG=DETAIL).

The ranks call mismatching collectives on purpose (a shape, a dtype, another collective, another root);
each rank reports what it raised. Then a matching call must still work. Rank 0 prints ``RESULT {json}``.
"""

from __future__ import annotations

import datetime
import json

import lamina
import lamina.distributed as dist
from mpi4py import MPI

dist.init_process_group(timeout=datetime.timedelta(seconds=30))
rank = dist.get_rank()
report = {"rank": rank, "level": dist.get_debug_level().name, "errors": {}}


def attempt(name: str, fn) -> None:
    try:
        fn()
        report["errors"][name] = None
    except dist.DistError as e:
        report["errors"][name] = [type(e).__name__, str(e)]


attempt("shape", lambda: dist.all_reduce(lamina.ones(4 if rank == 0 else 5)))
attempt("dtype", lambda: dist.all_reduce(lamina.ones(3, dtype=lamina.float32 if rank == 0 else lamina.float64)))
attempt("collective", lambda: dist.all_reduce(lamina.ones(3)) if rank == 0 else dist.broadcast(lamina.ones(3), 0))
attempt("root", lambda: dist.broadcast(lamina.ones(3), src=rank))
t = lamina.full((3,), float(rank + 1))
attempt("matching", lambda: dist.all_reduce(t))
report["matching_value"] = t.tolist()
dist.destroy_process_group()
everyone = MPI.COMM_WORLD.gather(report, root=0)
if rank == 0:
    print("RESULT " + json.dumps(everyone), flush=True)
