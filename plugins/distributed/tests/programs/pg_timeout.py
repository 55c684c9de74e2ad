"""init_process_group does not hang when a rank never calls it (run with mpiexec -n 2).

Rank 1 never initialises; rank 0's init_process_group(timeout=0.5 s) raises DistBackendError, printed as
``INIT <message>``, then re-raised so that the job ends with a non-zero status.
"""

from __future__ import annotations

import datetime

import lamina.distributed as dist
from mpi4py import MPI

if MPI.COMM_WORLD.Get_rank() == 0:
    try:
        dist.init_process_group(timeout=datetime.timedelta(seconds=0.5))
    except dist.DistBackendError as e:
        print("INIT", e, flush=True)
        print("INITIALIZED", dist.is_initialized(), flush=True)
        raise
