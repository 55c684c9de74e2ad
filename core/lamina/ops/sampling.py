"""Random sampling: ``rand``/``randn``/``randint``/``randperm``, ``normal``, ``bernoulli``, ``poisson``,
``binomial``, ``multinomial`` and the in-place samplers (``exponential_``, ``geometric_``, ...).

Every draw comes from the device's backend generator, or from ``generator=`` (a ``lamina.Generator``),
so ``lamina.manual_seed`` and seeded generators make the results reproducible. Samples carry no
gradient (as torch's).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..backends import random as _random
from .creation import _check_layout, _dev, _finish, _shape_of, _size, write_out


def _float_dtype(dtype, name: str = "rand"):
    d = _dtype.to_np(dtype or _dtype.get_default_dtype())
    if _dtype.kind_of(d) != "f":
        raise TypeError(f"{name}: expected a floating point dtype, got {dtype!r}")
    return d


def _draw(kind: str, name: str, size_args, size, generator, out, dtype, layout, device, requires_grad) -> Tensor:
    _check_layout(name, layout)
    if out is not None:
        dtype, device = dtype or out.dtype, device or out.device
    dev = _dev(device)
    d = _float_dtype(dtype, name)
    g = _random.impl_for(generator, dev)
    with dev.backend.device_scope(dev.index):
        draw = g.random if kind == "uniform" else g.standard_normal
        arr = draw(_shape_of(name, size_args, size), dtype=np.float64 if d.itemsize == 2 else d).astype(d, copy=False)
    return write_out(out, _finish(arr, dev, requires_grad), name)


def rand(*size_args: Any, size: Any = None, generator=None, out: Tensor | None = None, dtype: Any = None,
         layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _draw("uniform", "rand", size_args, size, generator, out, dtype, layout, device, requires_grad)


def randn(*size_args: Any, size: Any = None, generator=None, out: Tensor | None = None, dtype: Any = None,
          layout: Any = None, device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """Standard normal samples (complex dtypes: real and imaginary parts each N(0, 1/2), as PyTorch)."""
    if dtype is not None and _dtype.to_np(dtype).kind == "c":
        cd = _dtype._FROM_NP[_dtype.to_np(dtype)]
        shape = _shape_of("randn", size_args, size)
        parts = randn(*shape, 2, generator=generator, dtype=cd.to_real(), device=device)._data
        parts *= parts.dtype.type(0.5 ** 0.5)
        return write_out(out, _finish(parts.view(cd.np)[..., 0], _dev(device), requires_grad), "randn")
    return _draw("normal", "randn", size_args, size, generator, out, dtype, layout, device, requires_grad)


def randint(low: Any = 0, high: Any = None, size: Any = None, *, generator=None, out: Tensor | None = None,
            dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False,
            pin_memory: bool = False) -> Tensor:
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint: expected randint(low=0, high, size) with size a tuple")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    _check_layout("randint", layout)
    if out is not None:
        dtype, device = dtype or out.dtype, device or out.device
    dev = _dev(device)
    g = _random.impl_for(generator, dev)
    with dev.backend.device_scope(dev.index):
        arr = g.integers(int(low), int(high), size=_size((size,)), dtype=np.int64)
        if dtype is not None:
            arr = arr.astype(_dtype.to_np(dtype))
    return write_out(out, _finish(arr, dev, requires_grad), "randint")


def randperm(n: int, *, generator=None, out: Tensor | None = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    _check_layout("randperm", layout)
    dev = _dev(device)
    g = _random.impl_for(generator, dev)
    with dev.backend.device_scope(dev.index):
        arr = g.permutation(int(n)).astype(_dtype.to_np(dtype or _dtype.int64))
    return write_out(out, _finish(arr, dev, requires_grad), "randperm")


def rand_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None, generator=None) -> Tensor:
    _check_layout("rand_like", layout, memory_format)
    return rand(tuple(input.shape), generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, layout: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None, generator=None) -> Tensor:
    _check_layout("randn_like", layout, memory_format)
    return randn(tuple(input.shape), generator=generator, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low: Any = 0, high: Any = None, *, dtype: Any = None, layout: Any = None,
                 device: Any = None, requires_grad: bool = False, memory_format: Any = None,
                 generator=None) -> Tensor:
    _check_layout("randint_like", layout, memory_format)
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator=None, out: Tensor | None = None,
           dtype: Any = None, layout: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """Normal samples; ``mean``/``std`` may be tensors (broadcast) or floats with ``size``."""
    _check_layout("normal", layout)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if isinstance(std, Tensor) and bool((std._data < 0).any()) or not isinstance(std, Tensor) and std < 0:
            raise RuntimeError("normal expects all elements of std >= 0.0")
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))
        z = randn(tuple(shape), generator=generator, dtype=like.dtype, device=like.device)
        return write_out(out, (z * std + mean).detach(), "normal")
    if size is None:
        raise TypeError("normal: expected size when mean and std are numbers")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    z = randn(*_size((size,)), generator=generator, dtype=dtype or (out.dtype if out is not None else None),
              device=device)
    return write_out(out, (z * std + mean).detach().requires_grad_(requires_grad), "normal")


def bernoulli(input: Tensor, p: float | None = None, *, generator=None, out: Tensor | None = None) -> Tensor:
    """Samples 1 with probability ``input`` (or ``p``), else 0; same dtype as input."""
    prob = input._data if p is None else p
    if p is None and input._data.size and bool(((prob < 0) | (prob > 1)).any()):
        raise RuntimeError("bernoulli: Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    u = _random.impl_for(generator, input.device).random(input._data.shape)
    return write_out(out, Tensor._make((u < prob).astype(input._data.dtype), input.device), "bernoulli")


def _with_xp(name: str, input: Tensor, draw, generator) -> Tensor:
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a floating point tensor, got {input.dtype}")
    g = _random.impl_for(generator, input.device)
    return Tensor._make(input.device.backend.xp.asarray(draw(g)).astype(input._data.dtype), input.device)


def poisson(input: Tensor, generator=None) -> Tensor:
    """Poisson counts with rates ``input`` (float, same shape and dtype)."""
    if input._data.size and bool((input._data < 0).any()):
        raise RuntimeError("poisson: Expected all rates to be non-negative")
    return _with_xp("poisson", input, lambda g: g.poisson(input._data), generator)


def binomial(count: Tensor, prob: Tensor, generator=None) -> Tensor:
    """Binomial counts: successes in ``count`` trials of probability ``prob`` (broadcast)."""
    return _with_xp("binomial", count,
                    lambda g: g.binomial(count._data.astype(np.int64), prob._data), generator)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None,
                out: Tensor | None = None) -> Tensor:
    """Draw category indices from rows of (unnormalised) probabilities. input: (C,) or (N, C)."""
    dev = input.device
    xp = dev.backend.xp
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got {input.ndim}")
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples ({num_samples}) <= 0 samples")
    g = _random.impl_for(generator, dev)
    p = input._data.astype(np.float64)
    rows = p.reshape(-1, p.shape[-1])
    n_cat = rows.shape[-1]
    if not replacement and num_samples > n_cat:
        raise RuntimeError(f"multinomial: cannot sample n_sample ({num_samples}) > prob_dist.size(-1) ({n_cat}) "
                           "samples without replacement")
    if bool((rows < 0).any()) or not bool(xp.isfinite(rows).all()):
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    if bool((rows.sum(axis=-1) <= 0).any()):
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    if replacement:  # inverse CDF: count the categories whose cumulative probability is <= u
        cdf = xp.cumsum(rows, axis=-1)
        cdf = cdf / cdf[:, -1:]
        u = g.random((rows.shape[0], num_samples))
        idx = xp.minimum((u[:, :, None] >= cdf[:, None, :]).sum(axis=-1), n_cat - 1)
    else:  # Efraimidis-Spirakis: the k largest log(u) / p, zero-probability categories last
        u = g.random(rows.shape)
        positive = rows > 0
        if num_samples > int(positive.sum(axis=-1).min()):
            raise RuntimeError("multinomial: invalid multinomial distribution (with replacement=False, not enough "
                               "non-negative category to sample)")
        keys = xp.where(positive, xp.log1p(-u) / xp.where(positive, rows, 1.0), -xp.inf)
        idx = xp.argsort(-keys, axis=-1, kind="stable")[:, :num_samples]
    idx = idx.astype(np.int64).reshape(p.shape[:-1] + (num_samples,))
    return write_out(out, Tensor._make(idx, dev), "multinomial")


def _fill_draw(self: Tensor, name: str, draw, generator) -> Tensor:
    """Write ``draw(g, shape)`` (a float64 or integer array) into ``self`` in place."""
    g = _random.impl_for(generator, self.device)
    vals = Tensor._make(draw(g, self._data.shape).astype(self._data.dtype), self.device)
    with no_grad():
        return self.copy_(vals)


def _need_float(self: Tensor, name: str, what: str) -> None:
    if self._data.dtype.kind != "f":
        raise RuntimeError(f"{what} is a continuous probability distribution. dtype must be a floating point but "
                           f"you specified {self.dtype}")


class SamplingMethods:
    """The in-place samplers and ``bernoulli``/``multinomial`` as ``Tensor`` methods."""

    __slots__ = ()
    multinomial = multinomial

    def bernoulli(self: Tensor, p: float | None = None, *, generator=None) -> Tensor:
        return bernoulli(self, p, generator=generator)

    def bernoulli_(self: Tensor, p: Any = 0.5, *, generator=None) -> Tensor:
        if not isinstance(p, Tensor) and not 0 <= p <= 1:
            raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")
        prob = p.expand(tuple(self.shape)) if isinstance(p, Tensor) else p
        src = prob if isinstance(prob, Tensor) else self
        with no_grad():
            return self.copy_(bernoulli(src.detach(), None if isinstance(p, Tensor) else p,
                                        generator=generator).to(self.dtype))

    def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
        _need_float(self, "exponential_", "Exponential distribution")
        if not lambd > 0:
            raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
        return _fill_draw(self, "exponential_", lambda g, s: g.exponential(1.0 / lambd, s), generator)

    def geometric_(self: Tensor, p: float, *, generator=None) -> Tensor:
        if not 0 < p < 1:
            raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
        return _fill_draw(self, "geometric_", lambda g, s: g.geometric(p, s), generator)

    def cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator=None) -> Tensor:
        _need_float(self, "cauchy_", "Cauchy distribution")
        if not sigma > 0:
            raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
        return _fill_draw(self, "cauchy_", lambda g, s: median + sigma * g.standard_cauchy(s), generator)

    def log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator=None) -> Tensor:
        _need_float(self, "log_normal_", "log_normal")
        if not std > 0:
            raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
        return _fill_draw(self, "log_normal_", lambda g, s: g.lognormal(mean, std, s), generator)

    def random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator=None, **kw: Any) -> Tensor:
        """Integers uniform on [from, to - 1]; ``random_(to)``; no bound: [0, 2**mantissa] for floats, the
        dtype's range for integers."""
        if set(kw) - {"from"}:
            raise TypeError(f"random_() got an unexpected keyword argument {next(iter(set(kw) - {'from'}))!r}")
        from_ = kw.get("from", from_)
        if to is None and "from" not in kw and from_ != 0:
            from_, to = 0, from_
        kind = self._data.dtype.kind
        if to is None:
            if kind == "f":
                to = 2 ** (np.finfo(self._data.dtype).nmant + 1) + 1
            elif kind == "b":
                to = 2
            else:
                to = int(np.iinfo(self._data.dtype).max) + 1
        if from_ >= to:
            raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
        hi = math.ceil(to)
        return _fill_draw(self, "random_", lambda g, s: g.integers(int(from_), hi, s, dtype=np.int64)
                          if hi <= 2 ** 63 else g.integers(int(from_), hi, s, dtype=np.uint64), generator)
