"""Shared pieces of lamina-linalg: ``LinAlgError``, argument checks with torch's wording, result types,
and the batched LAPACK helpers (loops over leading dims for the SciPy routines that take one matrix).

The numerics run on NumPy/SciPy LAPACK, so the plugin serves CPU tensors only; other devices raise.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any

import lamina
import numpy as np
from lamina import Tensor


class LinAlgError(RuntimeError):
    """A linear-algebra routine failed on its input (singular, not positive-definite, ...)."""

    __module__ = "lamina.linalg"


# torch's scalar-type names, used in its "Got Long" messages
_TORCH_NAMES = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
                "float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
                "complex64": "ComplexFloat", "complex128": "ComplexDouble"}
_SUPPORTED = ("float32", "float64", "complex64", "complex128")


def torch_name(t: Tensor) -> str:
    return _TORCH_NAMES.get(t.dtype.name, t.dtype.name)


def check_cpu(name: str, *ts: Any) -> None:
    for t in ts:
        if isinstance(t, Tensor) and t.device.type != "cpu":
            raise RuntimeError(f"{name}: lamina-linalg runs on NumPy/SciPy LAPACK and supports CPU tensors only, "
                               f"got a tensor on {t.device}; move it with .cpu() first")


def check_float(name: str, A: Tensor, arg: str = "input") -> None:
    if A.dtype.name not in _SUPPORTED:
        if A.dtype.name in ("float16", "bfloat16"):
            raise RuntimeError(f"{name}: Low precision dtypes not supported. Got {torch_name(A)}")
        raise RuntimeError(f"{name}: Expected a floating point or complex tensor as {arg}. Got {torch_name(A)}")


def check_matrix(name: str, A: Tensor, arg: str = "A") -> None:
    if A.ndim < 2:
        raise RuntimeError(f"{name}: The input tensor {arg} must have at least 2 dimensions.")


def check_square(name: str, A: Tensor, arg: str = "A") -> None:
    """A: (*, n, n), floating, on the CPU."""
    if not isinstance(A, Tensor):
        raise TypeError(f"{name}: expected {arg} to be a Tensor, got {type(A).__name__}")
    check_cpu(name, A)
    check_matrix(name, A, arg)
    if A.shape[-1] != A.shape[-2]:
        raise RuntimeError(f"{name}: {arg} must be batches of square matrices, but they are "
                           f"{A.shape[-2]} by {A.shape[-1]} matrices")
    check_float(name, A)


def check_same_dtype(name: str, A: Tensor, B: Tensor, a: str = "A", b: str = "B") -> None:
    if A.dtype != B.dtype:
        raise RuntimeError(f"{name}: Expected {a} and {b} to have the same dtype, but found {a} of type "
                           f"{torch_name(A)} and {b} of type {torch_name(B)} instead.")


def batch_prefix(shape: tuple, index: int) -> str:
    """torch's "(Batch element k): " prefix, empty for a single matrix."""
    if len(shape) <= 2:
        return ""
    return f"(Batch element {index}): "


def first_bad(info: np.ndarray) -> tuple[int, int]:
    """(flat batch index, info value) of the first nonzero entry of ``info``."""
    flat = np.asarray(info).reshape(-1)
    k = int(np.flatnonzero(flat)[0])
    return k, int(flat[k])


def per_matrix(fn: Callable[..., Any], *arrays: np.ndarray, n_out: int = 1) -> Any:
    """Apply ``fn`` (one matrix per argument) over the broadcast leading dims of ``arrays``.

    Each array is (*, a, b) with its own core shape; ``fn`` returns ``n_out`` arrays. Returns arrays
    of shape (*, <fn's result core shape>). Empty batches call ``fn`` once on zeros to learn the shapes.
    """
    batch = np.broadcast_shapes(*(a.shape[:-2] for a in arrays))
    arrs = [np.broadcast_to(a, batch + a.shape[-2:]) for a in arrays]
    count = int(np.prod(batch)) if batch else 1
    if count == 0:
        outs = fn(*(np.zeros(a.shape[-2:], a.dtype) for a in arrs))
        outs = outs if n_out > 1 else (outs,)
        res = tuple(np.zeros(batch + np.shape(o), np.asarray(o).dtype) for o in outs)
        return res if n_out > 1 else res[0]
    results: list[Any] = []
    for idx in np.ndindex(*batch):
        r = fn(*(a[idx] for a in arrs))
        results.append(r if n_out > 1 else (r,))
    res = tuple(np.stack([np.asarray(r[j]) for r in results]).reshape(batch + np.shape(results[0][j]))
                for j in range(len(results[0])))
    return res if n_out > 1 else res[0]


def as_tensor(a: Any, like: Tensor) -> Tensor:
    """A constant tensor on ``like``'s device (no grad)."""
    return lamina.as_tensor(a, device=like.device)


_WARNED: set[str] = set()


def warn_once(key: str, message: str) -> None:
    """A UserWarning the first time ``key`` is used in the process (torch's TORCH_WARN_ONCE)."""
    if key not in _WARNED:
        _WARNED.add(key)
        import warnings
        warnings.warn(message, UserWarning, stacklevel=3)


def no_out(name: str, out: object) -> None:
    if out is not None:
        raise NotImplementedError(f"{name}: out= is not supported by lamina-linalg; use the returned tensor")


_TYPES: dict[str, type] = {}


def result_type(name: str, fields: tuple[str, ...]) -> type:
    """A ``lamina.return_types.<name>`` named tuple, as torch's ``torch.return_types``."""
    cls = _TYPES.get(name)
    if cls is None:
        base = namedtuple(name, fields)  # type: ignore[misc]

        def __repr__(self: Any) -> str:
            body = ",\n".join(f"{f}={getattr(self, f)!r}" for f in fields)
            return f"lamina.return_types.{name}(\n{body})"

        cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__module__": "lamina.return_types"})
        _TYPES[name] = cls
    return cls
