"""``lamina.distributed``: torch.distributed's API (2.13) on MPI, through mpi4py.

Launch a program with ``mpiexec -n N python -m mpi4py prog.py`` (or ``lamina run --nproc-per-node N
prog.py``); ``init_process_group()`` then joins the N ranks (without a launcher, MPI's singleton init
gives a world of size 1). mpi4py is imported by ``init_process_group``, never by ``import lamina`` or
``import lamina.distributed``; without it, ``init_process_group`` raises an ImportError naming
``pip install "lamina-distributed[mpi]"`` (= ``pip install "lamina[mpi]"``).

Backends
    Every backend runs on MPI. ``"mpi"`` (the default) and ``"gloo"`` (the name CPU programs written for
    torch pass) are accepted, and ``get_backend()`` answers ``"mpi"``. ``"nccl"`` needs CUDA GPUs and
    lamina-distributed's NCCL communicator, which is designed (``_comm.DEVICE_COMMUNICATORS["cuda"]``:
    NCCL through CuPy) but not verified without GPUs, so it raises. Tensors on a device other than the
    CPU are staged through host memory (``t.cpu()``) and the result is written back.

Collectives
    ``all_reduce``, ``broadcast``, ``reduce``, ``all_gather``, ``all_gather_into_tensor``, ``gather``,
    ``scatter``, ``reduce_scatter``, ``reduce_scatter_tensor``, ``all_to_all``, ``all_to_all_single``,
    ``barrier``, ``monitored_barrier``, ``send``/``recv`` (``src=None``: any source), ``isend``/``irecv``,
    ``batch_isend_irecv``. Results are written in place into the given tensors; ``async_op=True``
    returns a :class:`Work`. Buffers travel through MPI's buffer interface, never pickled, with MPI's own
    datatype and op where MPI has them (else a derived datatype and a NumPy-ufunc op). ``ReduceOp``:
    SUM, AVG, PRODUCT, MIN, MAX, and BAND/BOR/BXOR for integers and bool (on bool SUM/MAX are "or",
    PRODUCT/MIN "and"; AVG on integers and MIN/MAX/PRODUCT on complex raise, as in torch).

Timeouts
    Every operation starts non-blocking and is completed by polling until the group's timeout
    (``init_process_group(timeout=...)``, ``new_group(timeout=...)``; default 30 minutes, or the
    environment variable ``LAMINA_DISTRIBUTED_TIMEOUT`` in seconds). Past it, DistBackendError names the
    operation, the rank, the group's size and the timeout; under ``python -m mpi4py`` the uncaught error
    aborts the whole job, so nothing hangs.

Debug mode
    ``TORCH_DISTRIBUTED_DEBUG=DETAIL`` (or ``LAMINA_DISTRIBUTED_DEBUG=DETAIL``), read at
    ``init_process_group``: every collective first checks that all ranks call the same collective with
    the same shapes and dtypes, and raises naming the collective and the ranks that differ.

Object collectives (``all_gather_object``, ``broadcast_object_list``, ``gather_object``,
``scatter_object_list``, ``send_object_list``/``recv_object_list``) pickle: TRUSTED PEERS ONLY, since
unpickling runs code chosen by the other ranks of the job.
"""

from __future__ import annotations

import importlib.util

from ._comm import DistBackendError, DistError, DistNetworkError, DistStoreError, MPIUnavailableError, ReduceOp
from ._debug import DebugLevel, get_debug_level, set_debug_level, set_debug_level_from_env
from .collectives import (
    all_gather,
    all_gather_into_tensor,
    all_reduce,
    all_to_all,
    all_to_all_single,
    barrier,
    broadcast,
    gather,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
)
from .objects import (
    all_gather_object,
    broadcast_object_list,
    gather_object,
    recv_object_list,
    scatter_object_list,
    send_object_list,
)
from .p2p import P2POp, batch_isend_irecv, irecv, isend, monitored_barrier, recv, send
from .process_group import (
    Backend,
    GroupMember,
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_initialized,
    is_torchelastic_launched,
    new_group,
)
from .work import Future, Work


def is_available() -> bool:
    """True: the package is importable (MPI itself is imported by ``init_process_group``)."""
    return True


def is_mpi_available() -> bool:
    """Whether mpi4py can be found (without importing it or starting MPI)."""
    try:
        return importlib.util.find_spec("mpi4py") is not None
    except (ImportError, ValueError):
        return False


def is_gloo_available() -> bool:
    """False: there is no Gloo engine (backend "gloo" is accepted and runs on MPI)."""
    return False


def is_nccl_available() -> bool:
    """False: the NCCL communicator is designed but not available."""
    return False


def is_ucc_available() -> bool:
    return False


__all__ = [
    "Backend", "DebugLevel", "DistBackendError", "DistError", "DistNetworkError", "DistStoreError", "Future",
    "GroupMember", "MPIUnavailableError", "P2POp", "ProcessGroup", "ReduceOp", "Work",
    "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce", "all_to_all", "all_to_all_single",
    "barrier", "batch_isend_irecv", "broadcast", "broadcast_object_list", "destroy_process_group", "gather",
    "gather_object", "get_backend", "get_debug_level", "get_global_rank", "get_group_rank",
    "get_process_group_ranks", "get_rank", "get_world_size", "group", "init_process_group", "irecv",
    "is_available", "is_gloo_available", "is_initialized", "is_mpi_available", "is_nccl_available",
    "is_torchelastic_launched", "is_ucc_available", "isend", "monitored_barrier", "new_group", "recv", "reduce",
    "reduce_scatter", "reduce_scatter_tensor", "scatter", "scatter_object_list", "send", "send_object_list",
    "set_debug_level", "set_debug_level_from_env",
]
