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


class Gather(Function):
    """y = x[..., idx] (idx: an integer array of any shape). x: (*, L) -> y: (*, *idx.shape)"""

    @staticmethod
    def forward(ctx, x, idx):
        ctx.opts = (idx, x.shape[-1])
        return x[..., idx]

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
