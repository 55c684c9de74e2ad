"""``ElementwiseMoreMethods``: the functions of ``elementwise_float``, ``elementwise_binary``, ``integer``
and ``aliases`` as ``Tensor`` methods, with their in-place variants (also exported at the top level
where PyTorch has one: ``lamina.acosh_``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._base import dtype as _dtype
from .._tensor import Tensor
from ..autograd.grad_mode import state as _grad_state
from . import aliases as A
from . import comparison as C
from .elementwise import add, mul
from .elementwise_binary import (
    _float_power_dtype,
    copysign,
    float_power,
    fmax,
    fmin,
    heaviside,
    hypot,
    ldexp,
    logaddexp,
    logaddexp2,
    nextafter,
)
from .elementwise_float import acosh, asinh, atanh, deg2rad, frexp, nan_to_num, positive, rad2deg, torch_type_name
from .inplace import make_inplace
from .integer import bitwise_left_shift, bitwise_not, bitwise_right_shift, gcd, hash_tensor, lcm


def inplace(name: str, fn: Callable[..., Tensor], keeps_history: bool = False) -> Callable[..., Tensor]:
    """``Tensor.<name>_`` by ``make_inplace``, refusing as PyTorch a result that does not fit ``self``:
    a broadcast to a larger shape, or a dtype ``self`` cannot take (float into an integer tensor).

    ``keeps_history``: a non-differentiable op (a comparison) on a tensor in the graph leaves it in the graph
    with a zero gradient, as PyTorch does, instead of cutting it off.
    """

    def out_of_place(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        res = fn(self, *args, **kwargs)
        if keeps_history and self.requires_grad and not res.requires_grad and _grad_state.enabled:
            res = add(mul(self, 0), res.to(self.dtype))
        if res._data.shape != self._data.shape:
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(res.shape)}")
        if not _dtype.can_cast(res.dtype, self.dtype):
            raise RuntimeError(f"result type {torch_type_name(res)} can't be cast to the desired output type "
                               f"{torch_type_name(self)}")
        return res

    return make_inplace(name, out_of_place)


acosh_ = arccosh_ = inplace("acosh", acosh)
asinh_ = arcsinh_ = inplace("asinh", asinh)
atanh_ = arctanh_ = inplace("atanh", atanh)
deg2rad_ = inplace("deg2rad", deg2rad)
rad2deg_ = inplace("rad2deg", rad2deg)
nan_to_num_ = inplace("nan_to_num", nan_to_num)
ldexp_ = inplace("ldexp", ldexp)
gcd_ = inplace("gcd", gcd)
lcm_ = inplace("lcm", lcm)
_float_power_ = inplace("float_power", float_power)


def float_power_(self: Tensor, exponent: Any) -> Tensor:
    """In-place ``float_power``: ``self`` must already have the double-precision result dtype."""
    dt = _float_power_dtype(self, exponent)
    if self.dtype != dt:
        raise RuntimeError(f"the base given to float_power_ has dtype {torch_type_name(self)} but the operation's "
                           f"result requires dtype {torch_type_name(dt)}")
    return _float_power_(self, exponent)


class ElementwiseMoreMethods:
    """More elementwise math, integer ops and alias names as ``Tensor`` methods and in-place variants."""

    __slots__ = ()
    acosh = arccosh = acosh
    asinh = arcsinh = asinh
    atanh = arctanh = atanh
    arctan2 = A.arctan2
    deg2rad = deg2rad
    rad2deg = rad2deg
    nan_to_num = nan_to_num
    frexp = frexp
    positive = positive
    hypot = hypot
    logaddexp = logaddexp
    logaddexp2 = logaddexp2
    copysign = copysign
    nextafter = nextafter
    ldexp = ldexp
    float_power = float_power
    fmax = fmax
    fmin = fmin
    heaviside = heaviside
    gcd = gcd
    hash_tensor = hash_tensor
    lcm = lcm
    bitwise_left_shift = bitwise_left_shift
    bitwise_right_shift = bitwise_right_shift
    bitwise_not = bitwise_not
    greater_equal = A.greater_equal
    less_equal = A.less_equal
    not_equal = A.not_equal

    acosh_ = arccosh_ = acosh_
    asinh_ = arcsinh_ = asinh_
    atanh_ = arctanh_ = atanh_
    arctan2_ = inplace("arctan2", A.arctan2)
    absolute_ = inplace("absolute", A.absolute)
    deg2rad_ = deg2rad_
    rad2deg_ = rad2deg_
    nan_to_num_ = nan_to_num_
    hypot_ = inplace("hypot", hypot)
    copysign_ = inplace("copysign", copysign)
    nextafter_ = inplace("nextafter", nextafter)
    ldexp_ = ldexp_
    float_power_ = float_power_
    heaviside_ = inplace("heaviside", heaviside)
    gcd_ = gcd_
    lcm_ = lcm_
    bitwise_left_shift_ = inplace("bitwise_left_shift", bitwise_left_shift)
    bitwise_right_shift_ = inplace("bitwise_right_shift", bitwise_right_shift)
    bitwise_not_ = inplace("bitwise_not", bitwise_not)
    greater_ = inplace("greater", C.gt, keeps_history=True)
    greater_equal_ = inplace("greater_equal", C.ge, keeps_history=True)
    less_ = inplace("less", C.lt, keeps_history=True)
    less_equal_ = inplace("less_equal", C.le, keeps_history=True)
    not_equal_ = inplace("not_equal", C.ne, keeps_history=True)
