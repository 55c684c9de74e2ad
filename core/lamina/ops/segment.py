"""``segment_reduce``: reduce consecutive segments of a dim, given their lengths or offsets.

The segments of ``data`` along ``axis`` have the lengths of the last dim of ``lengths`` (leading dims of
``lengths`` match ``data``'s dims before ``axis``); an empty segment gives ``initial`` or the
reduction's identity (mean: NaN). ``initial``, when given, takes part in every segment's reduction.
Gradients as torch's: max/min split between ties, prod divides out one factor (zeros handled).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._base import errors as _errors
from .._tensor import Tensor
from ..autograd import Function

_REDUCE = {"sum": "sum", "mean": "mean", "prod": "prod", "max": "max", "amax": "max", "min": "min", "amin": "min"}
_IDENTITY = {"sum": 0.0, "mean": np.nan, "prod": 1.0, "max": -np.inf, "min": np.inf}


def _plan(lengths: np.ndarray, L: int) -> tuple[np.ndarray, np.ndarray]:
    """(segment id of each of the L positions, per leading row) flattened with the row offset, and counts."""
    P, S = lengths.shape
    ids = np.empty((P, L), dtype=np.int64)
    for p in range(P):
        ids[p] = np.repeat(np.arange(S), lengths[p]) + p * S
    return ids.reshape(-1), lengths.reshape(-1)


class SegmentReduceFn(Function):
    """y[..., s, ...] = reduce of data over segment s. data (*lead, L, *trail) -> (*lead, S, *trail)"""

    @staticmethod
    def forward(ctx, data, lengths, axis, reduce, initial):
        xp = ctx.xp
        lead, L, trail = data.shape[:axis], data.shape[axis], data.shape[axis + 1:]
        P, S, T = int(np.prod(lead, dtype=np.int64)), lengths.shape[-1], int(np.prod(trail, dtype=np.int64))
        ids, counts = _plan(lengths.reshape(P, S), L)
        x = data.reshape(P * L, T)
        start = _IDENTITY[reduce] if initial is None else initial
        if reduce == "mean":
            start = 0.0 if initial is None else initial
        y = xp.full((P * S, T), start, dtype=data.dtype)
        ufunc = {"sum": xp.add, "mean": xp.add, "prod": xp.multiply, "max": xp.maximum, "min": xp.minimum}[reduce]
        ufunc.at(y, xp.asarray(ids), x)
        c = xp.asarray(counts, dtype=data.dtype)[:, None]
        if reduce == "mean":
            y = xp.where(c > 0, y / xp.where(c > 0, c, 1), start if initial is not None else np.nan)
        ctx.save_for_backward(data, y)
        ctx.plan = (ids, c, lead, L, trail, P, S, T, reduce, initial)
        return y.reshape(lead + (S,) + trail)

    @staticmethod
    def backward(ctx, dy):  # dy: (*lead, S, *trail)
        data, y = ctx.saved_tensors
        ids, c, lead, L, trail, P, S, T, reduce, initial = ctx.plan
        xp = ctx.xp
        ids = xp.asarray(ids)
        g = dy.reshape(P * S, T)[ids]  # (P * L, T): each position's segment gradient
        x = data.reshape(P * L, T)
        if reduce == "sum":
            dx = g
        elif reduce == "mean":
            dx = g / c[ids]
        elif reduce == "prod":
            zero = x == 0
            nz = xp.zeros((P * S, T), dtype=data.dtype)
            xp.add.at(nz, ids, zero.astype(data.dtype))
            safe = xp.where(zero, 1, x)
            part = xp.full((P * S, T), 1.0 if initial is None else initial, dtype=data.dtype)
            xp.multiply.at(part, ids, safe)  # the product of the non-zero factors
            n0 = nz[ids]
            dx = g * xp.where(n0 == 0, part[ids] / safe, xp.where((n0 == 1) & zero, part[ids], 0))
        else:  # max/min: split between the positions equal to the result
            hit = (x == y[ids]).astype(data.dtype)
            ties = xp.zeros((P * S, T), dtype=data.dtype)
            xp.add.at(ties, ids, hit)
            dx = g * hit / xp.where(ties[ids] > 0, ties[ids], 1)
        return dx.reshape(data.shape), None, None, None, None


def segment_reduce(data: Tensor, reduce: str, *, lengths: Tensor | None = None, indices: Tensor | None = None,
                   offsets: Tensor | None = None, axis: int = 0, unsafe: bool = False,
                   initial: Any = None) -> Tensor:
    """Reduce the segments of ``data`` along ``axis``. Shape: data (*lead, L, *trail), lengths (*lead, S)
    or offsets (*lead, S + 1) -> (*lead, S, *trail)"""
    if reduce not in _REDUCE:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise NotImplementedError("segment_reduce(): indices= is not supported (torch does not implement it "
                                  "either); pass lengths= or offsets=")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    if not data.is_floating_point():
        raise NotImplementedError(f'"segment_reduce" not implemented for {data.dtype!r}: expected a floating dtype')
    axis = axis + data.ndim if axis < 0 else axis
    if lengths is not None:
        host = np.asarray(lengths.detach().cpu().numpy(), dtype=np.int64)
    else:
        off = np.asarray(offsets.detach().cpu().numpy(), dtype=np.int64)
        if off.ndim != axis + 1:
            raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of offsets but got {axis}.")
        host = np.diff(off, axis=-1)
    if host.ndim != axis + 1 or tuple(host.shape[:-1]) != tuple(data.shape[:axis]):
        raise RuntimeError(f"segment_reduce(): Expected lengths of {axis + 1} dims, the leading ones "
                           f"{list(data.shape[:axis])} as data's before axis {axis}, got {list(host.shape)}")
    if not unsafe and (np.any(host < 0) or np.any(host.sum(-1) != data.shape[axis])):
        raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                           "data.size(lengths.dim()-1) when !unsafe.")
    if data.ndim == 0:
        raise _errors.ShapeError("segment_reduce(): expected data with at least one dimension, got a 0-d tensor")
    return SegmentReduceFn.apply(data, host, axis, _REDUCE[reduce], None if initial is None else float(initial))
