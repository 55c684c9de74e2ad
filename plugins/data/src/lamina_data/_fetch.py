"""Fetching one batch from a dataset: the fast ``TensorDataset`` gather and the worker-side fetchers.

A fetcher turns one task of the index sampler into one batch:
    map-style, auto-collation     indices (a list of B ints)   -> collate([dataset[i] for i in indices])
    map-style, no auto-collation  one index                    -> collate(dataset[index])
    iterable, auto-collation      a list of B placeholders      -> collate(the next B samples of the stream)
    iterable, no auto-collation   one placeholder               -> collate(the next sample)
Worker fetchers record the index being fetched (``current``) so that an error can name it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from lamina import Tensor

from ._collate import default_collate
from .dataset import Subset, TensorDataset

__all__: list[str] = []


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


class _MapFetcher:
    """Batches of a map-style dataset by index, in a worker process."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable[[Any], Any]) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.fast = _batch_fetcher(dataset) if auto_collation and collate_fn is default_collate else None
        self.getitems = getattr(dataset, "__getitems__", None)
        self.current: Any = None

    def fetch(self, index: Any) -> Any:
        if not self.auto_collation:
            self.current = index
            return self.collate_fn(self.dataset[index])
        if self.fast is not None:
            self.current = index
            return self.fast(np.asarray(index, dtype=np.int64))
        if self.getitems is not None:
            self.current = index
            return self.collate_fn(self.getitems(index))
        samples = []
        for i in index:
            self.current = i
            samples.append(self.dataset[i])
        self.current = index
        return self.collate_fn(samples)

    def describe(self, index: Any) -> str:
        """Where a failure happened, for the error message."""
        if self.auto_collation and self.current is not index and self.current is not None:
            return f"sample index {self.current!r} of batch {list(index)!r}"
        if self.auto_collation:
            return f"batch of sample indices {list(index)!r}"
        return f"sample index {index!r}"


class _IterableFetcher:
    """Batches of an iterable dataset (this worker's copy of the stream). StopIteration at the end."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable[[Any], Any],
                 drop_last: bool) -> None:
        self.it: Iterator[Any] = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.ended = False
        self.count = 0  # samples drawn from this worker's stream so far

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            sample = next(self.it)
            self.count += 1
            return self.collate_fn(sample)
        batch = []
        for _ in range(len(index)):
            try:
                batch.append(next(self.it))
            except StopIteration:
                self.ended = True
                break
            self.count += 1
        if not batch or (self.drop_last and len(batch) < len(index)):
            raise StopIteration
        return self.collate_fn(batch)

    def describe(self, index: Any) -> str:
        return f"sample {self.count} of this worker's stream (counting from 0)"
