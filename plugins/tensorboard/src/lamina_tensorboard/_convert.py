"""Values handed to the writer (lamina tensors, NumPy arrays, Python numbers) as NumPy arrays."""

from __future__ import annotations

import numbers
from typing import Any

import lamina
import numpy as np


def make_np(value: Any, where: str) -> np.ndarray:
    """``value`` as a host NumPy array; a Python or NumPy number becomes shape (1,), as in torch.

    ``where`` names the calling method in the error for anything else.
    """
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, lamina.Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, (str, bytes)):
        return np.array([value])
    raise TypeError(f"{where}: expected a lamina Tensor, a NumPy array or a Python number, "
                    f"got {type(value).__name__}")


def as_float(value: Any, where: str) -> float:
    """A one-element value as a Python float (``add_scalar``'s rule: any shape holding one element)."""
    array = make_np(value, where).squeeze()
    if array.ndim != 0:
        raise ValueError(f"{where}: expected a single value (one element), got an array of shape "
                         f"{tuple(array.shape)} ({array.size} elements)")
    return float(array)


def check_dataformats(dataformats: str, shape: tuple[int, ...], where: str) -> str:
    """``dataformats`` upper-cased, after checking it against ``shape`` (one letter per axis, no repeats)."""
    if not isinstance(dataformats, str):
        raise TypeError(f"{where}: expected dataformats as a string like 'CHW', got {type(dataformats).__name__}")
    fmt = dataformats.upper()
    wanted = {4: "NCHW", 3: "CHW", 2: "HW"}.get(len(fmt))
    if wanted is None or sorted(fmt) != sorted(wanted):
        raise ValueError(f"{where}: dataformats must be a permutation of NCHW, CHW or HW "
                         f"(each letter once), got {dataformats!r}")
    if len(shape) != len(fmt):
        raise ValueError(f"{where}: dataformats {dataformats!r} expects a {len(fmt)}-D image tensor, "
                         f"got shape {tuple(shape)}")
    return fmt


def as_vector(value: Any, where: str) -> np.ndarray:
    """A 1-D float64 array from a tensor, an array or a list/tuple of numbers."""
    if isinstance(value, (list, tuple)):
        return np.asarray(value, dtype=np.float64).reshape(-1)
    return make_np(value, where).astype(np.float64).reshape(-1)
