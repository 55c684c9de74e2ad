"""Nothing hangs: rank 0 waits on collectives that rank 1 never joins (run with mpiexec -n 2).

Rank 0: a monitored_barrier (0.5 s) names rank 1; an async all_reduce's ``Work.wait(timeout=0.3 s)``, an
irecv and new_group (both ways) raise DistBackendError; then a plain all_reduce under the group's 1 s
timeout raises, uncaught, and ``python -m mpi4py`` aborts the job (exit status non-zero). Rank 1 only
initialises and leaves. Printed: ``MONITORED``, ``WORK``, ``STATE``, ``RECV``, ``GROUP``, ``LOCAL`` lines
(each with the message) and ``START``.
"""

from __future__ import annotations

import datetime

import lamina
import lamina.distributed as dist

dist.init_process_group(timeout=datetime.timedelta(seconds=1))
if dist.get_rank() == 0:
    try:
        dist.monitored_barrier(timeout=datetime.timedelta(seconds=0.5), wait_all_ranks=True)
    except dist.DistBackendError as e:
        print("MONITORED", e, flush=True)
    work = dist.all_reduce(lamina.ones(4), async_op=True)
    try:
        work.wait(timeout=datetime.timedelta(seconds=0.3))
    except dist.DistBackendError as e:
        print("WORK", e, flush=True)
    print("STATE", work.is_success(), type(work.exception()).__name__, flush=True)
    try:
        dist.irecv(lamina.zeros(2), src=1).wait(timeout=datetime.timedelta(seconds=0.3))
    except dist.DistBackendError as e:
        print("RECV", e, flush=True)
    for name, kwargs in (("GROUP", {}), ("LOCAL", {"use_local_synchronization": True})):
        try:
            dist.new_group([0, 1], timeout=datetime.timedelta(seconds=0.3), **kwargs)
        except dist.DistBackendError as e:
            print(name, e, flush=True)
    print("START", flush=True)
    dist.all_reduce(lamina.ones(2))
    print("NOT REACHED", flush=True)
