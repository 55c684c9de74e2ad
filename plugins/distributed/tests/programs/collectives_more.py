"""The rest of the in-rank checks (run by ``collectives_all.py``): sub-groups and non-members, point-to-point
(any source, batches), object collectives, async work, barriers, tensors on another device (staged
through the host), a large message on both reduction paths, and the version counter against autograd.
"""

from __future__ import annotations

import warnings

import lamina
import lamina.distributed as dist
import numpy as np
from collectives_all import Checks, expect, expect_true, values
from lamina_distributed import _mpi_ops


def groups(rank: int, size: int) -> None:
    members = [0, size - 1]
    g = dist.new_group(members)
    if rank in members:
        expect(dist.get_rank(g), members.index(rank), "dist.get_rank(g)")
        expect(dist.get_world_size(g), 2, "dist.get_world_size(g)")
        expect(dist.get_process_group_ranks(g), members, "dist.get_process_group_ranks(g)")
        expect(dist.get_global_rank(g, 1), size - 1, "dist.get_global_rank(g")
        expect(dist.get_group_rank(g, size - 1), 1, "dist.get_group_rank(g")
        t = lamina.tensor([float(rank + 1)])
        dist.all_reduce(t, group=g)
        expect(t, np.array([1.0 + size], np.float32), "all_reduce on a sub-group")
        t = lamina.tensor([float(rank)])
        dist.broadcast(t, src=size - 1, group=g)  # src: a global rank
        expect(t, np.array([size - 1.0], np.float32), "broadcast src global")
        t = lamina.tensor([float(rank)])
        dist.broadcast(t, group=g, group_src=0)
        expect(t, np.array([0.0], np.float32), "broadcast group_src")
    else:
        expect_true(g == dist.GroupMember.NON_GROUP_MEMBER, f"non-member gets NON_GROUP_MEMBER, got {g!r}")
        expect(dist.get_rank(g), -1, "dist.get_rank(g)")
        expect(dist.get_world_size(g), -1, "dist.get_world_size(g)")
        t = lamina.tensor([5.0])
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            expect_true(dist.all_reduce(t, group=g) is None, "non-member all_reduce returns None")
        expect_true(any("does not belong to the given group" in str(w.message) for w in seen), "warned")
        expect(t, np.array([5.0], np.float32), "non-member tensor untouched")
    # a reversed order kept (sort_ranks=False): group rank 0 is the last global rank
    rev = dist.new_group(list(range(size))[::-1], sort_ranks=False)
    expect(dist.get_rank(rev), size - 1 - rank, "dist.get_rank(rev)")
    t = lamina.tensor([float(rank)])
    dist.broadcast(t, group=rev, group_src=0)
    expect(t, np.array([size - 1.0], np.float32), "broadcast in a reordered group")
    # local synchronization: only the members call it
    if rank != 0:
        loc = dist.new_group(list(range(1, size)), use_local_synchronization=True)
        t = lamina.tensor([1.0])
        dist.all_reduce(t, group=loc)
        expect(t, np.array([size - 1.0], np.float32), "all_reduce on a locally made group")
        dist.destroy_process_group(loc)
    dist.destroy_process_group(rev)


def p2p(rank: int, size: int) -> None:
    right, left = (rank + 1) % size, (rank - 1) % size
    w = dist.isend(lamina.tensor([float(rank), 1.0]), dst=right, tag=3)
    got = lamina.zeros(2)
    expect(dist.recv(got, src=left, tag=3), left, "dist.recv(got")
    w.wait()
    expect(got, np.array([left, 1.0], np.float32), "ring recv")
    # any source: every other rank sends its rank to rank 0
    if rank == 0:
        seen = {}
        for _ in range(size - 1):
            t = lamina.zeros(1, dtype=lamina.int64)
            sender = dist.recv(t, tag=7)
            seen[sender] = int(t.item())
        expect(seen, {r: r * 10 for r in range(1, size)}, "seen")
    else:
        dist.send(lamina.tensor([rank * 10]), dst=0, tag=7)
    # irecv from any source tells the sender through the Work
    if rank == 1:
        t = lamina.zeros(3)
        w = dist.irecv(t)
        w.wait()
        expect(w.source_rank(), 0, "w.source_rank()")
        expect(t, np.array([1.0, 2.0, 3.0], np.float32), "irecv any source")
    elif rank == 0:
        dist.send(lamina.tensor([1.0, 2.0, 3.0]), dst=1)
    # batch_isend_irecv: both neighbours at once, into a non-contiguous buffer
    into = lamina.zeros(3, 2).t()
    ops = [dist.P2POp(dist.isend, lamina.full((2, 3), float(rank)), right),
           dist.P2POp(dist.irecv, into, left)]
    for w in dist.batch_isend_irecv(ops):
        expect_true(w.wait() is True, "batch work wait")
    expect(into, np.full((2, 3), float(left), np.float32), "batch_isend_irecv")


def objects(rank: int, size: int) -> None:
    everyone = [None] * size
    dist.all_gather_object(everyone, {"rank": rank, "pad": "x" * rank * 50})
    expect(everyone, [{"rank": r, "pad": "x" * r * 50} for r in range(size)], "everyone")
    items = [("from", rank), [rank] * 3] if rank == size - 1 else [None, None]
    dist.broadcast_object_list(items, src=size - 1)
    expect(items, [("from", size - 1), [size - 1] * 3], "items")
    gl = [None] * size if rank == 0 else None
    dist.gather_object({"r": rank, "big": list(range(rank * 100))}, gl, dst=0)
    if rank == 0:
        expect(gl, [{"r": r, "big": list(range(r * 100))} for r in range(size)], "gl")
    out = [None]
    dist.scatter_object_list(out, [f"to {r}" * (r + 1) for r in range(size)] if rank == 0 else None, src=0)
    expect(out, [f"to {rank}" * (rank + 1)], "out")
    if rank == 0:
        dist.send_object_list([{"k": 1}, "two"], dst=size - 1)
    elif rank == size - 1:
        got = [None, None]
        expect(dist.recv_object_list(got, src=0), 0, "dist.recv_object_list(got")
        expect(got, [{"k": 1}, "two"], "got")


def async_work(rank: int, size: int) -> None:
    t = lamina.full((1000,), float(rank))
    w = dist.all_reduce(t, async_op=True)
    while not w.is_completed():  # polls; the job's timeout bounds a hang
        pass
    expect_true(w.wait() is True and w.is_success() and w.exception() is None, "work state")
    expect_true(w.result()[0] is t, "result() is the tensor")
    expect(t, np.full(1000, sum(range(size)), np.float32), "async all_reduce")
    t = lamina.full((4,), 1.0)
    fut = dist.all_reduce(t, op=dist.ReduceOp.AVG, async_op=True).get_future()
    doubled = fut.then(lambda f: f.value()[0] * 2)
    expect(doubled.wait(), np.full(4, 2.0, np.float32), "future.then")
    # several in flight, completed in reverse order
    ts = [lamina.full((3,), float(rank + i)) for i in range(3)]
    works = [dist.all_reduce(x, async_op=True) for x in ts]
    for w in works[::-1]:
        w.wait()
    for i, x in enumerate(ts):
        expect(x, np.full(3, sum(range(size)) + size * i, np.float32), f"in flight {i}")
    outs = [lamina.zeros(2) for _ in range(size)]
    w = dist.all_gather(outs, lamina.full((2,), float(rank)), async_op=True)
    w.wait()
    expect_true(all(a is b for a, b in zip(w.result(), outs)) and len(w.result()) == size, "all_gather result()")
    expect_true(dist.barrier(async_op=True).wait(), "async barrier")
    dist.barrier()
    dist.monitored_barrier(wait_all_ranks=True)


class FakeBackend(lamina.backends.Backend):
    """A second device type ("fake"), NumPy underneath: its tensors are staged through host copies."""

    name = "numpy_fake"
    device_type = "fake"
    xp = np
    array_type = np.ndarray

    def from_host(self, array, index):
        return np.array(array)

    def to_host(self, array):
        return np.array(array)


def devices(rank: int, size: int) -> None:
    from lamina import plugins

    plugins.register("lamina.backends.fake", "numpy_fake", FakeBackend, replace=True)
    t = lamina.full((2, 2), float(rank + 1)).to("fake")
    dist.all_reduce(t)
    expect(t.device.type, "fake", "t.device.type")
    expect(t.cpu(), np.full((2, 2), size * (size + 1) / 2, np.float32), "all_reduce on a staged device")
    t = lamina.full((3,), float(rank)).to("fake")
    dist.broadcast(t, src=size - 1)
    expect(t.cpu(), np.full(3, size - 1.0, np.float32), "broadcast on a staged device")
    big = lamina.zeros(size, 2).to("fake")
    dist.all_gather_into_tensor(big, lamina.full((2,), float(rank)).to("fake"))
    expect(big.cpu(), np.repeat(np.arange(size, dtype=np.float32), 2).reshape(size, 2), "gather staged")


def large(rank: int, size: int) -> None:
    for native in (True, False):
        _mpi_ops.USE_NATIVE = native
        x = [values(r, (300_000,), lamina.float32, 41) for r in range(size)]
        t = lamina.from_numpy(x[rank].copy())
        dist.all_reduce(t)
        expect(t, np.sum(x, axis=0, dtype=np.float32), f"large all_reduce native={native}")
        h = [values(r, (100_001,), lamina.float16, 42) for r in range(size)]
        t = lamina.from_numpy(h[rank].copy())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        expect(t, np.max(h, axis=0), f"large float16 max native={native}")
    _mpi_ops.USE_NATIVE = True


def aliasing(rank: int, size: int) -> None:
    # the in-place forms: the input is this rank's slice of the output
    out = lamina.zeros(size * 2)
    mine = out[rank * 2:(rank + 1) * 2]
    mine.fill_(float(rank + 1))
    dist.all_gather_into_tensor(out, mine)
    expect(out, np.repeat(np.arange(1, size + 1, dtype=np.float32), 2), "all_gather_into_tensor in place")
    whole = lamina.arange(float(size * 2))
    dist.reduce_scatter_tensor(whole[:2], whole)
    expect(whole[:2], np.array([size * 2.0 * rank, size * (2.0 * rank + 1)], np.float32), "reduce_scatter in place")


def versions(rank: int, size: int) -> None:
    x = lamina.ones(3, requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    dist.all_reduce(y)  # y was saved for backward: the counted write must make backward refuse
    try:
        z.backward()
    except RuntimeError as e:
        assert "modified by an inplace operation" in str(e), e
    else:
        raise AssertionError("backward ran through a tensor that all_reduce overwrote")


def run(c: Checks, rank: int, size: int) -> None:
    for fn in (groups, p2p, objects, async_work, devices, large, aliasing, versions):
        c.run(fn.__name__, fn, rank, size)
