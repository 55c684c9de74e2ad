"""``DataLoader``: iterate a dataset in (shuffled) batches, as ``torch.utils.data.DataLoader``.

Decisions:
* ``num_workers=0`` loads in the calling process. ``num_workers > 0`` starts worker processes with
  PyTorch's semantics (``_mp_iter``, ``_worker``): ``get_worker_info()``, ``worker_init_fn``,
  per-worker seeds, ``prefetch_factor`` (default 2), ``persistent_workers``, ``timeout``,
  ``in_order``, ``multiprocessing_context``; batches arrive through shared memory (``_shm``).
* Worker seeds: one base seed per iterator, drawn from ``generator`` (or the default generator)
  after the sampler's first step, so that a seeded shuffle visits the same order as with
  ``num_workers=0`` (PyTorch draws it first, and in both modes); worker ``k`` seeds lamina and
  ``random`` with base seed + k and NumPy's global RNG from both.
* ``pin_memory=True`` warns as PyTorch does when no accelerator is present; lamina has no pinned
  host memory, so batches are the same tensors either way.
* Shuffling uses ``generator`` when given (only it advances); otherwise each epoch draws one seed
  from the default CPU generator. Unlike PyTorch, iterating without shuffling and without workers
  draws nothing.
* Fast path: a ``TensorDataset`` (or a ``Subset`` of one, e.g. from ``random_split``) with the
  default collate function is batched by indexing each tensor once with the batch's index array,
  instead of fetching and stacking samples one by one. The result is the same list of tensors.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from lamina import Generator

from ._collate import default_collate, default_convert
from ._fetch import _batch_fetcher
from ._mp_iter import _MultiProcessIter
from ._pool import resolve_context, warn_if_too_many_workers
from ._worker import get_worker_info
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


class _InfiniteConstantSampler(Sampler):
    """The sampler of an IterableDataset: yields None forever (the dataset decides what comes)."""

    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class DataLoader:
    """Batches of ``dataset``: ``for x, y in DataLoader(TensorDataset(X, Y), batch_size=32, shuffle=True)``.

    ``len(loader)`` is the number of batches (``ceil`` or, with ``drop_last``, ``floor`` of N / batch_size).
    """

    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

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
        if num_workers > 0:
            if prefetch_factor is None:
                prefetch_factor = 2
            elif isinstance(prefetch_factor, bool) or not isinstance(prefetch_factor, int) or prefetch_factor < 1:
                raise ValueError(f"prefetch_factor option should be a positive integer, but got "
                                 f"prefetch_factor={prefetch_factor!r}")
            multiprocessing_context = resolve_context(multiprocessing_context)
        elif multiprocessing_context is not None:
            raise ValueError(f"multiprocessing_context can only be used with multi-process loading "
                             f"(num_workers > 0), but got num_workers={num_workers}")
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
        self._iterator: _MultiProcessIter | None = None
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

    def __iter__(self) -> _SingleProcessIter | _MultiProcessIter:
        if self.persistent_workers and self._iterator is not None and not self._iterator._closed:
            self._iterator._reset()
            return self._iterator
        if self.pin_memory:  # once per new iterator, as PyTorch
            self._warn_pin_memory()
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        warn_if_too_many_workers(self.num_workers)
        it = _MultiProcessIter(self)
        if self.persistent_workers:
            self._iterator = it
        return it

    def _warn_pin_memory(self) -> None:
        import lamina.cuda

        if self.pin_memory_device:
            warnings.warn(f"pin_memory_device is deprecated, the current accelerator will be used as the device,"
                          f"ignore pin_memory_device='{self.pin_memory_device}'.", UserWarning, stacklevel=3)
        if not lamina.cuda.is_available():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then device pinned "
                          "memory won't be used.", UserWarning, stacklevel=3)

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
