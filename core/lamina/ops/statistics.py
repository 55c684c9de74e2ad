"""Order statistics and summaries: median/nanmedian (the lower median), quantile/nanquantile, mode,
aminmax, nansum/nanmean, cov/corrcoef, histc/histogram/histogramdd, bincount.

Values picked from the input (median, quantile, mode) are ``gather``s of it, so their gradients
flow to the picked elements; counts and histograms carry none.
"""

from __future__ import annotations

import builtins
from typing import Any

from .._base import dtype as _dtype
from .._base.return_types import max_min
from .._tensor import Tensor
from ..autograd.autocast_state import autocast_op
from ._util import normalize_dim


def _named(name: str, fields: tuple[str, str]) -> type:
    from collections import namedtuple

    from .._base import return_types as R

    cls = R._cache.get(name)
    if cls is None:
        base = namedtuple(name, list(fields))
        cls = type(name, (base,), {"__slots__": (), "__module__": "lamina.return_types", "__repr__": _repr})
        R._cache[name] = cls
    return cls


def _repr(self) -> str:
    parts = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self))
    return f"lamina.return_types.{type(self).__name__}(\n{parts})"


def _as_rows(input: Tensor, dim: int | None, name: str):
    """``input`` with the reduced dim last (flattened when dim is None) and that dim's index."""
    if dim is None:
        return input.reshape(-1), 0
    if input.ndim == 0:
        return input.reshape(1), 0
    d = normalize_dim(dim, input.ndim, name)
    return input.movedim(d, -1), d


def _finish_dim(t: Tensor, input: Tensor, d: int, keepdim: bool) -> Tensor:
    """A result with the reduced dim removed (last) put back as size 1 at ``d`` when keepdim."""
    if input.ndim == 0:
        return t.reshape(())
    return t.unsqueeze(d) if keepdim else t


def _median(input: Tensor, dim: int | None, keepdim: bool, ignore_nan: bool, name: str):
    from .indexing import gather

    xp = input.device.backend.xp
    src = input.reshape(-1) if dim is None or input.ndim == 0 else input
    d = 0 if src is not input else normalize_dim(dim, input.ndim, name)
    x = src._data
    n = x.shape[d]
    if n == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    order = xp.argsort(x, axis=d, kind="stable")                           # NaNs sort last
    n_nan = xp.isnan(x).sum(d, keepdims=True) if x.dtype.kind in "fc" else xp.zeros((1,) * x.ndim, "int64")
    if ignore_nan:
        k = xp.maximum(n - n_nan - 1, 0) // 2
    else:  # any NaN: the median is NaN, at the first NaN's position
        k = xp.where(n_nan > 0, n - n_nan, (n - 1) // 2)
    k = xp.broadcast_to(k.astype("int64"), x.shape[:d] + (1,) + x.shape[d + 1:])
    idx = xp.take_along_axis(order, k, d)
    vals = gather(src, d, Tensor._make(idx, input.device))
    if dim is None:
        return vals.reshape(())
    if input.ndim == 0:
        return max_min(name)(vals.reshape(()), Tensor._make(idx.reshape(()), input.device))
    if not keepdim:
        vals, idx = vals.squeeze(d), idx.squeeze(d)
    return max_min(name)(vals, Tensor._make(idx, input.device))


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median (of all elements, or along ``dim`` with indices); NaN if any element is NaN."""
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """``median`` ignoring NaNs (NaN only where every element is)."""
    return _median(input, dim, keepdim, True, "nanmedian")


_INTERP = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(input: Tensor, q: Any, dim: int | None, keepdim: bool, interpolation: str, ignore_nan: bool,
              name: str) -> Tensor:
    from .indexing import gather, where
    from .sorting import sort

    if interpolation not in _INTERP:
        raise ValueError(f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest. Got "
                         f"{interpolation}")
    if input._data.dtype.kind != "f":
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype, got {input.dtype}")
    xp = input.device.backend.xp
    scalar_q = not isinstance(q, Tensor)
    qa = xp.asarray([q] if scalar_q else q._data, dtype=input._data.dtype).reshape(-1)
    if not scalar_q and q.ndim > 1:
        raise RuntimeError(f"{name}() q must be a scalar or 1D tensor, got {q.ndim}D")
    if not scalar_q and q.dtype != input.dtype:
        raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    if qa.size and (float(qa.min()) < 0 or float(qa.max()) > 1):
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    rows, d = _as_rows(input, dim, name)
    n = rows.shape[-1]
    if n == 0:
        raise IndexError(f"{name}() input tensor must be non-empty")
    srt = sort(rows, -1).values                                             # NaNs last
    nan = xp.isnan(rows._data)
    valid = (n - nan.sum(-1, keepdims=True)) if ignore_nan else xp.full(nan.shape[:-1] + (1,), n)
    pos = qa * (xp.maximum(valid, 1) - 1).astype(qa.dtype)                  # (..., Q)
    if interpolation == "nearest":
        pos = xp.round(pos)
    lo = xp.floor(pos).astype("int64")
    hi = xp.minimum(xp.ceil(pos).astype("int64"), xp.maximum(valid, 1) - 1)
    a = gather(srt, srt.ndim - 1, Tensor._make(lo, input.device))
    b = gather(srt, srt.ndim - 1, Tensor._make(hi, input.device))
    if interpolation in ("lower", "nearest"):
        out = a
    elif interpolation == "higher":
        out = b
    elif interpolation == "midpoint":
        out = a + (b - a) * 0.5
    else:
        out = a + (b - a) * Tensor._make((pos - lo).astype(qa.dtype), input.device)
    bad = (valid == 0) if ignore_nan else nan.any(-1, keepdims=True)
    if bool(bad.any()):
        out = where(Tensor._make(xp.broadcast_to(bad, out._data.shape), input.device),
                    Tensor._make(xp.asarray(xp.nan, dtype=out._data.dtype), input.device), out)
    out = out.movedim(-1, 0)                                                # (Q, ...)
    if dim is None:
        if keepdim:
            out = out.reshape((out.shape[0],) + (1,) * input.ndim)
    elif keepdim and input.ndim:
        out = out.unsqueeze(d + 1)
    return out[0] if scalar_q else out


@autocast_op("fp32")
def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """The ``q``-th quantiles (a float or 1-D tensor, its dim first in the result) over ``dim``."""
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


@autocast_op("fp32")
def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """``quantile`` ignoring NaNs."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest among ties) and the last index holding it."""
    from .indexing import gather

    xp = input.device.backend.xp
    rows, d = _as_rows(input, dim, "mode")
    a = rows._data
    if a.shape[-1] == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    eq = a[..., :, None] == a[..., None, :]                                 # (..., n, n)
    count = eq.sum(-1)
    best = count.max(-1, keepdims=True)
    cand = xp.where(count == best, a, xp.asarray(a.max() if a.size else 0, dtype=a.dtype))
    value = cand.min(-1, keepdims=True)
    n = a.shape[-1]
    last = n - 1 - xp.argmax(xp.flip(a == value, -1), axis=-1)[..., None]
    vals = gather(rows, rows.ndim - 1, Tensor._make(last.astype("int64"), input.device)).squeeze(-1)
    ix = Tensor._make(last[..., 0].astype("int64"), input.device)
    return max_min("mode")(_finish_dim(vals, input, d, keepdim), _finish_dim(ix, input, d, keepdim))


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False):
    """(min, max) over ``dim`` (all elements by default) as ``aminmax(min, max)``."""
    from .reduction import amax, amin

    if input.numel() == 0 and dim is None:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
                           "identity.")
    dims = () if dim is None else dim
    return _named("aminmax", ("min", "max"))(amin(input, dims, keepdim), amax(input, dims, keepdim))


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``sum`` with NaNs counted as zero."""
    from .indexing import where
    from .reduction import sum as _sum

    if input._data.dtype.kind in "fc":
        input = where(input.isnan(), Tensor._make(input.device.backend.xp.zeros((), input._data.dtype),
                                                  input.device), input)
    return _sum(input, dim, keepdim, dtype=dtype)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """``mean`` over the non-NaN elements."""
    from .reduction import sum as _sum

    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got {input.dtype}")
    count = _sum((~input.isnan()).to(input.dtype), dim, keepdim)
    return nansum(input, dim, keepdim) / count


def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """Covariance of the rows (variables) over the columns (observations). (V, N) -> (V, V); (N,) -> 0-d"""
    from .elementwise import clamp_min
    from .reduction import sum as _sum

    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    x = input.reshape(1, -1) if input.ndim < 2 else input
    if x._data.dtype.kind in "biu":
        x = x.to(_dtype.get_default_dtype())
    n = x.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        if wt.ndim > 1 or wt.numel() != n:
            raise RuntimeError(f"cov(): expected {name} to have one dimension with {n} elements, got shape "
                               f"{list(wt.shape)}")
        if bool((wt._data < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        if name == "fweights" and wt._data.dtype.kind not in "iu":
            raise RuntimeError("cov(): expected fweights to have integral dtype")
        w = wt.to(x.dtype) if w is None else w * wt.to(x.dtype)
    if w is None:
        avg = x.mean(1)
        w_sum = float(n)
        norm = w_sum - correction
    else:
        w_sum = _sum(w)
        avg = _sum(x * w, 1) / w_sum
        norm = w_sum - correction if aweights is None else \
            w_sum - correction * _sum(w * aweights.to(x.dtype)) / w_sum
    if (float(norm.item()) if isinstance(norm, Tensor) else norm) <= 0:
        import warnings

        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", UserWarning, stacklevel=2)
    norm = clamp_min(norm, 0) if isinstance(norm, Tensor) else builtins.max(norm, 0)
    xm = x - avg.unsqueeze(1)
    c = (xm if w is None else xm * w) @ xm.t()
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):  # no degrees of freedom left: inf/NaN, as torch
        c = c / norm
    return c.reshape(()) if input.ndim < 2 or x.shape[0] == 1 and input.ndim < 2 else c


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows (clamped to [-1, 1])."""
    from .elementwise import clamp, sqrt

    c = cov(input)
    if c.ndim == 0:
        return c / c
    s = sqrt(c.diagonal())
    return clamp(c / s.unsqueeze(1) / s.unsqueeze(0), -1, 1)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0, *,  # noqa: A002
          out: Tensor | None = None) -> Tensor:
    """Counts in ``bins`` equal bins over [min, max] (the data's range when both are 0); outside ignored."""
    from .creation import write_out

    if input._data.dtype.kind != "f":
        raise RuntimeError(f"histc: \"histogram_cpu\" not implemented for '{str(input.dtype).split('.')[-1]}'")
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins} for dimension 0")
    xp = input.device.backend.xp
    a = input._data.reshape(-1)
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError(f"histc: max must be larger than min, got min {lo} and max {hi}")
    if lo == hi and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    keep = a[(a >= lo) & (a <= hi)]
    counts, _ = xp.histogram(keep, bins=bins, range=(lo, hi))
    return write_out(out, Tensor._make(counts.astype(input._data.dtype), input.device), "histc")


def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Tensor | None = None,  # noqa: A002
              density: bool = False, out: Any = None):
    """``histogram(hist, bin_edges)``: ``bins`` equal bins over ``range`` (or the data's), or given edges."""
    xp = input.device.backend.xp
    edges = bins._data if isinstance(bins, Tensor) else int(bins)
    hist, e = xp.histogram(input._data.reshape(-1), bins=edges, range=range,
                           weights=None if weight is None else weight._data.reshape(-1), density=density)
    dt = input._data.dtype
    return _named("histogram", ("hist", "bin_edges"))(Tensor._make(hist.astype(dt), input.device),
                                                      Tensor._make(e.astype(dt), input.device))


def histogramdd(input: Tensor, bins: Any = 10, *, range: Any = None, weight: Tensor | None = None,  # noqa: A002
                density: bool = False):
    """``histogramdd(hist, bin_edges)`` of the rows of ``input`` (N, D) as points in D dims."""
    xp = input.device.backend.xp
    pts = input._data.reshape(-1, input.shape[-1])
    D = pts.shape[1]
    if isinstance(bins, Tensor) or isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor):
        b = [e._data for e in bins]
    else:
        b = bins if isinstance(bins, int) else list(bins)
    rng = None if range is None else [(range[2 * i], range[2 * i + 1]) for i in builtins.range(D)]
    hist, edges = xp.histogramdd(pts, bins=b, range=rng, density=density,
                                 weights=None if weight is None else weight._data.reshape(-1))
    dt = input._data.dtype
    return _named("histogramdd", ("hist", "bin_edges"))(
        Tensor._make(hist.astype(dt), input.device), tuple(Tensor._make(e.astype(dt), input.device) for e in edges))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Occurrences of each value of a non-negative 1-D integer tensor (sums of ``weights`` with them)."""
    xp = input.device.backend.xp
    if input.ndim != 1 or input._data.dtype.kind not in "iu":
        raise RuntimeError(f"bincount only supports 1-d non-negative integral inputs, got {input.ndim}-d "
                           f"{input.dtype}")
    if input._data.size and int(input._data.min()) < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError(f"minlength should be >= 0, got {minlength}")
    w = None if weights is None else weights._data
    r = xp.bincount(input._data, weights=w, minlength=minlength)
    if w is None:
        dt = "int64"
    elif w.dtype.kind == "f" and w.dtype.itemsize <= 4:
        dt = w.dtype
    else:
        dt = "float64"
    return Tensor._make(r.astype(dt), input.device)


class StatisticsMethods:
    """Order statistics, summaries and histograms as ``Tensor`` methods."""

    __slots__ = ()
    median = median
    nanmedian = nanmedian
    quantile = quantile
    nanquantile = nanquantile
    mode = mode
    aminmax = aminmax
    nansum = nansum
    nanmean = nanmean
    cov = cov
    corrcoef = corrcoef
    histc = histc
    histogram = histogram
    bincount = bincount
