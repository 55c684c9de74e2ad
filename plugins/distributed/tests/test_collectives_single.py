"""Collectives in one process (a world of size 1): argument errors against torch.distributed's (gloo), and
results against torch's at world size 1.

Each bad call runs in torch (gloo, world size 1 over a HashStore) and in lamina: lamina's exception must be
an instance of torch's exception type, and its message must name the collective.
"""

from __future__ import annotations

import datetime
import sys
import warnings

import lamina
import lamina.distributed as dist
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.distributed as tdist  # noqa: E402


@pytest.fixture
def worlds(monkeypatch):
    """lamina's and torch's default groups, both of size 1 (per test: pytest-xdist may run another module's
    tests, which destroy groups, between two of these in one worker). torch's init wraps sys.excepthook to
    prefix "[rank0]: " (once more per init): put the hook back, for the in-process launcher tests."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    if dist.is_initialized():
        dist.destroy_process_group()
    ours_only = tdist.is_initialized()  # another test module left torch's group up: use it as it is
    if not ours_only:
        tdist.init_process_group("gloo", store=tdist.HashStore(), rank=0, world_size=1)
    dist.init_process_group()
    yield
    dist.destroy_process_group()
    if not ours_only:
        tdist.destroy_process_group()


def _pair(lib):
    """lib's namespace and tensor factory: (dist module, ones, zeros)."""
    if lib is dist:
        return dist, lamina.ones, lamina.zeros
    return tdist, torch.ones, torch.zeros


# (id, call(d, ones, zeros), the collective lamina's message must name)
BAD_CALLS = [
    ("not_a_tensor", lambda d, o, z: d.all_reduce([1.0]), "all_reduce"),
    ("band_on_float", lambda d, o, z: d.all_reduce(o(2), op=d.ReduceOp.BAND), "all_reduce"),
    ("bor_on_float", lambda d, o, z: d.reduce(o(2), dst=0, op=d.ReduceOp.BOR), "reduce"),
    ("max_on_complex", lambda d, o, z: d.all_reduce(o(2, dtype=_dt(d, "complex64")), op=d.ReduceOp.MAX),
     "all_reduce"),
    ("product_on_complex", lambda d, o, z: d.all_reduce(o(2, dtype=_dt(d, "complex64")), op=d.ReduceOp.PRODUCT),
     "all_reduce"),
    ("avg_on_int", lambda d, o, z: d.all_reduce(o(2, dtype=_dt(d, "int64")), op=d.ReduceOp.AVG), "all_reduce"),
    ("avg_on_bool", lambda d, o, z: d.all_reduce(o(2, dtype=_dt(d, "bool")), op=d.ReduceOp.AVG), "all_reduce"),
    ("broadcast_no_src", lambda d, o, z: d.broadcast(o(2)), "broadcast"),
    ("broadcast_both_src", lambda d, o, z: d.broadcast(o(2), src=0, group_src=0), "broadcast"),
    ("all_gather_wrong_dtype", lambda d, o, z: d.all_gather([z(2, dtype=_dt(d, "int64"))], o(2)), "all_gather"),
    ("all_gather_not_a_list", lambda d, o, z: d.all_gather(z(2), o(2)), "all_gather"),
    ("all_gather_into_tensor_size", lambda d, o, z: d.all_gather_into_tensor(z(3), o(2)), "all_gather_into_tensor"),
    ("gather_wrong_size", lambda d, o, z: d.gather(o(2), [z(3)], dst=0), "gather"),
    ("gather_no_list_on_dst", lambda d, o, z: d.gather(o(2), None, dst=0), "gather"),
    ("scatter_no_list_on_src", lambda d, o, z: d.scatter(z(2), None, src=0), "scatter"),
    ("scatter_wrong_size", lambda d, o, z: d.scatter(z(2), [o(3)], src=0), "scatter"),
    ("reduce_scatter_list_length", lambda d, o, z: d.reduce_scatter(z(2), [o(2), o(2)]), "reduce_scatter"),
    ("reduce_scatter_tensor_size", lambda d, o, z: d.reduce_scatter_tensor(z(3), o(4)), "reduce_scatter_tensor"),
    ("all_to_all_list_length", lambda d, o, z: d.all_to_all([z(2)], [o(2), o(2)]), "all_to_all"),
    ("all_to_all_single_split_sum", lambda d, o, z: d.all_to_all_single(z(3), o(3), [1], [2]), "all_to_all_single"),
    ("all_to_all_single_split_count", lambda d, o, z: d.all_to_all_single(z(3), o(3), [1, 2], [3]),
     "all_to_all_single"),
    ("all_to_all_single_trailing", lambda d, o, z: d.all_to_all_single(z(3, 2), o(3, 3)), "all_to_all_single"),
    ("isend_negative_tag", lambda d, o, z: d.isend(o(2), 0, tag=-1), "isend"),
    ("send_to_self", lambda d, o, z: d.send(o(2), 0), "destination"),
    ("p2pop_bad_op", lambda d, o, z: d.P2POp(d.send, o(2), 0), "op"),
    ("barrier_timeout_not_timedelta", lambda d, o, z: d.barrier(timeout=5), "barrier"),
    ("scatter_object_list_empty_output", lambda d, o, z: d.scatter_object_list([], [1]), "scatter_object_output_list"),
    ("scatter_object_list_no_input", lambda d, o, z: d.scatter_object_list([None], None), "scatter_object_input_list"),
]


def _dt(d, name: str):
    return getattr(lamina if d is dist else torch, name)


@pytest.mark.parametrize("call,names", [(c, n) for _, c, n in BAD_CALLS], ids=[i for i, _, _ in BAD_CALLS])
def test_bad_calls_raise_torchs_exception_type(worlds, call, names) -> None:
    with pytest.raises(Exception) as theirs, warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch's deprecation notes on *_tensor collectives
        call(*_pair(tdist))
    with pytest.raises(Exception) as ours:
        call(*_pair(dist))
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value).__mro__, type(theirs.value))
    assert names in str(ours.value), str(ours.value)


def test_errors_name_what_was_expected_and_got(worlds) -> None:
    with pytest.raises(lamina.errors.ShapeError, match=r"all_gather_into_tensor: expected output_tensor with 2 "
                       r"elements \(world size 1 x the input's 2\), got shape \(3,\) \(3 elements\)"):
        dist.all_gather_into_tensor(lamina.zeros(3), lamina.ones(2))
    with pytest.raises(lamina.errors.DTypeError, match="ReduceOp.AVG needs a floating-point or complex tensor"):
        dist.all_reduce(lamina.ones(2, dtype=lamina.int32), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match=r"broadcast: src=1 is not a rank of process group '0' \(its global ranks "
                       r"are \[0\]\)"):
        dist.broadcast(lamina.ones(2), src=1)
    with pytest.raises(TypeError, match="expected op to be a lamina.distributed.ReduceOp"):
        dist.all_reduce(lamina.ones(2), op="mean")
    with pytest.raises(lamina.errors.ShapeError, match=r"expected input_split_sizes to be 1 non-negative ints summing "
                       r"to dim 0 of the tensor \(5\), got \[4\]"):
        dist.all_to_all_single(lamina.zeros(5), lamina.ones(5), [5], [4])
    with pytest.raises(lamina.errors.ShapeError, match=r"all_gather: expected `tensor_list` to hold 1 tensors"):
        dist.all_gather([], lamina.ones(2))


# (id, call(d, tensor factory from a NumPy array)): run in both, compare every output tensor
RESULTS = [
    ("all_reduce_avg", lambda d, T: [_run(d.all_reduce, T([1.5, 2.0]), op=d.ReduceOp.AVG)]),
    ("all_reduce_bool_sum", lambda d, T: [_run(d.all_reduce, T(np.array([True, False])))]),
    ("reduce_max", lambda d, T: [_run(d.reduce, T([3.0, -1.0]), dst=0, op=d.ReduceOp.MAX)]),
    ("broadcast_2d", lambda d, T: [_run(d.broadcast, T(np.arange(6.0).reshape(2, 3)), src=0)]),
    ("all_gather_into_tensor", lambda d, T: _gather_into(d, T)),
    ("reduce_scatter_tensor", lambda d, T: _rst(d, T)),
    ("all_to_all_single_splits", lambda d, T: _a2a(d, T)),
]


def _array(a) -> np.ndarray:
    return a if isinstance(a, np.ndarray) else np.asarray(a, dtype=np.float32)


def _run(fn, t, **kw):
    fn(t, **kw)
    return t


def _gather_into(d, T):
    out = T(np.zeros(3))  # gloo takes a flat output only; lamina also (world, N) (the MPI jobs check it)
    d.all_gather_into_tensor(out, T(np.array([1.0, 2.0, 3.0])))
    return [out]


def _rst(d, T):
    out = T(np.zeros(2))
    d.reduce_scatter_tensor(out, T(np.array([4.0, 5.0])))
    return [out]


def _a2a(d, T):
    out = T(np.zeros((3, 2)))
    d.all_to_all_single(out, T(np.arange(6.0).reshape(3, 2)), [3], [3])
    return [out]


@pytest.mark.parametrize("call", [c for _, c in RESULTS], ids=[i for i, _ in RESULTS])
def test_world_of_one_results_match_torch(worlds, call) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = call(tdist, lambda a: torch.as_tensor(_array(a)))
    ours = call(dist, lambda a: lamina.as_tensor(_array(a)))
    assert len(ours) == len(theirs) > 0
    for t, o in zip(theirs, ours):
        assert o.numpy().tolist() == t.numpy().tolist() and str(o.dtype).split(".")[1] == str(t.dtype).split(".")[1]


def test_async_work_at_world_size_one(worlds) -> None:
    t = lamina.ones(3)
    w = dist.all_reduce(t, async_op=True)
    assert isinstance(w, dist.Work) and w.wait(timeout=datetime.timedelta(seconds=5)) is True
    assert w.is_completed() and w.is_success() and w.exception() is None and w.result()[0] is t
    with pytest.raises(ValueError, match="source_rank.. is only defined for a receive"):
        w.source_rank()
    with pytest.raises(TypeError, match="Work.wait: expected timeout to be a datetime.timedelta"):
        dist.all_reduce(t, async_op=True).wait(timeout=5)
    assert dist.barrier(async_op=True).wait()
    assert dist.isend(lamina.ones(1), dst=0) is not None  # a send to oneself may be started, not awaited
    got = lamina.zeros(1)
    assert dist.irecv(got, src=0).wait() and got.tolist() == [1.0]
    with pytest.raises(ValueError, match="batch_isend_irecv: expected a non-empty list of P2POp"):
        dist.batch_isend_irecv([])
