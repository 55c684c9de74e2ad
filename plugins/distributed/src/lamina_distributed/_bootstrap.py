"""The first code of every rank that ``lamina run --nproc-per-node N`` starts:
``mpiexec -n N python -m lamina_distributed._bootstrap [-m] program args...``.

It sets torchrun's per-rank environment from the MPI launcher's (:func:`rank_environment`), then hands
the command line to mpi4py's runner (what ``python -m mpi4py`` runs), which runs the program as
``__main__`` and turns an uncaught exception or a non-zero ``sys.exit`` into ``MPI_Abort`` once mpi4py's
MPI module is loaded, so one failing rank ends the whole job. A failing rank also writes its status and
the time into the launcher's status folder (env ``LAMINA_RUN_STATUS_DIR``, where this machine can see it),
from which the launcher returns the first failing rank's status, and its pid, so that the launcher can
make sure no rank outlives the job. Nothing is printed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

STATUS_DIR_ENV = "LAMINA_RUN_STATUS_DIR"
#: set (to 1) by ``lamina run`` unless ``--no-torch-alias``: the rank serves ``import torch`` from lamina
TORCH_ALIAS_ENV = "LAMINA_RUN_TORCH_ALIAS"

# (rank, world size, local rank, local world size) as MPI launchers name them
_LAUNCHER_VARIABLES = (
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),  # MPICH's hydra (and Intel MPI)
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"),
)


def _from_mpi() -> tuple[int, int, int, int]:
    """Ask MPI itself (an MPI launcher this module does not know): ranks sharing memory form a node."""
    from mpi4py import MPI

    world = MPI.COMM_WORLD
    node = world.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        return world.Get_rank(), world.Get_size(), node.Get_rank(), node.Get_size()
    finally:
        node.Free()


def rank_environment(env: Mapping[str, str]) -> dict[str, str]:
    """torchrun's variables for this rank from the MPI launcher's ``env``.

    RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, and GROUP_RANK = NODE_RANK = RANK // LOCAL_WORLD_SIZE,
    GROUP_WORLD_SIZE = WORLD_SIZE // LOCAL_WORLD_SIZE (the node's index and count: ``lamina run`` places
    ``--nproc-per-node`` consecutive ranks on each machine). MASTER_ADDR/MASTER_PORT are not set: MPI does
    the rendezvous, and a made-up address would mislead a program that uses it.
    """
    for names in _LAUNCHER_VARIABLES:
        if all(name in env for name in names):
            rank, size, local_rank, local_size = (int(env[name]) for name in names)
            break
    else:
        rank, size, local_rank, local_size = _from_mpi()
    return {"RANK": str(rank), "WORLD_SIZE": str(size), "LOCAL_RANK": str(local_rank),
            "LOCAL_WORLD_SIZE": str(local_size), "GROUP_RANK": str(rank // local_size),
            "NODE_RANK": str(rank // local_size), "GROUP_WORLD_SIZE": str(max(size // local_size, 1))}


def _record_failure(status: int) -> None:
    folder = os.environ.get(STATUS_DIR_ENV)
    if not folder or not status & 0xFF:
        return
    try:  # written whole, then renamed, so the launcher never reads half a record
        path = os.path.join(folder, f"rank{os.environ.get('RANK', '0')}")
        with open(path + ".tmp", "w") as f:
            f.write(f"{time.time_ns()} {status & 0xFF}\n")
        os.replace(path + ".tmp", path)
    except OSError:  # a rank on another machine: the folder is not there
        pass


def _status(exc: BaseException) -> int:
    if isinstance(exc, SystemExit):
        code = exc.code
        return 0 if code is None else code if isinstance(code, int) else 1
    return 130 if isinstance(exc, KeyboardInterrupt) else 1


def _record_pid() -> None:
    """``pid<RANK>`` in the status folder: the launcher makes sure this process has ended when the job has."""
    folder = os.environ.get(STATUS_DIR_ENV)
    if folder:
        try:
            with open(os.path.join(folder, f"pid{os.environ.get('RANK', '0')}"), "w") as f:
                f.write(f"{os.getpid()}\n")
        except OSError:  # a rank on another machine: the folder is not there
            pass


def main() -> None:
    """Set this rank's environment, then run ``sys.argv[1:]`` (``[-m] program args``) under mpi4py's runner."""
    os.environ.update(rank_environment(os.environ))
    _record_pid()
    if os.environ.get(TORCH_ALIAS_ENV) == "1":
        from lamina.compat import install_torch_alias

        install_torch_alias()
    from mpi4py.run import main as mpi4py_main

    try:
        mpi4py_main()  # parses sys.argv[1:], as python -m mpi4py does
    except BaseException as exc:
        _record_failure(_status(exc))
        raise


if __name__ == "__main__":
    main()
