"""``lamina.utils.data.distributed``: ``DistributedSampler``, each rank's share of a dataset.

The partitioning rule and the order are PyTorch's: an epoch's order (torch's ``randperm`` for a
generator seeded with ``seed + epoch``, reproduced in ``_torch_order``, or ``0..n-1``) is padded by
repeating its head (or cut to a multiple of the number of replicas with ``drop_last``), then rank
``r`` takes every ``num_replicas``-th index starting at ``r``. All ranks build the same order, so the
shares are disjoint and, without padding, cover the dataset exactly once.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator, Sized
from typing import Any

from lamina.utils.data import Sampler

from ._torch_order import torch_randperm

__all__ = ["DistributedSampler"]


def _from_default_group(what: str) -> int:
    """The default process group's world size or this process's rank (torch's error when unavailable)."""
    try:
        import lamina.distributed as dist
    except ImportError as e:  # pragma: no cover - this module ships inside lamina-distributed itself
        raise RuntimeError("Requires distributed package to be available") from e
    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return int(dist.get_world_size() if what == "num_replicas" else dist.get_rank())


def _check_int(name: str, value: Any) -> int:
    try:
        if isinstance(value, bool):
            raise TypeError
        return operator.index(value)
    except TypeError:
        raise TypeError(f"DistributedSampler: expected {name} to be an int, got {type(value).__name__} "
                        f"{value!r}") from None


class DistributedSampler(Sampler):
    """Yields the indices of ``dataset`` that belong to ``rank`` out of ``num_replicas`` processes.

    Every rank gets ``len(self)`` indices: ``ceil(n / num_replicas)`` (the order is padded by repeating
    its first indices), or ``floor(n / num_replicas)`` with ``drop_last=True`` (the tail is dropped).
    Call :meth:`set_epoch` before each epoch so that shuffling differs between epochs; the order is
    the same on every rank for one ``seed`` and epoch.

    Shape: ``__iter__`` yields ``len(self)`` Python ints in ``[0, len(dataset))``
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None:
            num_replicas = _from_default_group("num_replicas")
        if rank is None:
            rank = _from_default_group("rank")
        num_replicas, rank = _check_int("num_replicas", num_replicas), _check_int("rank", rank)
        seed = _check_int("seed", seed)
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: expected num_replicas >= 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # the largest even split
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _order(self) -> list[int]:
        n = len(self.dataset)
        if not self.shuffle:
            return list(range(n))
        return torch_randperm(n, self.seed + self.epoch)

    def __iter__(self) -> Iterator[int]:
        indices = self._order()
        if self.drop_last:
            indices = indices[:self.total_size]
        elif indices:
            pad = self.total_size - len(indices)
            indices += (indices * math.ceil(pad / len(indices)))[:pad]
        if len(indices) != self.total_size:
            raise RuntimeError(f"DistributedSampler: the dataset has {len(self.dataset)} items now, but "
                               f"{self.total_size} indices were planned at construction; it must not change size")
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the order of epoch ``epoch`` (the generator is seeded with ``seed + epoch``)."""
        self.epoch = _check_int("epoch", epoch)
