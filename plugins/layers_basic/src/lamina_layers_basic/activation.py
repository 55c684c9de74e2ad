"""Rectifier-style activations: ReLU family, ELU family, GELU, SiLU, Mish, hard variants, Threshold.

The math (one ``Function`` per activation) lives in ``_activation_ops``. ``inplace=True`` computes
out of place and writes the result into the input's storage (``Tensor.copy_``), which records the
change in the graph when autograd needs it.
"""

from __future__ import annotations

import lamina
import lamina.nn.functional as F
from lamina import Tensor
from lamina.amp import autocast_op
from lamina.nn import Module, Parameter

from . import __lamina_plugin_api__  # noqa: F401
from ._activation_ops import (
    EluFn,
    GeluFn,
    HardsigmoidFn,
    HardswishFn,
    HardtanhFn,
    LeakyReluFn,
    MishFn,
    PReluFn,
    RReluFn,
    SiluFn,
    ThresholdFn,
)

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _run(op: type, input: Tensor, inplace: bool, *args) -> Tensor:
    """``op.apply(input, *args)``, written back into ``input`` when ``inplace``."""
    if not inplace:
        return op.apply(input, *args)
    if lamina.is_grad_enabled() and input.requires_grad:
        # a clone keeps the array saved for backward apart from the storage being overwritten
        return input.copy_(op.apply(input.clone() if input.grad_fn is not None else input, *args))
    with lamina.no_grad():
        return input.copy_(op.apply(input, *args))


# --- functional forms ---------------------------------------------------------------------------


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6). Shape: (*) -> (*)"""
    return _run(HardtanhFn, input, inplace, 0.0, 6.0)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x. Shape: (*) -> (*)"""
    return _run(LeakyReluFn, input, inplace, float(negative_slope))


@autocast_op("lower_precision_fp")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """x if x > 0 else weight[c] * x, c the channel (dim 1). Shape: (N, C, *) or (*) with one weight -> same"""
    channels = input.shape[1] if input.ndim >= 2 else 1
    if weight.numel() != 1 and weight.numel() != channels:
        raise lamina.ShapeError(f"prelu: expected weight with 1 or {channels} (input channels, dim 1) elements, "
                                f"got {weight.numel()}")
    return PReluFn.apply(input, weight.reshape(-1))


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Randomized leaky ReLU: slope ~ U(lower, upper) per element in training, (lower+upper)/2 otherwise."""
    if lower > upper:
        raise ValueError(f"rrelu: expected lower <= upper, got lower={lower}, upper={upper}")
    if not training:
        return _run(LeakyReluFn, input, inplace, (lower + upper) / 2)
    u = lamina.rand(tuple(input.shape), dtype=input.dtype, device=input.device).array
    return _run(RReluFn, input, inplace, u * (upper - lower) + lower)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha * (exp(x) - 1). Shape: (*) -> (*)"""
    return _run(EluFn, input, inplace, float(alpha), 1.0, 1.0)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(x, alpha) with the self-normalising constants. Shape: (*) -> (*)"""
    return _run(EluFn, input, inplace, _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)). Shape: (*) -> (*)"""
    if alpha == 0:
        raise ValueError("celu: alpha must be non-zero (it divides the input), got 0")
    return _run(EluFn, input, inplace, float(alpha), 1.0, 1.0 / alpha)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x), Phi the standard normal CDF; ``approximate='tanh'`` uses the tanh formula."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be one of ['none', 'tanh'], got {approximate!r}")
    return GeluFn.apply(input, approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x). Shape: (*) -> (*)"""
    return _run(SiluFn, input, inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x)). Shape: (*) -> (*)"""
    return _run(MishFn, input, inplace)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """clamp(x, min_val, max_val). Shape: (*) -> (*)"""
    if min_val > max_val:
        raise ValueError(f"hardtanh: expected min_val <= max_val, got min_val={min_val}, max_val={max_val}")
    return _run(HardtanhFn, input, inplace, min_val, max_val)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6. Shape: (*) -> (*)"""
    return _run(HardswishFn, input, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6. Shape: (*) -> (*)"""
    return _run(HardsigmoidFn, input, inplace)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x if x > threshold else value. Shape: (*) -> (*)"""
    return _run(ThresholdFn, input, inplace, threshold, value)


# --- modules ------------------------------------------------------------------------------------


def _inplace_repr(inplace: bool, lead: str = "") -> str:
    return (lead + "inplace=True") if inplace else ""


class ReLU(Module):
    """max(x, 0).

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(input, inplace=self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardtanh(Module):
    """clamp(x, min_val, max_val); gradient zero at and outside the bounds.

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"{type(self).__name__}: expected max_val > min_val, got min_val={min_val}, "
                             f"max_val={max_val}")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}" + _inplace_repr(self.inplace, ", ")


class ReLU6(Hardtanh):
    """min(max(x, 0), 6).

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class LeakyReLU(Module):
    """x if x > 0 else negative_slope * x.

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace

    def forward(self, input: Tensor) -> Tensor:
        return leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + _inplace_repr(self.inplace, ", ")


class PReLU(Module):
    """Leaky ReLU with a learnt slope per channel (``weight``, initialised to ``init``).

    Shape: input (N, C, *) or (*) -> output of the same shape; ``weight`` (num_parameters,), where
    num_parameters is 1 or C (channels on dim 1).
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(lamina.empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        with lamina.no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLU(Module):
    """Randomized leaky ReLU: slopes ~ U(lower, upper) in training, (lower + upper) / 2 in eval.

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False) -> None:
        super().__init__()
        if lower > upper:
            raise ValueError(f"RReLU: expected lower <= upper, got lower={lower}, upper={upper}")
        self.lower, self.upper, self.inplace = lower, upper, inplace

    def forward(self, input: Tensor) -> Tensor:
        return rrelu(input, self.lower, self.upper, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + _inplace_repr(self.inplace, ", ")


class ELU(Module):
    """x if x > 0 else alpha * (exp(x) - 1).

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + _inplace_repr(self.inplace, ", ")


class CELU(ELU):
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1)).

    Shape: input (*) -> output (*), same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return celu(input, self.alpha, self.inplace)


class SELU(Module):
    """scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha ~ 1.6733, scale ~ 1.0507.

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return selu(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class GELU(Module):
    """x * Phi(x) (``approximate='none'``) or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be one of ['none', 'tanh'], got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class _InplaceOnly(Module):
    """An activation whose only option is ``inplace``."""

    _fn = staticmethod(silu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class SiLU(_InplaceOnly):
    """x * sigmoid(x) (swish).

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(silu)


class Mish(_InplaceOnly):
    """x * tanh(softplus(x)).

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(mish)


class Hardswish(_InplaceOnly):
    """x * relu6(x + 3) / 6.

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(hardswish)

    def extra_repr(self) -> str:
        return ""


class Hardsigmoid(_InplaceOnly):
    """relu6(x + 3) / 6.

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(hardsigmoid)

    def extra_repr(self) -> str:
        return ""


class Threshold(Module):
    """x if x > threshold else value.

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}" + _inplace_repr(self.inplace, ", ")
