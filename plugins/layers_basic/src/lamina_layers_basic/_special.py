"""Special functions the array namespaces lack: ``erf`` (for GELU) and its differentiable form.

NumPy has no erf; ``scipy.special.erf`` serves NumPy arrays and ``cupyx.scipy.special.erf`` CuPy
arrays. Both are imported at first use so that importing the plugin stays light.
"""

from __future__ import annotations

import math
from typing import Any

from lamina import Tensor
from lamina.autograd import Function

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erf(x: Any) -> Any:
    """Elementwise erf of a NumPy or CuPy array; float32 stays float32."""
    if type(x).__module__.startswith("cupy"):
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    from scipy.special import erf as scipy_erf

    return scipy_erf(x)


class Erf(Function):
    """y = erf(x); dy/dx = 2/sqrt(pi) exp(-x^2). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        return dy * (_TWO_OVER_SQRT_PI * ctx.xp.exp(-(x * x)))


def erf_any(x: Any) -> Any:
    """erf of an array, or of a Tensor through the differentiable ``Erf`` (used in double backward)."""
    return Erf.apply(x) if isinstance(x, Tensor) else erf(x)
