"""Complex numbers: parts as views (real, imag, view_as_real/view_as_complex), conj, angle, sgn, polar.

Gradients follow PyTorch's convention: for a real loss L of complex z = x + iy the gradient held
is ``dL/dx + i dL/dy`` (the conjugate Wirtinger derivative, twice ``dL/d conj(z)``).

``conj()`` is materialised: PyTorch returns a lazy conjugate view (``is_conj()`` True, writes go
back to the input), lamina returns a new tensor with conjugated values, so ``is_conj()`` and
``is_neg()`` are always False and ``resolve_conj()``/``resolve_neg()`` return their input.
"""

from __future__ import annotations

import builtins
from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.autocast_state import autocast_op
from ..autograd.function import Function
from ..autograd.methods import warn_scalar_of_grad
from .inplace import make_inplace
from .shape import _as_view


def _need_complex(x: Tensor, name: str) -> None:
    if x._data.dtype.kind != "c":
        raise RuntimeError(f"{name} is not implemented for tensors with non-complex dtypes.")


class Real(Function):
    """The real part, a view. z: (*) complex -> (*) real"""

    @staticmethod
    def forward(ctx, z):
        return z.real

    @staticmethod
    def backward(ctx, dy):
        return dy  # (the engine casts to the input's complex dtype)


class Imag(Function):
    """The imaginary part, a view. z: (*) complex -> (*) real"""

    @staticmethod
    def forward(ctx, z):
        return z.imag

    @staticmethod
    def backward(ctx, dy):
        return dy * 1j


def real(input: Tensor) -> Tensor:
    """The real part of a complex tensor as a view sharing its storage (a real tensor: itself)."""
    if input._data.dtype.kind != "c":
        return input
    return _as_view(Real.apply(input), input)


def imag(input: Tensor) -> Tensor:
    """The imaginary part of a complex tensor as a view sharing its storage."""
    _need_complex(input, "imag")
    return _as_view(Imag.apply(input), input)


class ViewAsReal(Function):
    """z: (*) complex -> (*, 2) real, sharing storage."""

    @staticmethod
    def forward(ctx, z):
        part = z.real  # same strides as z, in units of the real dtype's itemsize doubled
        return ctx.xp.lib.stride_tricks.as_strided(part, z.shape + (2,), part.strides + (part.itemsize,))

    @staticmethod
    def backward(ctx, dy):                                                   # dy: (*, 2)
        return dy[..., 0] + dy[..., 1] * 1j


class ViewAsComplex(Function):
    """x: (*, 2) real -> (*) complex, sharing storage."""

    @staticmethod
    def forward(ctx, x):
        return x.view(_dtype.to_np(_dtype._FROM_NP[x.dtype].to_complex()))[..., 0]

    @staticmethod
    def backward(ctx, dy):
        return ctx.xp.stack([dy.real, dy.imag], axis=-1)


def view_as_real(input: Tensor) -> Tensor:
    """A real view ``(*, 2)`` of a complex tensor ``(*)``: ``[..., 0]`` real parts, ``[..., 1]`` imaginary."""
    if input._data.dtype.kind != "c":
        raise RuntimeError("view_as_real is only supported for complex tensors")
    return _as_view(ViewAsReal.apply(input), input)


@autocast_op("fp32")
def view_as_complex(input: Tensor) -> Tensor:
    """A complex view ``(*)`` of a real tensor ``(*, 2)`` holding (real, imaginary) pairs."""
    a = input._data
    if a.dtype.kind != "f":
        raise RuntimeError("view_as_complex is only supported for half, float and double tensors, but got a "
                           f"tensor of scalar type: {input.dtype}")
    if a.ndim == 0 or a.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if a.strides[-1] != a.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    if any(s % (2 * a.itemsize) for s in a.strides[:-1]):
        raise RuntimeError("Tensor must have a stride divisible by 2 for all but last dimension")
    return _as_view(ViewAsComplex.apply(input), input)


class Conj(Function):
    """y = conj(z) (a copy). Shape: (*) -> (*)"""

    @staticmethod
    def forward(ctx, z):
        return ctx.xp.conj(z)

    @staticmethod
    def backward(ctx, dy):
        return dy.conj()


def conj(input: Tensor) -> Tensor:
    """The complex conjugate, materialised (PyTorch's is a lazy view); a real tensor is returned as it is."""
    return Conj.apply(input) if input._data.dtype.kind == "c" else input


def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate as a new tensor (a real tensor: itself)."""
    return conj(input)


def resolve_conj(input: Tensor) -> Tensor:
    """``input`` itself: lamina's conjugates are never lazy."""
    return input


def resolve_neg(input: Tensor) -> Tensor:
    """``input`` itself: lamina has no lazy negation."""
    return input


def is_conj(input: Tensor) -> bool:
    """Always False: ``conj()`` is materialised in lamina."""
    return False


def is_neg(input: Tensor) -> bool:
    """Always False: lamina has no lazy negation."""
    return False


def is_complex(input: Tensor) -> bool:
    return input._data.dtype.kind == "c"


def isreal(input: Tensor) -> Tensor:
    """Elementwise: whether the imaginary part is 0 (True everywhere for real tensors). Bool result."""
    xp = input.device.backend.xp
    a = input._data
    out = a.imag == 0 if a.dtype.kind == "c" else xp.ones(a.shape, dtype=bool)
    return Tensor._make(out, input.device)


class Angle(Function):
    """The argument: atan2(imag, real) for complex z (a real result); 0 or pi for real x. Shape: (*) -> (*)"""

    @staticmethod
    def forward(ctx, z):
        xp = ctx.xp
        ctx.save_for_backward(z)
        if z.dtype.kind == "c":
            return xp.angle(z)
        return xp.where(z < 0, xp.pi, xp.where(z != z, z, 0)).astype(z.dtype)

    @staticmethod
    def backward(ctx, dy):
        (z,) = ctx.saved_tensors
        xp = ctx.xp
        if z.dtype.kind != "c":
            return dy * 0
        r2 = (z * z.conj()).real                       # d angle = (x dy - y dx) / |z|^2: grad i z / |z|^2
        return xp.where(r2 == 0, 0, dy * z * 1j / xp.where(r2 == 0, 1, r2))


def angle(input: Tensor) -> Tensor:
    """Elementwise argument in radians (real dtype; integers give the default float)."""
    if input._data.dtype.kind in "biu":
        input = input.to(_dtype.get_default_dtype())
    return Angle.apply(input)


class Sgn(Function):
    """z / |z| (0 at 0); for real x the sign. Shape: (*) -> (*)"""

    @staticmethod
    def forward(ctx, z):
        xp = ctx.xp
        r = xp.abs(z)
        y = xp.where(r == 0, 0, z / xp.where(r == 0, 1, r)).astype(z.dtype)
        ctx.save_for_backward(z, y)
        return y

    @staticmethod
    def backward(ctx, dy):
        z, y = ctx.saved_tensors
        xp = ctx.xp                                    # (dy - conj(dy) sgn(z)^2) / (2 |z|), 0 at z = 0
        r = xp.abs(z)
        return xp.where(r == 0, 0, (dy - dy.conj() * y * y) / (2 * xp.where(r == 0, 1, r)))


def sgn(input: Tensor) -> Tensor:
    """``z / |z|`` for complex tensors (0 where z is 0), ``sign`` for real ones."""
    if input._data.dtype.kind != "c":
        from .unary import sign

        return sign(input)
    return Sgn.apply(input)


def _float_pair(name: str, a: Tensor, b: Tensor) -> None:
    if a._data.dtype.kind != "f" or b._data.dtype.kind != "f":
        raise RuntimeError(f"{name}: Expected both inputs to be Half, Float or Double tensors but got "
                           f"{a.dtype} and {b.dtype}")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{name}: Expected object of scalar type {a.dtype} but got scalar type {b.dtype} "
                           "for second argument")


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001  (torch's name)
    """``real + i imag`` (broadcast) from two real tensors of one dtype; complex result."""
    _float_pair("complex", real, imag)
    from .elementwise import add, mul

    return add(real.to(real.dtype.to_complex()), mul(imag, 1j))


@autocast_op("fp32")
def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002
    """``abs * (cos(angle) + i sin(angle))`` from two real tensors of one dtype; complex result."""
    _float_pair("polar", abs, angle)
    from .unary import cos, sin

    return complex(abs * cos(angle), abs * sin(angle))


def _set_part(part: Any) -> Any:
    def setter(self: Tensor, value: Any) -> None:
        part(self).copy_(value if isinstance(value, Tensor) else Tensor._make(
            self.device.backend.xp.asarray(value), self.device))

    return setter


class ComplexMethods:
    """Complex-number methods of ``Tensor``."""

    __slots__ = ()
    real = property(real, _set_part(real))
    imag = property(imag, _set_part(imag))
    conj = conj
    conj_physical = conj_physical
    conj_physical_ = make_inplace("conj_physical", conj_physical, lambda a: a.__setitem__(..., a.conj()))
    resolve_conj = resolve_conj
    resolve_neg = resolve_neg
    is_conj = is_conj
    is_neg = is_neg
    angle = angle
    sgn = sgn
    sgn_ = make_inplace("sgn", sgn)
    isreal = isreal

    def __complex__(self: Tensor) -> builtins.complex:
        warn_scalar_of_grad(self)
        return builtins.complex(self.item())
