"""torch.fft's helpers: the sample frequencies (fftfreq, rfftfreq) and the zero-frequency shifts
(fftshift, ifftshift, differentiable through ``lamina.roll``).

Shapes: fftfreq(n) -> (n,); rfftfreq(n) -> (n // 2 + 1,); fftshift/ifftshift: (*) -> (*).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import lamina
import numpy as np
from lamina import Tensor

from ._args import check_int, wrap_dim, write_out

__all__ = ["fftfreq", "rfftfreq", "fftshift", "ifftshift"]


def _check_layout(layout: Any, fn: str) -> None:
    if layout is not None and str(layout).rsplit(".", 1)[-1] != "strided":
        raise RuntimeError(f"{fn}: only the strided layout is supported, got layout={layout}")


def _freqs(fn: str, n: int, d: float, negative: bool, out: Tensor | None, dtype: Any, layout: Any,
           device: Any, requires_grad: bool) -> Tensor:
    n = check_int(n, f"fft_{fn}", "n")
    _check_layout(layout, fn)
    if dtype is None:
        dtype = out.dtype if out is not None else lamina.get_default_dtype()
    probe = lamina.zeros(0, dtype=dtype)
    if probe.is_complex():
        raise NotImplementedError(f"{fn}: not implemented for complex dtype {dtype} (torch's arange refuses it)")
    if not probe.is_floating_point():
        raise RuntimeError(f"{fn} requires a floating point or complex dtype")
    count = n if negative else int(n / 2) + 1  # C++'s truncating division, as torch (rfftfreq(-1) has 1 value)
    if count < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {count}: [{count}]")
    k = np.arange(count, dtype=np.float64)
    if negative:
        k[(n + 1) // 2:] -= n
    # as torch: integer steps in the dtype, then one multiplication by 1 / (n d) (inf for n d = 0), in the dtype
    npd = lamina.zeros(0, dtype=dtype).numpy().dtype
    step = np.asarray(1.0 / (n * d) if n * d else np.inf, dtype=npd)
    with np.errstate(invalid="ignore"):
        values = k.astype(npd) * step
    y = lamina.tensor(values, dtype=dtype, device=device)
    if requires_grad:
        y.requires_grad_(True)
    return write_out(y, out, fn)


def fftfreq(n: int, d: float = 1.0, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
            device: Any = None, requires_grad: bool = False) -> Tensor:
    """Sample frequencies of an n-point DFT with sample spacing d: [0, 1, ..., -2, -1] / (d n). Shape: (n,)"""
    return _freqs("fftfreq", n, d, True, out, dtype, layout, device, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """Sample frequencies of rfft's output: [0, 1, ..., n // 2] / (d n). Shape: (n // 2 + 1,)"""
    return _freqs("rfftfreq", n, d, False, out, dtype, layout, device, requires_grad)


def _shift(fn: str, input: Tensor, dim: int | Sequence[int] | None, inverse: bool) -> Tensor:
    if dim is None:
        dims = list(range(input.ndim))
    elif isinstance(dim, int):
        dims = [wrap_dim(dim, input.ndim, fn)]
    else:
        dims = [wrap_dim(d, input.ndim, fn) for d in dim]
    if not dims:
        raise RuntimeError("`shifts` required")
    shifts = [(input.shape[d] + 1) // 2 if inverse else input.shape[d] // 2 for d in dims]
    return lamina.roll(input, shifts, dims)


def fftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Move the zero-frequency term to the centre (roll by n // 2 along each of ``dim``, default all)."""
    return _shift("fftshift", input, dim, False)


def ifftshift(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Inverse of fftshift (roll by -(n // 2), i.e. (n + 1) // 2)."""
    return _shift("ifftshift", input, dim, True)
