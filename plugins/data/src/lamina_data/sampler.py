"""Samplers: which indices a DataLoader visits, in which order, and how they are grouped into batches.

Randomness: a sampler given ``generator=`` draws only from it (advancing it each epoch). Without
one, each epoch draws one seed from the default CPU generator and shuffles with a fresh generator
seeded by it, so ``lamina.manual_seed`` makes the order reproducible.

The built-in samplers compute an epoch's indices as NumPy arrays (``_indices()``; RandomSampler
draws them lazily in chunks, as torch, so ``num_samples`` may exceed memory); ``BatchSampler`` slices them,
and the DataLoader's fast path indexes tensors with those slices
directly. ``__iter__`` yields the same indices as Python ints, as the sampler protocol requires.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any

import numpy as np
from lamina import Generator, Tensor, float64, multinomial, randint, randperm, tensor

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
           "BatchSampler"]


def _epoch_generator(generator: Generator | None) -> Generator:
    if generator is not None:
        return generator
    seed = int(randint(0, 2**63 - 1, (), device="cpu").item())
    return Generator().manual_seed(seed)


class Sampler:
    """Base class: ``__iter__`` yields dataset indices (or lists of them, for batch samplers)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} must implement __iter__")


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _indices(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation per epoch, or ``num_samples`` draws with ``replacement=True``.

    Without replacement and with ``num_samples > len(data_source)``, whole permutations follow
    each other and the last one is cut short.
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={replacement}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _chunks(self) -> Iterator[np.ndarray]:
        """The epoch's indices in the order torch draws them: with replacement 32 at a time (so
        ``num_samples`` may be huge), else one permutation per pass over the data."""
        n, k = len(self.data_source), self.num_samples
        g = _epoch_generator(self.generator)
        if self.replacement:
            for _ in range(k // 32):
                yield randint(0, n, (32,), generator=g, device="cpu").numpy()
            if k % 32:
                yield randint(0, n, (k % 32,), generator=g, device="cpu").numpy()
            return
        for _ in range(k // n):
            yield randperm(n, generator=g, device="cpu").numpy()
        if k % n:
            yield randperm(n, generator=g, device="cpu").numpy()[:k % n]

    def _indices(self) -> np.ndarray:
        parts = list(self._chunks())
        return parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def __iter__(self) -> Iterator[int]:
        for chunk in self._chunks():
            yield from chunk.tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices: Sequence[int], generator: Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def _indices(self) -> np.ndarray:
        order = randperm(len(self.indices), generator=_epoch_generator(self.generator), device="cpu").numpy()
        return np.asarray(self.indices, dtype=np.int64)[order]

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights: Sequence[float] | Tensor, num_samples: int, replacement: bool = True,
                 generator: Generator | None = None) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = weights if isinstance(weights, Tensor) else tensor(weights, dtype=float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = w.detach().to("cpu")
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def _indices(self) -> np.ndarray:
        g = _epoch_generator(self.generator)
        return multinomial(self.weights, self.num_samples, self.replacement, generator=g).numpy()

    def __iter__(self) -> Iterator[int]:
        return iter(self._indices().tolist())

    def __len__(self) -> int:
        return self.num_samples


_ARRAY_ITERS = {cls.__iter__ for cls in (SequentialSampler, RandomSampler, SubsetRandomSampler,
                                         WeightedRandomSampler)}


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``)."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def _array_batches(self) -> Iterator[np.ndarray]:
        """The batches as NumPy int64 arrays (slices of one epoch array for the built-in samplers)."""
        if isinstance(self.sampler, RandomSampler) and type(self.sampler).__iter__ is RandomSampler.__iter__:
            yield from self._rebatch(self.sampler._chunks())
        elif type(self.sampler).__iter__ in _ARRAY_ITERS:
            idx = self.sampler._indices()  # type: ignore[union-attr]
            B, n = self.batch_size, len(idx)
            stop = n - n % B if self.drop_last else n
            for start in range(0, stop, B):
                yield idx[start:start + B]
        else:
            for batch in self._list_batches():
                yield np.asarray(batch, dtype=np.int64)

    def _rebatch(self, chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Batches of ``batch_size`` cut from a stream of index arrays, holding at most one batch."""
        pending: list[np.ndarray] = []
        have, B = 0, self.batch_size
        for c in chunks:
            while len(c):
                take = min(B - have, len(c))
                pending.append(c[:take])
                have, c = have + take, c[take:]
                if have == B:
                    yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                    pending, have = [], 0
        if have and not self.drop_last:
            yield np.concatenate(pending)

    def _list_batches(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self) -> Iterator[list[int]]:
        if type(self.sampler).__iter__ in _ARRAY_ITERS:
            return (b.tolist() for b in self._array_batches())
        return self._list_batches()

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
