"""Process groups: ``init_process_group``, ``new_group``, ranks and sizes, ``destroy_process_group``.

The ranks come from the MPI launcher (``mpiexec -n N python -m mpi4py prog.py``, ``lamina run``);
without one, MPI's singleton init gives a world of size 1. The default group runs on a duplicate of
``MPI.COMM_WORLD``, each ``new_group`` on an MPI sub-communicator. A rank outside a group gets
``GroupMember.NON_GROUP_MEMBER`` from ``new_group``, as in torch.
"""

from __future__ import annotations

import datetime
import os
from typing import Any

from . import _comm, _debug
from ._comm import Communicator, DistBackendError

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)
TIMEOUT_ENV = "LAMINA_DISTRIBUTED_TIMEOUT"
_NOT_INITIALIZED = "Default process group has not been initialized, please make sure to call init_process_group."


class Backend(str):
    """A backend name (torch's ``Backend``): ``Backend("GLOO") == "gloo"``.

    lamina.distributed runs every backend on MPI: ``"mpi"``; ``"gloo"``, the name CPU programs pass, is
    accepted and also runs on MPI (``get_backend()`` then says ``"mpi"``); ``"nccl"`` needs CUDA GPUs and
    lamina-distributed's NCCL communicator, which is not available.
    """

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    backend_list = [UNDEFINED, GLOO, NCCL, UCC, MPI]

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise ValueError(f"Backend: expected a backend name (str), got {name!r}")
        return super().__new__(cls, name.lower())


_RUNS_ON_MPI = ("mpi", "gloo")


class ProcessGroup:
    """A group of ranks: ``rank()`` and ``size()`` within it, and the communicators that serve it.

    ``host`` is the MPI communicator (host arrays); ``device_comms`` maps a device type to its own
    communicator where the backend has one (none today: tensors on other devices are staged through
    host memory).
    """

    def __init__(self, host: Communicator, ranks: list[int], timeout: datetime.timedelta, name: str,
                 desc: str = "") -> None:
        self.host = host
        self.device_comms: dict[str, Communicator] = {}
        self._ranks = list(ranks)
        self._group_rank = {g: i for i, g in enumerate(self._ranks)}
        self.timeout = timeout
        self._name = name
        self.group_desc = desc or ("default_pg" if name == "0" else "undefined")
        self.bound_device_id: Any = None
        self._inflight: list[_comm.Request] = []

    def rank(self) -> int:
        return self.host.rank

    def size(self) -> int:
        return len(self._ranks)

    def name(self) -> str:
        return self._name

    @property
    def group_name(self) -> str:
        return self._name

    def communicator(self, device_type: str) -> Communicator:
        """The communicator for arrays of ``device_type`` (the host one stages other devices)."""
        return self.device_comms.get(device_type, self.host)

    def track(self, requests: list[_comm.Request]) -> None:
        """Hold started requests (and the buffers they hold) until MPI is done with them, even where the
        caller drops its Work unwaited or gave up on it after a timeout: MPI must never write into freed memory."""
        self._inflight = [r for r in self._inflight if not r.test()]
        self._inflight.extend(requests)

    def wait(self, requests: list[_comm.Request], what: str, timeout: datetime.timedelta | None = None) -> None:
        """Complete ``requests`` or raise DistBackendError naming ``what`` once the timeout has passed."""
        limit = self.timeout if timeout is None else timeout
        _comm.wait(requests, limit.total_seconds(), lambda: DistBackendError(
            f"{what}: timed out after {limit} (timeout={limit.total_seconds():g} s) on rank {self.rank()} of "
            f"{self.size()} in process group {self._name!r} (global rank {self._ranks[self.rank()]}): a rank did not "
            f"join, or the ranks called different collectives. The timeout is init_process_group(timeout=...) or "
            f"new_group(timeout=...), default from {TIMEOUT_ENV} (seconds) or 30 minutes"))

    def __repr__(self) -> str:
        return f"<ProcessGroup {self._name!r} rank {self.rank()} of {self.size()}, global ranks {self._ranks}, mpi>"


class _WorldMeta(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:  # noqa: N802  (torch's name)
        return _state.default


class GroupMember(metaclass=_WorldMeta):
    """``GroupMember.WORLD`` (the default group, None before init) and ``GroupMember.NON_GROUP_MEMBER``."""

    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):  # noqa: N801  (torch's name)
    """``group.WORLD``: the default process group (None before ``init_process_group``)."""


class _State:
    def __init__(self) -> None:
        self.default: ProcessGroup | None = None
        self.groups: dict[int, ProcessGroup] = {}  # id -> every live group this rank is in
        self.count = 0


_state = _State()


def _timeout(timeout: Any, fn: str, fallback: datetime.timedelta | None = None) -> datetime.timedelta:
    if timeout is None:
        if fallback is not None:
            return fallback
        env = os.environ.get(TIMEOUT_ENV)
        if not env:
            return DEFAULT_TIMEOUT
        try:
            seconds = float(env)
        except ValueError:
            raise ValueError(f"{TIMEOUT_ENV}: expected a number of seconds, got {env!r}") from None
        timeout = datetime.timedelta(seconds=seconds)
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"{fn}: expected timeout to be a datetime.timedelta, got {timeout!r}")
    if timeout.total_seconds() <= 0:
        raise ValueError(f"{fn}: expected a positive timeout, got {timeout}")
    return timeout


def _check_backend(backend: Any, fn: str) -> list[str]:
    """Accept None, "mpi", "gloo" and "cpu:gloo,cuda:..." forms; return the device types that asked for a
    communicator of their own ("nccl": "cuda", which raises without GPUs)."""
    if backend is None:
        return []
    if not isinstance(backend, str):
        raise TypeError(f"{fn}: expected backend to be a str such as 'mpi' or 'gloo', got {backend!r}")
    own = []
    for name in (part.split(":", 1)[-1].strip().lower() for part in backend.split(",")):
        if name == Backend.NCCL:
            _nccl_unavailable(fn)
            own.append("cuda")
        elif name not in _RUNS_ON_MPI:
            raise ValueError(f"{fn}: backend must be one of {['mpi', 'gloo']} (both run on MPI) or 'nccl' (needs "
                             f"CUDA GPUs), got {backend!r}")
    return own


def _nccl_unavailable(fn: str) -> None:
    import lamina

    if not lamina.cuda.is_available():
        raise RuntimeError(f"{fn}: backend 'nccl' needs CUDA GPUs, and none is usable here "
                           f"({lamina.cuda.unavailable_reason() or 'no CUDA device'}); lamina-distributed's NCCL "
                           "communicator is moreover not available (designed, not verified). Use backend 'mpi' or "
                           "'gloo' (both run on MPI; CUDA tensors are staged through host memory)")


def _attach_device_comms(pg: ProcessGroup, device_types: list[str]) -> None:
    try:
        for t in device_types:
            pg.device_comms[t] = _comm.DEVICE_COMMUNICATORS[t](pg.host)
    except BaseException:
        pg.host.free()
        raise


def _check_rank_arg(fn: str, what: str, given: Any, actual: int) -> None:
    if given is None or given == -1:
        return
    try:
        value = int(given)
    except (TypeError, ValueError):
        raise ValueError(f"{fn}: expected {what} to be an int, got {given!r}") from None
    if value != actual:
        raise ValueError(f"{fn}: {what}={value} does not match MPI's {what} {actual}; lamina.distributed takes the "
                         f"ranks from the MPI launcher (mpiexec -n N ... or lamina run --nproc-per-node N)")


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1, rank: int = -1,
                       store: Any = None, group_name: str = "", pg_options: Any = None,
                       device_id: Any = None) -> None:
    """Join the default process group: every rank of the MPI job (a singleton world of 1 without a launcher).

    ``backend``: None, "mpi" or "gloo" (all run on MPI). ``init_method``: None or "env://" (MPI needs no
    rendezvous). ``world_size``/``rank`` (or env WORLD_SIZE/RANK), where given, must match MPI's.
    ``timeout`` (default 30 minutes, or env LAMINA_DISTRIBUTED_TIMEOUT seconds) bounds every collective.
    """
    fn = "init_process_group"
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    own = _check_backend(backend, fn)
    limit = _timeout(timeout, fn)
    if init_method not in (None, "env://"):
        raise ValueError(f"{fn}: init_method must be None or 'env://' (MPI's launcher gives the ranks), "
                         f"got {init_method!r}")
    if store is not None:
        raise ValueError(f"{fn}: the MPI backend uses no store; pass store=None")
    if pg_options is not None:
        raise ValueError(f"{fn}: the MPI backend takes no pg_options; pass pg_options=None")
    from ._mpi import MPICommunicator, load

    world = load().COMM_WORLD
    size, me = world.Get_size(), world.Get_rank()
    _check_rank_arg(fn, "world_size", world_size, size)
    _check_rank_arg(fn, "rank", rank, me)
    _check_rank_arg(fn, "world_size", os.environ.get("WORLD_SIZE"), size)
    _check_rank_arg(fn, "rank", os.environ.get("RANK"), me)
    _debug.set_debug_level_from_env()
    pg = ProcessGroup(MPICommunicator.world(limit.total_seconds()), list(range(size)), limit, group_name or "0")
    pg.bound_device_id = device_id
    _attach_device_comms(pg, own)
    _state.default, _state.count = pg, 1
    _state.groups[id(pg)] = pg


def is_initialized() -> bool:
    return _state.default is not None


def default_group() -> ProcessGroup:
    if _state.default is None:
        raise ValueError(_NOT_INITIALIZED)
    return _state.default


def resolve(group: Any) -> ProcessGroup | None:
    """``group`` (None: the default) as a live ProcessGroup; None for ``GroupMember.NON_GROUP_MEMBER``."""
    if group is None:
        return default_group()
    if isinstance(group, ProcessGroup) and id(group) in _state.groups:
        return group
    default_group()
    if isinstance(group, int) and not isinstance(group, bool) and group == GroupMember.NON_GROUP_MEMBER:
        return None
    raise ValueError(f"Group {group!r} is not registered, please create group with lamina.distributed.new_group")


def new_group(ranks: list[int] | None = None, timeout: datetime.timedelta | None = None, backend: str | None = None,
              pg_options: Any = None, use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id: Any = None, sort_ranks: bool = True) -> ProcessGroup | int:
    """A group of the global ``ranks`` (None: all); every rank must call it, unless ``use_local_synchronization``
    (then only the members). A rank outside gets ``GroupMember.NON_GROUP_MEMBER``."""
    fn = "new_group"
    world = default_group()
    own = _check_backend(backend, fn) if backend is not None else list(world.device_comms)
    limit = _timeout(timeout, fn, world.timeout)
    if pg_options is not None:
        raise ValueError(f"{fn}: the MPI backend takes no pg_options; pass pg_options=None")
    size = world.size()
    if ranks is None:
        members = list(range(size))
    else:
        if not all(isinstance(r, int) and not isinstance(r, bool) for r in ranks):
            raise TypeError(f"{fn}: expected ranks to be a list of ints, got {ranks!r}")
        members = sorted(ranks) if sort_ranks else list(ranks)
        if len(set(members)) != len(members):
            raise ValueError(f"{fn}: ranks must be distinct, got {ranks}")
        bad = [r for r in members if not 0 <= r < size]
        if bad:
            raise ValueError(f"{fn}: ranks must lie in [0, {size}) (the default group's world size is {size}), "
                             f"got {bad} in {ranks}")
    if use_local_synchronization and world.rank() not in members:
        return GroupMember.NON_GROUP_MEMBER
    comm = world.host.subgroup(members, use_local_synchronization, limit.total_seconds())
    _state.count += 1
    if comm is None:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, members, limit, str(_state.count - 1) if not use_local_synchronization else
                      f"local:{','.join(map(str, members))}", group_desc or "")
    pg.bound_device_id = device_id
    _attach_device_comms(pg, own)
    _state.groups[id(pg)] = pg
    return pg


def destroy_process_group(group: Any = None) -> None:
    """Free ``group``'s communicator, or (None) every group and the default one; init may then run again."""
    if group is None or group is _state.default:
        if _state.default is None:
            raise AssertionError("destroy_process_group: the default process group is not initialized "
                                 "(call init_process_group first)")
        for member in list(_state.groups.values()):
            member.host.free()
        _state.groups.clear()
        _state.default, _state.count = None, 0
        return
    pg = resolve(group)
    if pg is not None:
        pg.host.free()
        del _state.groups[id(pg)]


def get_rank(group: Any = None) -> int:
    """This process's rank in ``group`` (default: the world); -1 outside the group."""
    pg = resolve(group)
    return -1 if pg is None else pg.rank()


def get_world_size(group: Any = None) -> int:
    """The number of ranks in ``group`` (default: the world); -1 outside the group."""
    pg = resolve(group)
    return -1 if pg is None else pg.size()


def get_backend(group: Any = None) -> Backend:
    """Always ``"mpi"`` (``"gloo"`` also runs on MPI)."""
    if resolve(group) is None:
        raise ValueError("Invalid process group specified")
    return Backend(Backend.MPI)


def _member(group: Any, fn: str) -> ProcessGroup:
    pg = resolve(group)
    if pg is None:
        raise ValueError(f"{fn}: this rank ({get_rank()}) is not a member of the group (GroupMember.NON_GROUP_MEMBER)")
    return pg


def get_process_group_ranks(group: Any) -> list[int]:
    """The global ranks of ``group`` (None: the default group), in group-rank order."""
    return list(_member(group, "get_process_group_ranks")._ranks)


def get_global_rank(group: Any, group_rank: int) -> int:
    """The global rank of ``group_rank`` in ``group``."""
    pg = _member(group, "get_global_rank")
    if not isinstance(group_rank, int) or not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg!r}")
    return pg._ranks[group_rank]


def get_group_rank(group: Any, global_rank: int) -> int:
    """The rank within ``group`` of ``global_rank``."""
    pg = _member(group, "get_group_rank")
    if global_rank not in pg._group_rank:
        raise ValueError(f"Global rank {global_rank} is not part of group {pg!r}")
    return pg._group_rank[global_rank]


def group_rank(pg: ProcessGroup, global_rank: int | None, rank_in_group: int | None, fn: str, what: str) -> int:
    """torch's src/group_src (dst/group_dst) rule: exactly one given; the rank within ``pg``."""
    if rank_in_group is not None:
        if global_rank is not None:
            raise ValueError(f"{fn}: can't specify both {what} and group_{what}")
        if not isinstance(rank_in_group, int) or not 0 <= rank_in_group < pg.size():
            raise ValueError(f"{fn}: group_{what} must lie in [0, {pg.size()}), got {rank_in_group!r}")
        return rank_in_group
    if global_rank is None:
        raise ValueError(f"{fn}: must specify {what} or group_{what}")
    if global_rank not in pg._group_rank:
        raise ValueError(f"{fn}: {what}={global_rank!r} is not a rank of process group {pg.name()!r} "
                         f"(its global ranks are {pg._ranks})")
    return pg._group_rank[global_rank]


def is_torchelastic_launched() -> bool:
    """True under torchelastic (torchrun), which sets TORCHELASTIC_RUN_ID; lamina's launcher is MPI."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None
