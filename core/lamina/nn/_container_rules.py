"""Rules the module and parameter containers share: index checks, ``dir`` without digit keys,
``update`` from mappings or pairs (PyTorch's ordering and error messages)."""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

from .module import Module


def index(idx: Any, size: int, what: str) -> int:
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range" + (f" for {what} of length {size}" if what else ""))
    return idx % size if size else idx


def no_digits(keys: list[str]) -> list[str]:
    return [k for k in keys if not k.isdigit()]


def update_pairs(owner: str, target: Any, items: Any) -> None:
    if not isinstance(items, Iterable):
        raise TypeError(f"{owner}.update should be called with an iterable of key/value pairs, but got "
                        f"{type(items).__name__}")
    if isinstance(items, (OrderedDict, Module)):  # ordered sources: OrderedDict, ModuleDict, ParameterDict
        pairs = list(items.items())
    elif isinstance(items, Mapping):
        pairs = list(items.items()) if owner == "ModuleDict" else sorted(items.items())
    else:
        pairs = []
        for j, p in enumerate(items):
            if not isinstance(p, Iterable):
                raise TypeError(f"{owner} update sequence element #{j} should be Iterable; is{type(p).__name__}")
            if len(p) != 2:
                raise ValueError(f"{owner} update sequence element #{j} has length {len(p)}; 2 is required")
            pairs.append((p[0], p[1]))
    for k, v in pairs:
        target[k] = v
