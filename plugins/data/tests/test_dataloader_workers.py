"""DataLoader(num_workers > 0): the same batches as num_workers=0, worker info, seeds, prefetching,
persistent workers, start methods and the shared-memory transport."""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import random

import lamina
import numpy as np
import pytest
from _dataloader_procs import child_pids, our_segments, wait_until
from lamina.utils.data import DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info
from lamina_data import _shm

FORK = "fork"


class Records(Dataset):
    """Structured samples (dict, string, int, array) through the per-sample path."""

    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        return {"x": np.full((2, 3), i, dtype=np.float32), "name": f"s{i}", "i": i,
                "big": np.full(_shm.INLINE_BYTES // 8, i, dtype=np.float32)}

    def __len__(self):
        return self.n


class Sharded(IterableDataset):
    """range(n) split into contiguous, uneven shards by get_worker_info()."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        per = -(-self.n // info.num_workers)
        return iter(range(info.id * per, min(self.n, (info.id + 1) * per)))


_init_calls: list[int] = []


def record_init(worker_id):
    _init_calls.append(worker_id)


class WhoAmI(Dataset):
    """Each sample: the worker's info, init calls, pid and one draw from every seeded RNG."""

    def __getitem__(self, i):
        info = get_worker_info()
        return dict(id=info.id, num_workers=info.num_workers, seed=info.seed, same=info.dataset is self,
                    init=list(_init_calls), pid=os.getpid(), lamina=lamina.rand(()).item(),
                    random=random.random(), numpy=float(np.random.rand()))

    def __len__(self):
        return 8


class Counted(Dataset):
    """Counts its fetches in shared memory, to watch how far the workers run ahead."""

    def __init__(self, n, counter):
        self.n, self.counter = n, counter

    def __getitem__(self, i):
        with self.counter.get_lock():
            self.counter.value += 1
        return i

    def __len__(self):
        return self.n


def tensor_dataset(n=23):
    rng = np.random.default_rng(0)
    return TensorDataset(lamina.tensor(rng.standard_normal((n, 3)).astype(np.float32)), lamina.arange(n))


def plain(batch):
    """Batches as nested Python values, for comparison."""
    if isinstance(batch, lamina.Tensor):
        return batch.tolist()
    if isinstance(batch, dict):
        return {k: plain(v) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return [plain(b) for b in batch]
    return batch


def epoch(loader):
    return [plain(b) for b in loader]


def seeded(seed=5):
    return lamina.Generator().manual_seed(seed)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("make, kwargs", [
    (tensor_dataset, dict(batch_size=4)),                   # the TensorDataset gather
    (tensor_dataset, dict(batch_size=5, drop_last=True)),
    (lambda: Records(11), dict(batch_size=3)),             # per-sample fetch + default_collate
    (lambda: Records(5), dict(batch_size=None)),           # no auto-collation: default_convert
    (tensor_dataset, dict(batch_size=None)),                # 0-d tensors (the labels) stay 0-d
], ids=["tensors", "drop_last", "records", "unbatched", "unbatched-tensors"])
def test_map_style_batches_equal_single_process(no_orphans, make, kwargs, shuffle):
    if shuffle:
        kwargs = dict(kwargs, shuffle=True)
    expected = epoch(DataLoader(make(), generator=seeded(), **kwargs))
    got = epoch(DataLoader(make(), generator=seeded(), num_workers=2, multiprocessing_context=FORK, **kwargs))
    assert got == expected
    if shuffle:
        assert expected != epoch(DataLoader(make(), **kwargs))


def test_out_of_order_delivery_yields_every_batch(no_orphans):
    kwargs = dict(batch_size=2, shuffle=True, generator=seeded())
    expected = epoch(DataLoader(tensor_dataset(), **kwargs))
    got = epoch(DataLoader(tensor_dataset(), num_workers=2, in_order=False, multiprocessing_context=FORK,
                           **dict(kwargs, generator=seeded())))
    assert sorted(map(str, got)) == sorted(map(str, expected)) and len(got) == len(expected)


@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 2, False), (11, 3, False), (11, 3, True), (7, None, False)])
def test_iterable_dataset_sharded_in_workers_matches_pytorch(no_orphans, n, batch_size, drop_last):
    torch = pytest.importorskip("torch")
    from torch.utils import data as tdata

    class ShardedT(tdata.IterableDataset):
        def __iter__(self):
            info = tdata.get_worker_info()
            per = -(-n // info.num_workers)
            return iter(range(info.id * per, min(n, (info.id + 1) * per)))

    kwargs = dict(batch_size=batch_size, drop_last=drop_last, num_workers=2, multiprocessing_context=FORK)
    expected = [b.tolist() if isinstance(b, torch.Tensor) else b for b in tdata.DataLoader(ShardedT(), **kwargs)]
    got = epoch(DataLoader(Sharded(n), **kwargs))
    assert got == expected
    items = [i for b in got for i in (b if isinstance(b, list) else [b])]
    assert sorted(items) == (list(range(n)) if not drop_last else sorted(items)) and len(set(items)) == len(items)


def test_worker_info_init_fn_and_seeds(no_orphans):
    assert get_worker_info() is None

    def run(seed):
        loader = DataLoader(WhoAmI(), batch_size=None, num_workers=2, worker_init_fn=record_init,
                            generator=seeded(seed), multiprocessing_context=FORK)
        return epoch(loader)

    a = run(1)
    assert [s["id"] for s in a] == [0, 1] * 4  # round-robin, delivered in order
    assert all(s["num_workers"] == 2 and s["same"] and s["init"] == [s["id"]] for s in a)
    assert _init_calls == []  # worker_init_fn ran in the workers only
    w0, w1 = a[0], a[1]
    assert w1["seed"] == w0["seed"] + 1 and w0["pid"] != w1["pid"] != os.getpid()
    for rng in ("lamina", "random", "numpy"):
        assert w0[rng] != w1[rng]  # per-worker streams
    b = run(1)
    strip = [{k: v for k, v in s.items() if k != "pid"} for s in a]
    assert strip == [{k: v for k, v in s.items() if k != "pid"} for s in b]  # reproducible from the generator
    c = run(2)
    assert c[0]["seed"] != a[0]["seed"] and c[0]["numpy"] != a[0]["numpy"]
    # the seed is what the worker seeded lamina and random with
    lamina.manual_seed(w0["seed"])
    random.seed(w0["seed"])
    assert (lamina.rand(()).item(), random.random()) == (w0["lamina"], w0["random"])


def test_workers_run_ahead_by_at_most_prefetch_factor(no_orphans):
    counter = mp.get_context(FORK).Value("i", 0)
    loader = DataLoader(Counted(40, counter), batch_size=2, num_workers=2, prefetch_factor=3,
                        multiprocessing_context=FORK)
    for k, _batch in enumerate(loader):
        assert counter.value <= (k + 1 + 3 * 2) * 2, (k, counter.value)
    assert counter.value == 40


@pytest.mark.parametrize("prefetch_factor", [0, -1, 1.5])
def test_prefetch_factor_must_be_a_positive_integer(prefetch_factor):
    with pytest.raises(ValueError, match="prefetch_factor option should be a positive integer"):
        DataLoader(tensor_dataset(), num_workers=2, prefetch_factor=prefetch_factor)
    assert DataLoader(tensor_dataset(), num_workers=2).prefetch_factor == 2


def test_persistent_workers_keep_their_processes_across_epochs(no_orphans):
    loader = DataLoader(WhoAmI(), batch_size=None, num_workers=2, persistent_workers=True,
                        generator=seeded(), multiprocessing_context=FORK)
    first = epoch(loader)
    for _sample in loader:  # an epoch cut short: the next one starts cleanly
        break
    second = epoch(loader)
    assert {s["pid"] for s in first} == {s["pid"] for s in second} and len(second) == 8
    assert [s["id"] for s in second] == [0, 1] * 4
    assert second[0]["lamina"] != first[0]["lamina"]  # the workers' streams go on
    stream = DataLoader(Sharded(9), batch_size=2, num_workers=2, persistent_workers=True, multiprocessing_context=FORK)
    assert epoch(stream) == epoch(stream) == [[0, 1], [5, 6], [2, 3], [7, 8], [4]]
    del loader, stream, _sample
    gc.collect()


def test_a_context_object_works_as_the_start_method(no_orphans):
    expected = epoch(DataLoader(tensor_dataset(), batch_size=4, shuffle=True, generator=seeded()))
    context = mp.get_context(FORK)
    got = epoch(DataLoader(tensor_dataset(), batch_size=4, shuffle=True, generator=seeded(), num_workers=2,
                           multiprocessing_context=context))
    assert got == expected


def test_spawn_start_method():
    # 'spawn' pickles the dataset into fresh interpreters; it may start multiprocessing's resource
    # tracker, so this test checks the workers themselves are gone rather than counting children.
    expected = epoch(DataLoader(tensor_dataset(), batch_size=6, shuffle=True, generator=seeded()))
    loader = DataLoader(tensor_dataset(), batch_size=6, shuffle=True, generator=seeded(), num_workers=2,
                        multiprocessing_context="spawn")
    it = iter(loader)
    pids = {p.pid for p in it._workers}
    assert [plain(b) for b in it] == expected
    assert wait_until(lambda: not pids & child_pids())
    assert our_segments() == []


@pytest.mark.parametrize("context, error", [("nope", ValueError), (3, TypeError)])
def test_multiprocessing_context_errors_match_pytorch(context, error):
    torch = pytest.importorskip("torch")
    with pytest.raises(error) as expected:
        torch.utils.data.DataLoader(range(4), num_workers=1, multiprocessing_context=context)
    with pytest.raises(error) as got:
        DataLoader(tensor_dataset(), num_workers=1, multiprocessing_context=context)
    assert str(got.value).split(",")[0] == str(expected.value).split(",")[0]
    with pytest.raises(ValueError, match="can only be used with multi-process loading"):
        DataLoader(tensor_dataset(), multiprocessing_context=FORK)


def mapped_segments():
    with open("/proc/self/maps") as f:
        return [line for line in f if f"lamina_dl_{os.getpid()}_" in line]


def test_batches_arrive_in_shared_memory_released_with_the_tensor(no_orphans):
    loader = DataLoader(Records(6), batch_size=3, num_workers=2, multiprocessing_context=FORK)
    batches = list(loader)
    assert our_segments() == []  # unlinked on arrival: only the mappings hold the memory
    assert len(mapped_segments()) == 2  # "big" of each batch; "x" and "i" are small: pickled
    assert batches[1]["name"] == ["s3", "s4", "s5"] and batches[1]["i"].tolist() == [3, 4, 5]
    assert batches[1]["x"][2, 1, 1].item() == 5.0
    big = batches[1]["big"]
    assert big.shape == (3, _shm.INLINE_BYTES // 8) and big.dtype == lamina.float32 and big[2, 7].item() == 5.0
    big.add_(1)  # writable, as PyTorch's shared tensors
    assert big[0, 0].item() == 4.0
    del batches[0]
    gc.collect()
    assert len(mapped_segments()) == 1
    view = big[1]
    del batches, big
    gc.collect()
    assert len(mapped_segments()) == 1  # a view keeps the memory alive
    del view
    gc.collect()
    assert mapped_segments() == []


def test_persistent_workers_reuse_their_segments_and_never_overwrite_a_held_batch(no_orphans):
    loader = DataLoader(Records(60), batch_size=3, num_workers=2, persistent_workers=True,
                        multiprocessing_context=FORK)
    expected = [b["big"].numpy().copy() for b in DataLoader(Records(60), batch_size=3)]
    for _ in range(3):  # 60 batches, none kept: each worker cycles through a few segments
        for i, b in enumerate(loader):
            np.testing.assert_array_equal(b["big"].numpy(), expected[i])
    names = {line.split()[-2] if line.rstrip().endswith("(deleted)") else line.split()[-1]
             for line in mapped_segments()}
    assert 0 < len(names) <= 2 * (2 + 2 + 1)  # per worker: prefetched, idle kept, the one being read
    held = list(loader)  # every batch of an epoch kept: no segment may be written again meanwhile
    again = list(loader)
    for i in range(len(expected)):
        np.testing.assert_array_equal(held[i]["big"].numpy(), expected[i])
        np.testing.assert_array_equal(again[i]["big"].numpy(), expected[i])
    assert len({b["big"].numpy().ctypes.data for b in held + again}) == 2 * len(expected)
    del loader, held, again, b
    gc.collect()
    assert mapped_segments() == []


def test_an_unfinished_epoch_leaves_no_segments(no_orphans):
    loader = DataLoader(tensor_dataset(40), batch_size=2, num_workers=2, prefetch_factor=4,
                        multiprocessing_context=FORK)
    for _batch in loader:
        break
    del _batch
    gc.collect()
    assert our_segments() == [] and mapped_segments() == []


def test_more_workers_than_cpus_warn_as_pytorch(no_orphans):
    torch = pytest.importorskip("torch")
    many = len(os.sched_getaffinity(0)) + 1
    with pytest.warns(UserWarning, match="worker processes in total") as expected:
        it = torch.utils.data.DataLoader(range(4), num_workers=many, multiprocessing_context=FORK)._get_iterator()
        it._shutdown_workers()
    with pytest.warns(UserWarning) as got:
        batches = epoch(DataLoader(tensor_dataset(4), batch_size=None, num_workers=many, multiprocessing_context=FORK))
    assert batches == epoch(DataLoader(tensor_dataset(4), batch_size=None))
    assert str(got[0].message).split(".")[0] == str(expected[0].message).split(".")[0]


class Images(Dataset):
    """Samples large enough that a batch of them is stacked straight into shared memory."""

    def __init__(self, n, kind="tensor"):
        self.n, self.kind = n, kind

    def __getitem__(self, i):
        x = np.arange(2048, dtype=np.float32) * (i + 1)
        return (lamina.from_numpy(x) if self.kind == "tensor" else x), i

    def __len__(self):
        return self.n


def take_first_column(batch):  # default_collate's in-place batch is dropped: only a copy is sent
    from lamina.utils.data import default_collate

    x, y = default_collate(batch)
    return x[:, :1] * 2, x[:, 1:].contiguous(), y


@pytest.mark.parametrize("kind", ["tensor", "array"])
@pytest.mark.parametrize("collate_fn", [None, take_first_column])
def test_batches_stacked_in_shared_memory_equal_single_process(no_orphans, kind, collate_fn):
    kwargs = {} if collate_fn is None else {"collate_fn": collate_fn}
    expected = [[t.numpy().copy() for t in b] for b in DataLoader(Images(40, kind), batch_size=8, **kwargs)]
    loader = DataLoader(Images(40, kind), batch_size=8, num_workers=2, persistent_workers=True,
                        multiprocessing_context=FORK, **kwargs)
    for _ in range(3):  # segments freed by a dropped in-place batch are written again, correctly
        got = [[t.numpy().copy() for t in b] for b in loader]
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert len(g) == len(e)
            for a, b in zip(g, e):
                assert a.dtype == b.dtype
                np.testing.assert_array_equal(a, b)
    del loader
    gc.collect()
    assert mapped_segments() == []


def test_mixed_dtypes_in_a_worker_follow_stack_rules(no_orphans):
    items = [lamina.full((4096,), 1, dtype=lamina.int32), lamina.full((4096,), 0.5)]
    loader = DataLoader(items, batch_size=2, num_workers=1, multiprocessing_context=FORK)
    (got,) = list(loader)
    (expected,) = list(DataLoader(items, batch_size=2))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
