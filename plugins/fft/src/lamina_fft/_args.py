"""Argument handling shared by the transforms: dtype promotion, dims and sizes, norm modes, ``out=``.

torch's rules, written once: integer and bool inputs are promoted to the default float dtype,
half precision is refused ("Unsupported dtype Half"), ``dim`` is wrapped and must be unique,
``s`` and ``dim`` must have the same length when both are given, ``s`` alone names the last
``len(s)`` dims, ``-1`` in ``s`` keeps that dim's size, and every size must be at least 1.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Sequence
from typing import Any

import lamina
from lamina import Tensor

NORMS = ("backward", "ortho", "forward")
_COMPLEX_OF = {"float32": "complex64", "float64": "complex128", "complex64": "complex64",
               "complex128": "complex128"}
_TORCH_NAME = {"float16": "Half", "bfloat16": "BFloat16", "float32": "Float", "float64": "Double",
               "complex64": "ComplexFloat", "complex128": "ComplexDouble"}


def check_norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in NORMS:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def scale(norm: str, n: int, forward: bool) -> float:
    """The factor a transform of ``n`` points applies under ``norm`` (forward or inverse direction)."""
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    unscaled = "backward" if forward else "forward"
    return 1.0 if norm == unscaled else 1.0 / n


def torch_dtype_name(t: Tensor) -> str:
    return _TORCH_NAME.get(t.dtype.name, t.dtype.name)


def promote(x: Tensor, name: str, *, real_only: bool = False) -> Tensor:
    """x as float32/float64/complex64/complex128 (ints and bools to the default dtype)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(x).__name__}")
    dn = x.dtype.name
    if dn in ("float16", "bfloat16"):
        raise RuntimeError(f"Unsupported dtype {_TORCH_NAME[dn]}")
    if dn not in _COMPLEX_OF:
        x = x.to(lamina.get_default_dtype())
    elif real_only and x.is_complex():
        if name == "ihfftn":
            raise RuntimeError(f"Only supports floating-point dtypes, but found: {torch_dtype_name(x)}")
        real = "real-valued" if name == "rfftn" else "real"
        raise RuntimeError(f"{name} expects a {real} input tensor, but got {torch_dtype_name(x)}")
    return x


def complex_name(x: Tensor) -> str:
    return _COMPLEX_OF[x.dtype.name]


def check_int(value: Any, fn: str, arg: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            return operator.index(value)
        except TypeError:
            raise TypeError(f"{fn}(): argument '{arg}' must be int, not {type(value).__name__}") from None
    return value


def wrap_dim(dim: Any, ndim: int, fn: str) -> int:
    dim = check_int(dim, fn, "dim")
    if ndim == 0:
        if dim in (0, -1):
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    lo, hi = -max(ndim, 1), max(ndim, 1) - 1
    if not lo <= dim <= hi:
        raise IndexError(f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})")
    return dim % ndim


def check_points(n: int) -> int:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return n


def one_dim(x: Tensor, n: int | None, dim: int, fn: str) -> tuple[int, int | None]:
    """(wrapped dim, n or None) for the 1-D transforms."""
    d = wrap_dim(dim, x.ndim, fn)
    if n is not None:
        n = check_points(check_int(n, fn, "n"))
    return d, n


def dims_and_sizes(x: Tensor, s: Sequence[int] | None, dim: int | Sequence[int] | None,
                   fn: str) -> tuple[tuple[int, ...], list[int | None]]:
    """(dims, sizes) for the n-D transforms; a size is None where ``s`` keeps the input's (or gives -1)."""
    ndim = x.ndim
    if isinstance(dim, int):
        dim = (dim,)
    if dim is not None:
        dims = tuple(wrap_dim(d, ndim, fn) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > ndim:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {ndim} dimensions.")
        dims = tuple(range(ndim - len(s), ndim))
    else:
        dims = tuple(range(ndim))
    sizes: list[int | None] = [None] * len(dims)
    if s is not None:
        for i, v in enumerate(s):
            v = check_int(v, fn, "s")
            sizes[i] = None if v == -1 else check_points(v)
    return dims, sizes


def fill_sizes(x: Tensor, dims: Sequence[int], sizes: Sequence[int | None]) -> tuple[int, ...]:
    out = tuple(x.shape[d] if v is None else v for d, v in zip(dims, sizes))
    for v in out:
        check_points(v)
    return out


def write_out(result: Tensor, out: Tensor | None, fn: str) -> Tensor:
    """torch's ``out=``: no autograd, complex/real kind must match, resized (with a warning) when its shape differs."""
    if out is None:
        return result
    if not isinstance(out, Tensor):
        raise TypeError(f"{fn}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if result.requires_grad or out.requires_grad:
        raise RuntimeError(f"{fn}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad.")
    if result.is_complex() and not out.is_complex():
        raise RuntimeError(f"{fn} expects a complex output tensor, but got {torch_dtype_name(out)}")
    if not result.is_complex() and out.is_complex():
        raise RuntimeError(f"{fn} expects a real output tensor, but got {torch_dtype_name(out)}")
    result = result.to(out.dtype)
    if tuple(out.shape) == tuple(result.shape):
        with lamina.no_grad():
            out.copy_(result)
        return out
    if out.numel() != 0:
        warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                      f"which does not match the required output shape {list(result.shape)}. This behavior is "
                      "deprecated, and in a future PyTorch release outputs will not be resized unless they have "
                      "zero elements.", UserWarning, stacklevel=3)
    out.data = result
    return out
