"""The differentiable transforms: complex-to-complex, real-to-complex, complex-to-real, and the small
linear maps around them (zero-pad/trim, real part, complex cast, conjugate).

Gradients follow torch's convention for complex numbers: the gradient of a real loss L with respect
to z = a + ib is dL/da + i dL/db (twice the conjugate Wirtinger derivative), so the backward of a
complex-linear map A is its adjoint A^H, and the backward of a map from real inputs is the real
part of that. Every op here is linear, so backward saves no arrays, and each backward is another op
of this file: under ``create_graph=True`` it is applied to Tensors (``_run``), so double backward
works to any order.

Adjoints used (N the transform size, norms dual: backward <-> forward, ortho <-> ortho):
  fftn(norm)  -> ifftn(dual norm)          (and the other way round)
  rfftn       -> irfftn of g with the middle bins halved; the bins 1..(n-1)//2 of the last dim stand
                 for two conjugate bins each in the full spectrum, irfftn counts them twice
  irfftn      -> rfftn of g with the middle bins doubled (the same count, seen from the other side)
"""

from __future__ import annotations

from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from lamina.autograd import Function

from . import __lamina_plugin_api__  # noqa: F401

DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}


class _Transforms:
    """The FFT routines for ``xp``: SciPy's pocketfft on NumPy arrays (vectorised, about 2.5x NumPy's own
    for 2^20 float32 points, batches over lamina's thread count), the array library's ``fft`` otherwise."""

    def __init__(self, xp: Any) -> None:
        self.lib, self.threaded = xp.fft, False
        if xp is np:
            try:
                import scipy.fft
            except ImportError:  # NumPy's pocketfft: the same values, slower
                return
            self.lib, self.threaded = scipy.fft, True

    def __call__(self, name: str, x: Any, **kw: Any) -> Any:
        axes = kw["axes"]
        if len(axes) == 1:  # the 1-D routines skip the n-D argument handling (a third of a small call)
            name, kw["axis"] = name[:-1], axes[0]
            del kw["axes"]
            if "s" in kw:
                kw["n"] = kw.pop("s")[0]
        if self.threaded:
            kw["workers"] = lamina.get_num_threads()
        return getattr(self.lib, name)(x, **kw)


_TRANSFORMS: dict[int, _Transforms] = {}


def transform(xp: Any, name: str, x: Any, **kw: Any) -> Any:
    """``xp``'s (or SciPy's) fft routine ``name`` applied to x."""
    t = _TRANSFORMS.get(id(xp))
    if t is None:
        t = _TRANSFORMS[id(xp)] = _Transforms(xp)
    return t(name, x, **kw)


class _ArrayCtx:
    """The ctx a forward gets when a backward runs it on arrays (outside the graph)."""

    __slots__ = ("xp", "opts")

    def __init__(self, xp: Any) -> None:
        self.xp = xp


def _run(ctx: Any, op: type[Function], x: Any, *args: Any) -> Any:
    """op(x, *args) inside a backward: a graph op on Tensors (create_graph), a plain forward on arrays."""
    if isinstance(x, Tensor):
        return op.apply(x, *args)
    return op.forward(_ArrayCtx(ctx.xp), x, *args)


def _middle(n: int) -> slice:
    """The bins of a one-sided spectrum of n points that stand for two bins of the full one."""
    return slice(1, 1 + (n - 1) // 2)


def _index(ndim: int, dim: int, sl: slice) -> tuple:
    return (slice(None),) * dim + (sl,)


class Resize(Function):
    """Zero-pad or trim x along ``dims`` to ``sizes`` (from the start). x: (*) -> y: (*) resized"""

    @staticmethod
    def forward(ctx, x, dims, sizes):
        xp = ctx.xp
        ctx.opts = (dims, tuple(x.shape[d] for d in dims))
        shape = list(x.shape)
        for d, n in zip(dims, sizes):
            shape[d] = n
        common = [slice(None)] * x.ndim
        for d, n in zip(dims, sizes):
            common[d] = slice(0, min(n, x.shape[d]))
        if all(shape[d] <= x.shape[d] for d in dims):
            return x[tuple(common)].copy()
        y = xp.zeros(tuple(shape), dtype=x.dtype)
        y[tuple(common)] = x[tuple(common)]
        return y

    @staticmethod
    def backward(ctx, dy):  # dy: resized -> dx: x's shape (the adjoint of padding is trimming, and back)
        dims, sizes = ctx.opts
        return _run(ctx, Resize, dy, dims, sizes), None, None


class Real(Function):
    """Real part. z: complex (*) -> y: real (*)"""

    @staticmethod
    def forward(ctx, z):
        return z.real.copy()

    @staticmethod
    def backward(ctx, dy):  # dy: real -> dz = dy + 0i
        return _run(ctx, ToComplex, dy)


class ToComplex(Function):
    """A real array as complex (zero imaginary part). x: real (*) -> z: complex (*)"""

    @staticmethod
    def forward(ctx, x):
        return x.astype("complex64" if x.dtype.itemsize <= 4 else "complex128")

    @staticmethod
    def backward(ctx, dz):  # dz: complex -> dx = Re(dz)
        return _run(ctx, Real, dz)


class Conj(Function):
    """Complex conjugate (a copy). z: (*) -> conj(z): (*)"""

    @staticmethod
    def forward(ctx, z):
        return ctx.xp.conj(z)

    @staticmethod
    def backward(ctx, dy):  # conj is its own adjoint (as an R-linear map)
        return _run(ctx, Conj, dy)


class C2C(Function):
    """Complex DFT over ``dims``: fftn (``forward``) or ifftn under ``norm``. x: (*) -> y: complex (*)"""

    @staticmethod
    def forward(ctx, x, dims, forward, norm):
        xp = ctx.xp
        ctx.opts = (dims, forward, norm, x.dtype.kind != "c")
        if not dims:  # a transform over no dims is the identity (as a complex copy, as torch)
            return x.astype("complex128" if x.dtype in (xp.float64, xp.complex128) else "complex64")
        return transform(xp, "fftn" if forward else "ifftn", x, axes=dims, norm=norm)

    @staticmethod
    def backward(ctx, dy):  # dy: complex (*) -> dx: (*), real for a real x
        dims, forward, norm, real_input = ctx.opts
        dx = _run(ctx, C2C, dy, dims, not forward, DUAL[norm])
        if real_input:
            dx = _run(ctx, Real, dx)
        return dx, None, None, None


class R2C(Function):
    """One-sided DFT of a real x over ``dims`` (rfftn under ``norm``), the middle bins of the last dim
    doubled when ``double``. x: real (*, n) -> y: complex (*, n // 2 + 1)"""

    @staticmethod
    def forward(ctx, x, dims, norm, double):
        xp = ctx.xp
        ctx.opts = (dims, tuple(x.shape[d] for d in dims), norm, double)
        y = transform(xp, "rfftn", x, axes=dims, norm=norm)
        if double:
            y[_index(y.ndim, dims[-1], _middle(x.shape[dims[-1]]))] *= 2
        return y

    @staticmethod
    def backward(ctx, dy):  # dy: complex (*, n // 2 + 1) -> dx: real (*, n)
        dims, sizes, norm, double = ctx.opts
        return _run(ctx, C2R, dy, dims, sizes, DUAL[norm], not double), None, None, None


class C2R(Function):
    """Real inverse DFT of a one-sided spectrum over ``dims`` (irfftn to ``sizes`` under ``norm``), the
    middle bins of the last dim halved first when ``halve``. x: complex (*, n // 2 + 1) -> y: real (*, n)"""

    @staticmethod
    def forward(ctx, x, dims, sizes, norm, halve):
        xp = ctx.xp
        ctx.opts = (dims, norm, halve)
        if halve:
            x = x.copy()
            x[_index(x.ndim, dims[-1], _middle(sizes[-1]))] *= 0.5
        return transform(xp, "irfftn", x, s=sizes, axes=dims, norm=norm)

    @staticmethod
    def backward(ctx, dy):  # dy: real (*, n) -> dx: complex (*, n // 2 + 1)
        dims, norm, halve = ctx.opts
        return _run(ctx, R2C, dy, dims, DUAL[norm], not halve), None, None, None, None
