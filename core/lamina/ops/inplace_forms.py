"""In-place forms ``op_`` of existing ops: the ``Tensor`` methods the op families lack (``x.tan_()``,
``x.eq_(y)``, ``x.logical_and_(y)``) and the top-level functions (``lamina.tan_(x)``, ``lamina.clamp_(x, 0)``).

Every form comes from ``inplace.make_inplace`` (the op's result, cast-checked, written into ``self``) or
``inplace.make_compare_inplace`` (a comparison or logical op; ``self`` keeps its dtype and holds 1/0).
A top-level form is the ``Tensor`` method itself, taken from the family that defines it. The alias names'
forms (``absolute_``, ``greater_``, ``less_``, ``greater_equal_`` ...) sit with the aliases.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .._tensor import Tensor
from ._util import result_type
from .comparison import (
    bitwise_and,
    bitwise_or,
    bitwise_xor,
    eq,
    ge,
    gt,
    le,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    ne,
)
from .complex import ComplexMethods
from .elementwise import acos, asin, atan2, cosh, frac, log2, log10, sinh, tan
from .elementwise_methods import ElementwiseMethods as _Elementwise
from .inplace import check_cast, make_compare_inplace, make_inplace

# ---- Tensor methods the families do not define ----------------------------------------------------------------
acos_ = arccos_ = make_inplace("acos", acos)
asin_ = arcsin_ = make_inplace("asin", asin)
atan_ = arctan_ = _Elementwise.atan_
atan2_ = make_inplace("atan2", atan2)
cosh_ = make_inplace("cosh", cosh)
sinh_ = make_inplace("sinh", sinh)
tan_ = make_inplace("tan", tan)
log2_ = make_inplace("log2", log2)
log10_ = make_inplace("log10", log10)
frac_ = make_inplace("frac", frac)
fix_ = _Elementwise.trunc_

eq_ = make_compare_inplace("eq", eq)
ne_ = make_compare_inplace("ne", ne)
lt_ = make_compare_inplace("lt", lt)
le_ = make_compare_inplace("le", le)
gt_ = make_compare_inplace("gt", gt)
ge_ = make_compare_inplace("ge", ge)
logical_and_ = make_compare_inplace("logical_and", logical_and, tensor_only=True)
logical_or_ = make_compare_inplace("logical_or", logical_or, tensor_only=True)
logical_xor_ = make_compare_inplace("logical_xor", logical_xor, tensor_only=True)
logical_not_ = make_compare_inplace("logical_not", logical_not)


def _cast_checked_first(op: Callable[[Tensor, Any], Tensor]) -> Callable[[Tensor, Any], Tensor]:
    """``op`` after torch's cast check on the promoted dtype (``int_tensor.bitwise_and_(1.5)`` is a cast error)."""

    def checked(input: Tensor, other: Any) -> Tensor:
        check_cast(result_type(input, other).np, input._data.dtype)
        return op(input, other)

    return checked


bitwise_and_ = make_inplace("bitwise_and", _cast_checked_first(bitwise_and))
bitwise_or_ = make_inplace("bitwise_or", _cast_checked_first(bitwise_or))
bitwise_xor_ = make_inplace("bitwise_xor", _cast_checked_first(bitwise_xor))


class InplaceFormMethods:
    """The in-place ``Tensor`` methods above (the families define the rest next to their ops)."""

    __slots__ = ()
    acos_ = arccos_ = acos_
    asin_ = arcsin_ = asin_
    arctan_ = arctan_
    atan2_ = atan2_
    cosh_ = cosh_
    sinh_ = sinh_
    tan_ = tan_
    log2_ = log2_
    log10_ = log10_
    frac_ = frac_
    fix_ = fix_
    eq_ = eq_
    ne_ = ne_
    lt_ = lt_
    le_ = le_
    gt_ = gt_
    ge_ = ge_
    logical_and_ = logical_and_
    logical_or_ = logical_or_
    logical_xor_ = logical_xor_
    logical_not_ = logical_not_
    bitwise_and_ = bitwise_and_
    bitwise_or_ = bitwise_or_
    bitwise_xor_ = bitwise_xor_


# ---- top-level forms of the methods the families define (lamina.abs_(x) is x.abs_()) ----------------------------
abs_ = _Elementwise.abs_
ceil_ = _Elementwise.ceil_
clamp_ = _Elementwise.clamp_
clamp_max_ = _Elementwise.clamp_max_
clamp_min_ = _Elementwise.clamp_min_
clip_ = _Elementwise.clip_
conj_physical_ = ComplexMethods.conj_physical_
cos_ = _Elementwise.cos_
exp_ = _Elementwise.exp_
expm1_ = _Elementwise.expm1_
floor_ = _Elementwise.floor_
log_ = _Elementwise.log_
log1p_ = _Elementwise.log1p_
neg_ = negative_ = _Elementwise.neg_
reciprocal_ = _Elementwise.reciprocal_
relu_ = _Elementwise.relu_
round_ = _Elementwise.round_
rsqrt_ = _Elementwise.rsqrt_
sigmoid_ = _Elementwise.sigmoid_
sin_ = _Elementwise.sin_
sqrt_ = _Elementwise.sqrt_
square_ = _Elementwise.square_
tanh_ = _Elementwise.tanh_
trunc_ = _Elementwise.trunc_
