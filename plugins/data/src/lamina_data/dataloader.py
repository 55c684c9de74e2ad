"""``DataLoader``: iterate a dataset in (shuffled) batches, as ``torch.utils.data.DataLoader``.

Decisions:
* Everything runs in the calling process. ``num_workers``, ``prefetch_factor``,
  ``persistent_workers``, ``worker_init_fn``, ``multiprocessing_context`` and ``timeout`` are
  validated as in PyTorch and accepted, but no worker process is started (``get_worker_info()``
  returns None, ``worker_init_fn`` is not called). ``pin_memory`` is accepted and ignored.
* Shuffling uses ``generator`` when given (only it advances); otherwise each epoch draws one seed
  from the default CPU generator. Unlike PyTorch, iterating without shuffling draws nothing.
* Fast path: a ``TensorDataset`` (or a ``Subset`` of one, e.g. from ``random_split``) with the
  default collate function is batched by indexing each tensor once with the batch's index array,
  instead of fetching and stacking samples one by one. The result is the same list of tensors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from lamina import Generator, Tensor

from ._collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info() -> None:
    """Always None: lamina's DataLoader loads in the calling process (no worker processes)."""
    return None


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: yields None forever (the dataset decides what comes)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


def _take(t: Tensor, idx: np.ndarray) -> Tensor:
    """``t[idx]`` for an int64 index array; a plain array gather when no autograd is involved."""
    if t.requires_grad:
        return t[idx]
    xp = t.device.backend.xp
    return Tensor._make(t.array[xp.asarray(idx)], t.device)


def _batch_fetcher(dataset: Any) -> Callable[[np.ndarray], list[Tensor]] | None:
    """A function from an index array to the default-collated batch, for datasets that allow it."""
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is TensorDataset.__getitem__:
        tensors = dataset.tensors
        return lambda idx: [_take(t, idx) for t in tensors]
    if isinstance(dataset, Subset) and type(dataset).__getitem__ is Subset.__getitem__:
        inner = _batch_fetcher(dataset.dataset)
        if inner is None:
            return None
        mapping = np.asarray(dataset.indices, dtype=np.int64)
        return lambda idx: inner(mapping[idx])
    return None


class DataLoader:
    """Batches of ``dataset``: ``for x, y in DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True)``.

    ``len(loader)`` is the number of batches (``ceil`` or, with ``drop_last``, ``floor`` of N / batch_size).
    """

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset")

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Sequence[int] | None = None,
                 batch_sampler: Sampler | Sequence[Sequence[int]] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None, multiprocessing_context: Any = None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing: let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            if shuffle not in (None, False):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")
        if sampler is None:
            if isinstance(dataset, IterableDataset):
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)  # type: ignore[arg-type]
            else:
                sampler = SequentialSampler(dataset)  # type: ignore[arg-type]
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # type: ignore[arg-type]

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.generator = generator
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.__initialized = True

    def __setattr__(self, name: str, value: Any) -> None:
        if self.__dict__.get("_DataLoader__initialized") and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if isinstance(self.dataset, IterableDataset):
            n = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)

    def __iter__(self) -> _SingleProcessIter:
        return _SingleProcessIter(self)

    def _batches(self) -> Iterator[Any]:
        dataset, collate = self.dataset, self.collate_fn
        if isinstance(dataset, IterableDataset):
            yield from self._iterable_batches()
            return
        if not self._auto_collation:
            for index in self.sampler:  # type: ignore[union-attr]
                yield collate(dataset[index])
            return
        fetch = _batch_fetcher(dataset) if collate is default_collate else None
        if fetch is not None:
            bs = self.batch_sampler
            if isinstance(bs, BatchSampler) and type(bs).__iter__ is BatchSampler.__iter__:
                for idx in bs._array_batches():
                    yield fetch(idx)
            else:
                for indices in bs:  # type: ignore[union-attr]
                    yield fetch(np.asarray(indices, dtype=np.int64))
            return
        getitems = getattr(dataset, "__getitems__", None)
        for indices in self.batch_sampler:  # type: ignore[union-attr]
            samples = getitems(indices) if getitems is not None else [dataset[i] for i in indices]
            yield collate(samples)

    def _iterable_batches(self) -> Iterator[Any]:
        collate = self.collate_fn
        if self.batch_size is None:
            for sample in self.dataset:  # type: ignore[attr-defined]
                yield collate(sample)
            return
        batch: list[Any] = []
        for sample in self.dataset:  # type: ignore[attr-defined]
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield collate(batch)
                batch = []
        if batch and not self.drop_last:
            yield collate(batch)


class _SingleProcessIter:
    """One pass over a DataLoader (in the calling process)."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._it = loader._batches()
        self._num_yielded = 0

    def __iter__(self) -> _SingleProcessIter:
        return self

    def __next__(self) -> Any:
        batch = next(self._it)
        self._num_yielded += 1
        return batch

    def __len__(self) -> int:
        return len(self._loader)
