"""The linear maps stft and istft are built from, as adjoint pairs (so double backward works):

  Gather      x[..., idx] along the last dim: padding by index (reflect, replicate, circular) and
              cutting overlapping frames
  ScatterAdd  its adjoint: sums values into the positions idx names (overlap-add)
  Windowed    frames * window, with gradients for both (the window may require grad, and be complex)
  AsRealPairs / FromRealPairs   complex (*) <-> real (*, 2) (torch.view_as_real / view_as_complex, as copies)
"""

from __future__ import annotations

import math

from lamina import Tensor
from lamina.autograd import Function

from ._ops import Conj, Real, _run


class Frames:
    """The index of ``count`` frames of ``size`` samples, ``hop`` apart (``idx[t, k] = t * hop + k``), which
    Gather cuts as a strided copy and ScatterAdd overlap-adds in ceil(size / hop) slab additions."""

    ndim = 2

    def __init__(self, count: int, size: int, hop: int) -> None:
        self.count, self.size, self.hop = count, size, hop
        self.shape = (count, size)

    @property
    def span(self) -> int:
        return self.size + self.hop * (self.count - 1)


def _cut(xp, x, f: Frames):
    """x[..., t * hop + k] for t < count, k < size, as a contiguous array. x: (*, L) -> (*, count, size)"""
    step = x.strides[-1]
    view = xp.lib.stride_tricks.as_strided(x, x.shape[:-1] + f.shape, x.strides[:-1] + (f.hop * step, step))
    return xp.ascontiguousarray(view)


def _overlap_add(xp, x, f: Frames, length: int):
    """sum over t of x[..., t, :] placed at t * hop. x: (*, count, size) -> (*, length), length >= span"""
    pieces = -(-f.size // f.hop)
    blocks = max(f.count - 1 + pieces, -(-length // f.hop))
    y = xp.zeros(x.shape[:-2] + (blocks, f.hop), dtype=x.dtype)
    for j in range(pieces):  # piece j of every frame lands on the consecutive blocks j, j + 1, ...
        width = min(f.hop, f.size - j * f.hop)
        y[..., j:j + f.count, :width] += x[..., :, j * f.hop:j * f.hop + width]
    return y.reshape(x.shape[:-2] + (blocks * f.hop,))[..., :length]


class Gather(Function):
    """y = x[..., idx] (idx: an integer array of any shape, or Frames). x: (*, L) -> y: (*, *idx.shape)"""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.opts = (idx, x.shape[-1])
        if isinstance(idx, Frames):
            return _cut(ctx.xp, x, idx)
        return x[..., ctx.xp.asarray(idx)]

    @staticmethod
    def backward(ctx, dy):  # dy: (*, *idx.shape) -> dx: (*, L)
        idx, length = ctx.opts
        return _run(ctx, ScatterAdd, dy, idx, length), None


class ScatterAdd(Function):
    """y[..., j] = sum of x[..., i] over the i with idx[i] = j. x: (*, *idx.shape) -> y: (*, L)"""

    @staticmethod
    def forward(ctx, x, idx, length):
        xp = ctx.xp
        ctx.opts = idx
        if isinstance(idx, Frames):
            return _overlap_add(xp, x, idx, length)
        idx = xp.asarray(idx)
        batch = x.shape[:x.ndim - idx.ndim]
        nb = math.prod(batch)
        flat = (xp.arange(nb)[:, None] * length + idx.reshape(1, -1)).reshape(-1)
        w = x.reshape(nb * idx.size)

        def total(part):
            return xp.bincount(flat, weights=part, minlength=nb * length)

        y = total(w.real) + 1j * total(w.imag) if x.dtype.kind == "c" else total(w)
        return y.astype(x.dtype, copy=False).reshape(batch + (length,))

    @staticmethod
    def backward(ctx, dy):  # dy: (*, L) -> dx: (*, *idx.shape)
        return _run(ctx, Gather, dy, ctx.opts), None, None


def _is_complex(a) -> bool:
    return a.is_complex() if isinstance(a, Tensor) else a.dtype.kind == "c"


def _conj(ctx, a):
    return _run(ctx, Conj, a) if _is_complex(a) else a


def _like(ctx, g, a):
    """The gradient g for an input like a: its real part when a is real."""
    return _run(ctx, Real, g) if _is_complex(g) and not _is_complex(a) else g


class Windowed(Function):
    """y = frames * window (broadcast over the leading dims). frames: (*, N), window: (N,) -> y: (*, N)"""

    @staticmethod
    def forward(ctx, frames, window):
        ctx.save_for_backward(frames, window)
        return frames * window

    @staticmethod
    def backward(ctx, dy):  # dy: (*, N) -> dframes: (*, N), dwindow: (N,)
        frames, window = ctx.saved_tensors
        xp = ctx.xp
        dframes = dwindow = None
        if ctx.needs_input_grad[0]:
            dframes = _like(ctx, dy * _conj(ctx, window), frames)
        if ctx.needs_input_grad[1]:
            lead = tuple(range(dy.ndim - 1))
            prod = dy * _conj(ctx, frames)
            dwindow = _like(ctx, xp.sum(prod, axis=lead) if lead else prod, window)
        return dframes, dwindow


class AsRealPairs(Function):
    """Real and imaginary parts side by side. z: complex (*) -> y: real (*, 2)"""

    @staticmethod
    def forward(ctx, z):
        return ctx.xp.stack((z.real, z.imag), axis=-1)

    @staticmethod
    def backward(ctx, dy):  # dy: (*, 2) -> dz: dy[..., 0] + i dy[..., 1]
        return _run(ctx, FromRealPairs, dy)


class FromRealPairs(Function):
    """The inverse of AsRealPairs. x: real (*, 2) -> z: complex (*)"""

    @staticmethod
    def forward(ctx, x):
        z = x[..., 0].astype("complex64" if x.dtype.itemsize <= 4 else "complex128")
        z.imag = x[..., 1]
        return z

    @staticmethod
    def backward(ctx, dz):  # dz: complex (*) -> dx: (*, 2)
        return _run(ctx, AsRealPairs, dz)
