"""``default_collate`` (a list of samples -> one batch) and ``default_convert`` (one sample, no batching).

Element kinds, as PyTorch's:
    Tensor                  -> stacked along a new first dimension
    NumPy array             -> stacked, as a tensor of the array's dtype (string/object arrays rejected)
    NumPy scalar            -> a 1-d tensor of its dtype
    float / int / bool      -> a 1-d tensor: float64 / int64 / bool
    str / bytes             -> kept: the list of samples
    Mapping                 -> same keys, each collated
    namedtuple              -> same type, each field collated
    tuple / other sequence  -> transposed and each position collated; a tuple becomes a list
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, MutableMapping, MutableSequence, Sequence
from typing import Any

import numpy as np
from lamina import Tensor, as_tensor, float64, int64, stack, tensor

from . import _shm

__all__ = ["default_collate", "default_convert"]

_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_text_array(a: np.ndarray) -> bool:
    return a.dtype.kind in "USO"


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch (see the module docstring for each element kind)."""
    elem = batch[0]
    if isinstance(elem, Tensor):
        stacked = _shm.stack_in_place(batch)  # in a worker: into shared memory
        return stack(list(batch), 0) if stacked is None else stacked
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, np.ndarray):
        if _is_text_array(elem):
            raise TypeError(_ERR.format(elem.dtype))
        stacked = _shm.stack_in_place(batch)
        return as_tensor(np.stack(batch)) if stacked is None else stacked
    if isinstance(elem, (np.number, np.bool_)):
        return as_tensor(np.asarray(batch))
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, bool):
        return tensor(batch)
    if isinstance(elem, int):
        return tensor(batch, dtype=int64)
    if isinstance(elem, Mapping):
        collated = {key: default_collate([d[key] for d in batch]) for key in elem}
        return _rebuild_mapping(elem, collated)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(elem, Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [default_collate(list(column)) for column in zip(*batch)]
        if isinstance(elem, tuple):
            return columns  # PyTorch returns a list for tuples too
        return _rebuild_sequence(elem, columns)
    raise TypeError(_ERR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Turn NumPy arrays and scalars inside ``data`` into tensors; leave everything else as it is."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        return data if _is_text_array(data) else as_tensor(data)
    if isinstance(data, (np.number, np.bool_)):
        return as_tensor(data)
    if isinstance(data, Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data


def _rebuild_mapping(like: Mapping, values: dict) -> Any:
    """A mapping of ``like``'s type holding ``values`` (a plain dict if that type can't be rebuilt)."""
    try:
        if isinstance(like, MutableMapping):
            out = copy.copy(like)
            out.update(values)
            return out
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like: Sequence, values: list) -> Any:
    try:
        if isinstance(like, MutableSequence):
            out = copy.copy(like)
            out[:] = values
            return out
        return type(like)(values)
    except TypeError:
        return values
