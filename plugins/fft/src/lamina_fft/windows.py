"""Window functions: ``lamina.hann_window``, ``hamming_window``, ``blackman_window``,
``bartlett_window``, ``kaiser_window`` (torch's definitions and signatures).

Shape: (window_length,). A periodic window of length N is the symmetric one of length N + 1
without its last point (the form stft wants); length 1 gives [1], length 0 an empty tensor.
Values are computed in float64 on the host and cast to ``dtype`` (torch computes in ``dtype``;
the two agree to float32 round-off).
"""

from __future__ import annotations

from typing import Any

import lamina
import numpy as np
from lamina import Tensor

from ._args import check_int

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _window(fn: str, window_length: int, periodic: bool, dtype: Any, layout: Any, device: Any,
            requires_grad: bool, shape) -> Tensor:
    window_length = check_int(window_length, fn, "window_length")
    if layout is not None and str(layout).rsplit(".", 1)[-1] != "strided":
        raise RuntimeError(f"{fn}: only the strided layout is supported, got layout={layout}")
    dtype = lamina.get_default_dtype() if dtype is None else dtype
    probe = lamina.zeros(0, dtype=dtype)
    if not probe.is_floating_point():
        raise RuntimeError(f"{fn} expects floating point dtypes, got: {dtype}")
    if window_length < 0:
        raise RuntimeError(f"{fn} requires non-negative window_length, got window_length={window_length}")
    if window_length <= 1:
        w = np.ones(window_length)
    else:
        n = window_length + 1 if periodic else window_length
        w = shape(np.arange(n, dtype=np.float64), n)[:window_length]
    return lamina.tensor(w, dtype=dtype, device=device, requires_grad=requires_grad)


def _cosine(*coefs: float):
    def shape(k: np.ndarray, n: int) -> np.ndarray:
        return sum(((-1) ** i) * c * np.cos(2 * np.pi * i * k / (n - 1)) for i, c in enumerate(coefs))
    return shape


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """w[k] = 0.5 - 0.5 cos(2 pi k / (N - 1)). Shape: (window_length,)"""
    return _window("hann_window", window_length, periodic, dtype, layout, device, requires_grad, _cosine(0.5, 0.5))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:
    """w[k] = alpha - beta cos(2 pi k / (N - 1)). Shape: (window_length,)"""
    return _window("hamming_window", window_length, periodic, dtype, layout, device, requires_grad,
                   _cosine(float(alpha), float(beta)))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """w[k] = 0.42 - 0.5 cos(2 pi k / (N - 1)) + 0.08 cos(4 pi k / (N - 1)). Shape: (window_length,)"""
    return _window("blackman_window", window_length, periodic, dtype, layout, device, requires_grad,
                   _cosine(0.42, 0.5, 0.08))


def _bartlett(k: np.ndarray, n: int) -> np.ndarray:
    return 1.0 - np.abs(2.0 * k / (n - 1) - 1.0)


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, pin_memory: bool = False, requires_grad: bool = False) -> Tensor:
    """w[k] = 1 - |2 k / (N - 1) - 1|. Shape: (window_length,)"""
    return _window("bartlett_window", window_length, periodic, dtype, layout, device, requires_grad, _bartlett)


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  layout: Any = None, device: Any = None, pin_memory: bool = False,
                  requires_grad: bool = False) -> Tensor:
    """w[k] = I0(beta sqrt(1 - (2 k / (N - 1) - 1)^2)) / I0(beta). Shape: (window_length,)"""
    beta = float(beta)

    def shape(k: np.ndarray, n: int) -> np.ndarray:
        r = 2.0 * k / (n - 1) - 1.0
        return np.i0(beta * np.sqrt(np.clip(1.0 - r * r, 0.0, None))) / np.i0(beta)
    return _window("kaiser_window", window_length, periodic, dtype, layout, device, requires_grad, shape)
