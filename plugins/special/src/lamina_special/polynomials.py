"""Orthogonal polynomials p_n(x) as torch.special defines them: Chebyshev of the four kinds and their
shifted forms, physicists' and probabilists' Hermite, Laguerre and Legendre. ``n`` is truncated to an
integer (a negative degree gives 0); torch defines no derivative, so results never require grad.

Shape: input and n broadcast (either may be a Python number), -> the broadcast shape.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from lamina import Tensor

from ._common import broadcast_shapes, check_cpu, check_half, finish_out, host_call, promote_float, to_float, wrap


def _recurrence(first: Callable, step: Callable, trig: Callable | None = None, trig_from: int = 0) -> Callable:
    """p_0 = 1, p_1 = first(x), p_{k+1} = step(k, x, p_{k-1}, p_k), evaluated at each element's degree
    (torch's definitions: the recurrence, also at +-inf). ``trig(n, x)`` replaces it for |x| < 1 and
    n > ``trig_from``, where torch uses the trigonometric closed form."""

    def ev(n: np.ndarray, x: np.ndarray) -> np.ndarray:
        n, x = np.broadcast_arrays(n, x)
        prev, cur = np.ones_like(x), first(x)
        y = np.where(n == 0, prev, cur)
        for k in range(1, int(n.max(initial=0))):
            prev, cur = cur, step(k, x, prev, cur)
            y = np.where(n == k + 1, cur, y)
        if trig is not None:
            y = np.where((np.abs(x) < 1) & (n > trig_from), trig(n, x), y)
        return y

    return ev


def _cheb(k, x, p, q):
    return 2.0 * x * q - p


def _t_trig(n, x):
    return np.cos(n * np.arccos(np.clip(x, -1, 1)))


def _u_trig(n, x):
    t = np.arccos(np.clip(x, -1, 1))
    s = np.sin(t)
    return np.where(s != 0, np.sin((n + 1) * t) / np.where(s != 0, s, 1.0), (n + 1) * np.cos((n + 1) * t) / x)


_cheb_t = _recurrence(lambda x: x, _cheb, _t_trig, 6)
_cheb_u = _recurrence(lambda x: 2.0 * x, _cheb, _u_trig, 8)
_cheb_v = _recurrence(lambda x: 2.0 * x - 1.0, _cheb)
_cheb_w = _recurrence(lambda x: 2.0 * x + 1.0, _cheb)
_hermite_h = _recurrence(lambda x: 2.0 * x, lambda k, x, p, q: 2.0 * x * q - 2.0 * k * p)
_hermite_he = _recurrence(lambda x: x, lambda k, x, p, q: x * q - k * p)
_laguerre = _recurrence(lambda x: 1.0 - x, lambda k, x, p, q: ((2 * k + 1 - x) * q - k * p) / (k + 1))
_legendre = _recurrence(lambda x: x, lambda k, x, p, q: ((2 * k + 1) * x * q - k * p) / (k + 1))


def _shifted(ev):
    return lambda n, x: ev(n, 2.0 * x - 1.0)


def _host(ev: Callable, ends: str | None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``ev(n, x)`` at integer degrees; degree < 0 gives 0 and degree 0 gives 1 (NaN x included), as torch.
    ``ends`` names torch's exact answers at x = +-1 (Chebyshev T, Legendre: +-1) or x = 0 (Laguerre: 1)."""

    def host(x: np.ndarray, n: np.ndarray) -> np.ndarray:
        n = np.where(np.isnan(n), -1, np.trunc(np.clip(n, -1, 2**62))).astype(np.int64)
        n, x = np.broadcast_arrays(n, x)
        y = ev(np.maximum(n, 0), x)
        if ends == "pm1":
            y = np.where(np.abs(x) == 1, np.where((x > 0) | (n % 2 == 0), 1.0, -1.0), y)
        elif ends == "zero":
            y = np.where(x == 0, 1.0, y)
        y = np.where(n == 0, 1.0, y)
        return np.where(n < 0, 0.0, y)

    return host


def _make(name: str, host: Callable, doc: str):
    def poly(input: Tensor | float, n: Tensor | float, *, out: Tensor | None = None) -> Tensor:
        if not isinstance(input, Tensor) and not isinstance(n, Tensor):
            raise TypeError(f"{name}() received an invalid combination of arguments - got "
                            f"({type(input).__name__}, {type(n).__name__}), but expected one of: (Tensor input, "
                            "Tensor n), (Number x, Tensor n), (Tensor x, Number n)")
        check_cpu(name, input, n)
        dtype = promote_float(name, input, n)
        check_half(name, dtype)
        x, k = to_float(input, dtype), to_float(n, dtype)
        broadcast_shapes(name, tuple(x.shape), tuple(k.shape))
        y = wrap(host_call(host, x.detach().numpy().dtype, x.detach().numpy(), k.detach().numpy()))
        return finish_out(name, y, out)

    poly.__name__ = poly.__qualname__ = name.removeprefix("special_")
    poly.__doc__ = doc + " No derivative (as in torch). Shape: input, n broadcast -> broadcast shape"
    return poly


chebyshev_polynomial_t = _make("special_chebyshev_polynomial_t", _host(_cheb_t, "pm1"),
                               "The Chebyshev polynomial of the first kind T_n(x).")
chebyshev_polynomial_u = _make("special_chebyshev_polynomial_u", _host(_cheb_u, None),
                               "The Chebyshev polynomial of the second kind U_n(x).")
chebyshev_polynomial_v = _make("special_chebyshev_polynomial_v", _host(_cheb_v, None),
                               "The Chebyshev polynomial of the third kind V_n(x).")
chebyshev_polynomial_w = _make("special_chebyshev_polynomial_w", _host(_cheb_w, None),
                               "The Chebyshev polynomial of the fourth kind W_n(x).")
shifted_chebyshev_polynomial_t = _make("special_shifted_chebyshev_polynomial_t", _host(_shifted(_cheb_t), None),
                                       "The shifted Chebyshev polynomial of the first kind T_n(2x - 1).")
shifted_chebyshev_polynomial_u = _make("special_shifted_chebyshev_polynomial_u", _host(_shifted(_cheb_u), None),
                                       "The shifted Chebyshev polynomial of the second kind U_n(2x - 1).")
shifted_chebyshev_polynomial_v = _make("special_shifted_chebyshev_polynomial_v", _host(_shifted(_cheb_v), None),
                                       "The shifted Chebyshev polynomial of the third kind V_n(2x - 1).")
shifted_chebyshev_polynomial_w = _make("special_shifted_chebyshev_polynomial_w", _host(_shifted(_cheb_w), None),
                                       "The shifted Chebyshev polynomial of the fourth kind W_n(2x - 1).")
hermite_polynomial_h = _make("special_hermite_polynomial_h", _host(_hermite_h, None),
                             "The physicists' Hermite polynomial H_n(x).")
hermite_polynomial_he = _make("special_hermite_polynomial_he", _host(_hermite_he, None),
                              "The probabilists' Hermite polynomial He_n(x).")
laguerre_polynomial_l = _make("special_laguerre_polynomial_l", _host(_laguerre, "zero"),
                              "The Laguerre polynomial L_n(x).")
legendre_polynomial_p = _make("special_legendre_polynomial_p", _host(_legendre, "pm1"),
                              "The Legendre polynomial P_n(x).")

__all__ = [n for n in dir() if n.endswith(("_t", "_u", "_v", "_w", "_h", "_he", "_l", "_p")) and "polynomial" in n]
