"""DistributedSampler against torch's: the partitioning rule, padding, drop_last, epochs, errors.

With ``shuffle=True`` the order too is torch's (its randperm for ``seed + epoch``): the same seed and
epoch give every rank the same indices as torch's sampler, compared with torch itself.
"""

from __future__ import annotations

import itertools

import lamina
import pytest
from lamina.utils.data.distributed import DistributedSampler

torch = pytest.importorskip("torch")
from torch.utils.data.distributed import DistributedSampler as TorchSampler  # noqa: E402


class _Sized:
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


CASES = list(itertools.product((0, 1, 2, 5, 7, 10, 13, 64), (1, 2, 3, 4, 8), (False, True), (False, True)))


@pytest.mark.parametrize("n,replicas,shuffle,drop_last", CASES)
def test_matches_torch(n, replicas, shuffle, drop_last):
    ds = _Sized(n)
    for seed, epoch in ((0, 0), (0, 3), (17, 1), (2**33 + 5, 2)):
        shares = []
        for rank in range(replicas):
            ours = DistributedSampler(ds, replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            ref = TorchSampler(ds, replicas, rank, shuffle=shuffle, seed=seed, drop_last=drop_last)
            ours.set_epoch(epoch)
            ref.set_epoch(epoch)
            got = list(ours)
            assert got == list(ref), (seed, epoch, rank)
            assert len(ours) == len(ref) == len(got)
            assert (ours.num_samples, ours.total_size) == (ref.num_samples, ref.total_size)
            shares.append(got)
        flat = [i for s in shares for i in s]
        assert all(0 <= i < n for i in flat)
        if drop_last or n % replicas == 0:  # no padding: the shares are disjoint
            assert len(set(flat)) == len(flat)
        if not drop_last:  # padding repeats indices but leaves none out
            assert set(flat) == set(range(n)) or n == 0
        else:
            assert len(flat) == n - n % replicas


def test_shuffle_is_torch_randperm_seeded_with_seed_plus_epoch():
    from lamina_distributed._torch_order import torch_randperm

    ds = _Sized(11)
    s = DistributedSampler(ds, num_replicas=1, rank=0, seed=5)
    s.set_epoch(2)
    for n, seed in ((11, 7), (1000, 3), (2, 0), (1, 4), (0, 1), (500, -3)):
        assert torch_randperm(n, seed) == torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    assert list(s) == torch_randperm(11, 7)
    assert list(s) == list(s)  # the same epoch gives the same order
    first = list(s)
    s.set_epoch(3)
    assert list(s) != first and sorted(s) == list(range(11))


def test_same_order_on_every_rank_and_epochs_differ():
    ds = _Sized(40)
    shares = [list(DistributedSampler(ds, 4, r, seed=3)) for r in range(4)]
    assert sorted(i for s in shares for i in s) == list(range(40))
    other = DistributedSampler(ds, 4, 0, seed=3)
    other.set_epoch(1)
    assert list(other) != shares[0]


def test_unshuffled_is_rank_strided():
    assert list(DistributedSampler(_Sized(10), 3, 1, shuffle=False)) == [1, 4, 7, 0]
    assert list(DistributedSampler(_Sized(10), 3, 2, shuffle=False, drop_last=True)) == [2, 5, 8]


def test_works_as_a_dataloader_sampler():
    data = lamina.arange(12).float()
    ds = lamina.utils.data.TensorDataset(data)
    sampler = DistributedSampler(ds, num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].tolist() for b in lamina.utils.data.DataLoader(ds, batch_size=4, sampler=sampler)]
    assert batches == [[1.0, 3.0, 5.0, 7.0], [9.0, 11.0]]


@pytest.mark.parametrize("rank", [-1, 3, 7])
def test_rank_out_of_range(rank):
    with pytest.raises(ValueError, match=rf"Invalid rank {rank}, rank should be in the interval \[0, 2\]"):
        DistributedSampler(_Sized(5), num_replicas=3, rank=rank)
    with pytest.raises(ValueError, match=rf"Invalid rank {rank}"):
        TorchSampler(_Sized(5), num_replicas=3, rank=rank)


@pytest.mark.parametrize("kwargs,exc,msg", [
    ({"num_replicas": 0, "rank": 0}, ValueError, "expected num_replicas >= 1, got 0"),
    ({"num_replicas": 2.0, "rank": 0}, TypeError, "expected num_replicas to be an int, got float 2.0"),
    ({"num_replicas": 2, "rank": "1"}, TypeError, "expected rank to be an int, got str '1'"),
    ({"num_replicas": 2, "rank": 0, "seed": None}, TypeError, "expected seed to be an int, got NoneType"),
])
def test_bad_arguments(kwargs, exc, msg):
    with pytest.raises(exc, match="DistributedSampler: " + msg):
        DistributedSampler(_Sized(5), **kwargs)


def test_set_epoch_takes_integers_only():
    s = DistributedSampler(_Sized(5), 1, 0)
    s.set_epoch(lamina.tensor(2).item())
    assert s.epoch == 2
    with pytest.raises(TypeError, match="DistributedSampler: expected epoch to be an int, got float"):
        s.set_epoch(1.5)


def test_dataset_that_changes_size_is_an_error():
    ds = _Sized(6)
    s = DistributedSampler(ds, 2, 0)
    ds.n = 8
    with pytest.raises(RuntimeError, match="DistributedSampler: the dataset has 8 items now, but 6 indices"):
        list(s)


def test_defaults_need_an_initialized_group_as_torch():
    import lamina.distributed as dist

    assert not dist.is_initialized()  # this process runs no job; the defaults come from the default group
    for kwargs in ({"rank": 0}, {"num_replicas": 2}):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            DistributedSampler(_Sized(4), **kwargs)
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            TorchSampler(_Sized(4), **kwargs)
