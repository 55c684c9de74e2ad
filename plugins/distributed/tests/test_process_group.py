"""Process groups in one process (MPI's singleton init: a world of size 1): init, destroy, groups, errors.

torch.distributed (CPU) is the oracle for the exception types and messages of the uninitialised state.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import lamina
import lamina.distributed as dist
import pytest

torch = pytest.importorskip("torch")
import torch.distributed as tdist  # noqa: E402

PROGRAMS = Path(__file__).parent / "programs"
_ENV = ("RANK", "WORLD_SIZE", "TORCH_DISTRIBUTED_DEBUG", "LAMINA_DISTRIBUTED_DEBUG", "LAMINA_DISTRIBUTED_TIMEOUT",
        "TORCHELASTIC_RUN_ID")


@pytest.fixture
def clean(monkeypatch):
    """No default group before or after; the environment variables that init_process_group reads unset."""
    for var in _ENV:
        monkeypatch.delenv(var, raising=False)
    if dist.is_initialized():
        dist.destroy_process_group()
    yield
    if dist.is_initialized():
        dist.destroy_process_group()
    dist.set_debug_level(dist.DebugLevel.OFF)


@pytest.fixture
def world(clean):
    dist.init_process_group()
    yield dist.group.WORLD


UNINITIALISED = [
    ("get_rank", lambda d: d.get_rank()),
    ("get_world_size", lambda d: d.get_world_size()),
    ("get_backend", lambda d: d.get_backend()),
    ("new_group", lambda d: d.new_group()),
    ("barrier", lambda d: d.barrier()),
    ("all_reduce", lambda d: d.all_reduce(torch.ones(2) if d is tdist else lamina.ones(2))),
    ("destroy_process_group", lambda d: d.destroy_process_group()),
]


@pytest.mark.parametrize("name,call", UNINITIALISED, ids=[n for n, _ in UNINITIALISED])
def test_uninitialised_default_group_raises_as_torch(clean, name, call) -> None:
    assert not tdist.is_initialized()
    with pytest.raises(Exception) as theirs:
        call(tdist)
    with pytest.raises(type(theirs.value)) as ours:
        call(dist)
    assert type(ours.value) is type(theirs.value)
    if isinstance(theirs.value, ValueError):
        assert str(ours.value) == str(theirs.value)  # "Default process group has not been initialized, ..."
    assert not dist.is_initialized() and dist.group.WORLD is None and dist.GroupMember.WORLD is None


def test_init_destroy_and_init_again(clean) -> None:
    dist.init_process_group()
    assert dist.is_initialized()
    assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
    world = dist.group.WORLD
    assert isinstance(world, dist.ProcessGroup) and dist.GroupMember.WORLD is world
    assert (world.rank(), world.size()) == (0, 1)
    assert world.timeout == datetime.timedelta(minutes=30)
    with pytest.raises(ValueError, match="trying to initialize the default process group twice!"):
        dist.init_process_group()
    dist.destroy_process_group()
    assert not dist.is_initialized() and dist.group.WORLD is None
    dist.init_process_group(backend="gloo", init_method="env://", world_size=1, rank=0)
    assert dist.get_backend() == dist.Backend.MPI and dist.get_world_size() == 1
    assert dist.group.WORLD is not world
    with pytest.raises(ValueError, match="is not registered"):
        dist.get_rank(world)  # a destroyed group is no group


@pytest.mark.parametrize("backend", ["mpi", "MPI", "gloo", "cpu:gloo", dist.Backend.GLOO])
def test_cpu_backends_run_on_mpi(clean, backend) -> None:
    dist.init_process_group(backend=backend)
    assert dist.get_backend() == "mpi" and isinstance(dist.get_backend(), dist.Backend)


def test_nccl_needs_gpus_and_is_not_available(clean) -> None:
    # without a usable CUDA device: the GPU message; with one: the NCCL communicator slot refuses
    expected = "needs CUDA GPUs" if not lamina.cuda.is_available() else "designed, not verified"
    with pytest.raises(RuntimeError, match=expected) as e:
        dist.init_process_group(backend="nccl")
    assert "NCCL" in str(e.value)
    with pytest.raises(RuntimeError, match=expected):
        dist.init_process_group(backend="cpu:gloo,cuda:nccl")
    assert not dist.is_initialized()
    assert not dist.is_nccl_available() and not dist.is_gloo_available()


@pytest.mark.parametrize("kwargs,error,match", [
    ({"backend": "ucc"}, ValueError, r"backend must be one of \['mpi', 'gloo'\].*got 'ucc'"),
    ({"backend": 3}, TypeError, "expected backend to be a str"),
    ({"world_size": 4}, ValueError, "world_size=4 does not match MPI's world_size 1"),
    ({"rank": 2}, ValueError, "rank=2 does not match MPI's rank 0"),
    ({"init_method": "tcp://127.0.0.1:23456"}, ValueError, "init_method must be None or 'env://'"),
    ({"timeout": 30}, TypeError, "expected timeout to be a datetime.timedelta, got 30"),
    ({"timeout": datetime.timedelta(0)}, ValueError, "expected a positive timeout"),
    ({"store": object()}, ValueError, "uses no store"),
    ({"pg_options": object()}, ValueError, "takes no pg_options"),
])
def test_init_arguments_are_checked(clean, kwargs, error, match) -> None:
    with pytest.raises(error, match=match):
        dist.init_process_group(**kwargs)
    assert not dist.is_initialized()


def test_environment_rank_and_world_size_must_match_mpi(clean, monkeypatch) -> None:
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="world_size=2 does not match MPI's world_size 1"):
        dist.init_process_group()
    monkeypatch.setenv("WORLD_SIZE", "1")
    monkeypatch.setenv("RANK", "0")
    dist.init_process_group()
    assert dist.get_rank() == 0


def test_timeout_from_the_environment(clean, monkeypatch) -> None:
    monkeypatch.setenv("LAMINA_DISTRIBUTED_TIMEOUT", "2.5")
    dist.init_process_group()
    assert dist.group.WORLD.timeout == datetime.timedelta(seconds=2.5)
    assert dist.new_group().timeout == datetime.timedelta(seconds=2.5)  # groups inherit the world's
    assert dist.new_group(timeout=datetime.timedelta(seconds=7)).timeout == datetime.timedelta(seconds=7)
    dist.destroy_process_group()
    monkeypatch.setenv("LAMINA_DISTRIBUTED_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="LAMINA_DISTRIBUTED_TIMEOUT: expected a number of seconds, got 'soon'"):
        dist.init_process_group()
    dist.init_process_group(timeout=datetime.timedelta(seconds=3))  # an explicit timeout wins
    assert dist.group.WORLD.timeout == datetime.timedelta(seconds=3)


def test_groups_and_rank_translation(world) -> None:
    assert dist.get_process_group_ranks(None) == [0] == dist.get_process_group_ranks(world)
    g = dist.new_group([0], group_desc="mine")
    assert isinstance(g, dist.ProcessGroup) and g is not world and g.group_desc == "mine"
    assert (dist.get_rank(g), dist.get_world_size(g), dist.get_backend(g)) == (0, 1, "mpi")
    assert dist.get_global_rank(g, 0) == 0 and dist.get_group_rank(g, 0) == 0
    with pytest.raises(ValueError, match="Group rank 1 is not part of group"):
        dist.get_global_rank(g, 1)
    with pytest.raises(ValueError, match="Global rank 3 is not part of group"):
        dist.get_group_rank(g, 3)
    t = lamina.ones(3)
    dist.all_reduce(t, group=g)
    assert t.tolist() == [1.0, 1.0, 1.0]
    dist.destroy_process_group(g)
    with pytest.raises(ValueError, match="is not registered, please create group with lamina.distributed.new_group"):
        dist.all_reduce(t, group=g)
    assert dist.is_initialized()  # destroying a sub-group keeps the world
    with pytest.raises(ValueError, match="is not registered"):
        dist.get_rank("x")
    local = dist.new_group([0], use_local_synchronization=True)
    assert dist.get_world_size(local) == 1


def test_non_member_semantics_as_torch(world) -> None:
    nm = dist.GroupMember.NON_GROUP_MEMBER
    assert nm == -100
    assert dist.get_rank(nm) == -1 and dist.get_world_size(nm) == -1
    t = lamina.ones(2)
    with pytest.warns(UserWarning, match="Running all_reduce on global rank 0 which does not belong to the given"):
        assert dist.all_reduce(t, group=nm) is None
    with pytest.raises(ValueError, match="Invalid process group specified"):
        dist.get_backend(nm)
    with pytest.raises(ValueError, match="not a member"):
        dist.get_process_group_ranks(nm)


@pytest.mark.parametrize("ranks,error,match", [
    ([0, 0], ValueError, "ranks must be distinct"),
    ([1], ValueError, r"ranks must lie in \[0, 1\).*got \[1\]"),
    (["0"], TypeError, "expected ranks to be a list of ints"),
])
def test_new_group_checks_ranks(world, ranks, error, match) -> None:
    with pytest.raises(error, match=match):
        dist.new_group(ranks)


def test_backend_reduce_op_and_debug_level_names(clean, monkeypatch) -> None:
    assert dist.Backend("GLOO") == "gloo" == dist.Backend.GLOO == tdist.Backend("GLOO")
    with pytest.raises(ValueError, match="expected a backend name"):
        dist.Backend(3)
    R = dist.ReduceOp
    assert [m.name for m in R.RedOpType] == ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]
    assert R("max") is R.MAX and R(R.BXOR) is R.BXOR and R() is R.SUM
    with pytest.raises(TypeError, match="expected op to be a lamina.distributed.ReduceOp"):
        R("mean")
    monkeypatch.setenv("LAMINA_DISTRIBUTED_DEBUG", "detail")
    dist.init_process_group()
    assert dist.get_debug_level() is dist.DebugLevel.DETAIL
    dist.destroy_process_group()
    monkeypatch.delenv("LAMINA_DISTRIBUTED_DEBUG")
    monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "INFO")
    dist.init_process_group()
    assert dist.get_debug_level() is dist.DebugLevel.INFO
    dist.destroy_process_group()
    monkeypatch.setenv("TORCH_DISTRIBUTED_DEBUG", "LOUD")
    with pytest.raises(ValueError, match=r"TORCH_DISTRIBUTED_DEBUG: expected one of \['OFF', 'INFO', 'DETAIL'\]"):
        dist.init_process_group()


def test_availability_and_torchelastic(clean, monkeypatch) -> None:
    assert dist.is_available() and dist.is_mpi_available()
    assert not dist.is_torchelastic_launched()
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    assert dist.is_torchelastic_launched() == tdist.is_torchelastic_launched() is True


def test_mpi_is_imported_lazily_and_its_absence_names_the_pip_command() -> None:
    out = subprocess.run([sys.executable, str(PROGRAMS / "pg_no_mpi.py")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["mpi4py_after_import"] is False, "import lamina.distributed imported mpi4py"
    assert got["is_available"] is True and got["is_mpi_available"] is False
    assert got["is_import_error"] is True and got["error_type"] == "MPIUnavailableError"
    assert 'pip install "lamina-distributed[mpi]"' in got["message"] and 'pip install "lamina[mpi]"' in got["message"]
    assert got["is_initialized"] is False
