"""Datasets, samplers and the DataLoader: ``lamina.utils.data``, as ``torch.utils.data``.

The distribution ``lamina-data`` serves this package as ``lamina.utils.data`` through the entry-point
group ``lamina.namespaces`` (the core's plugin index aliases it; nothing is copied).
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from ._collate import default_collate, default_convert
from .dataloader import DataLoader, get_worker_info
from .dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)
from .sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset",
    "IterableDataset",
    "TensorDataset",
    "ConcatDataset",
    "ChainDataset",
    "Subset",
    "random_split",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
    "DataLoader",
    "get_worker_info",
    "default_collate",
    "default_convert",
]
