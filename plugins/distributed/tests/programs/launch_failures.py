"""Ranks that fail in the ways the launcher must handle (tests/test_launcher_jobs.py).

``launch_failures.py MODE [FIFO]``, run by ``lamina run --nproc-per-node N``; rank 1 fails, the others wait:

* ``raise``: rank 1 raises ValueError while the others wait in an MPI barrier.
* ``exit3``: rank 1 calls ``sys.exit(3)`` while the others wait in an MPI barrier.
* ``sigkill``: rank 1 kills itself with SIGKILL while the others wait in an MPI barrier.
* ``ordered FIFO`` (no MPI): rank 1 opens the named pipe FIFO for writing and calls ``sys.exit(3)``; rank 0
  reads FIFO to its end (which comes when rank 1's process is gone), then calls ``sys.exit(5)``.
* ``hang``: every rank prints ``pid RANK PID;`` and then waits forever (rank 1 in Python, the others in an
  MPI barrier), for a signal sent to the launcher.
"""

import os
import signal
import sys
import threading

mode = sys.argv[1]
rank = int(os.environ["RANK"])
if mode == "ordered":
    if rank == 1:
        os.open(sys.argv[2], os.O_WRONLY)  # a raw descriptor: it closes when the process is gone
        sys.exit(3)
    fd = os.open(sys.argv[2], os.O_RDONLY)
    while os.read(fd, 1):
        pass
    sys.exit(5)

from mpi4py import MPI  # noqa: E402 - the ordered mode runs without MPI

if mode == "hang":
    print(f"pid {rank} {os.getpid()};", flush=True)
if rank == 1:
    if mode == "raise":
        raise ValueError("rank 1 fails on purpose")
    if mode == "exit3":
        sys.exit(3)
    if mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    if mode == "hang":
        threading.Event().wait()
MPI.COMM_WORLD.Barrier()
