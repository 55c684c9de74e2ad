"""Smooth and shrinking activations, GLU and the softmax-family modules.

Sigmoid, Tanh, Softmax, LogSoftmax and Softmin reuse the core's ``lamina.nn.functional`` forms;
the rest are one ``Function`` each with an analytic backward (operators and ``ctx.xp`` only).
"""

from __future__ import annotations

import warnings

import lamina
import lamina.nn.functional as F
from lamina import Tensor
from lamina.autograd import Function
from lamina.nn import Module

from . import __lamina_plugin_api__  # noqa: F401
from ._activation_ops import _sigmoid, _softplus
from ._low_precision import Float32Function, is_low, low_scalar, round_low


class SoftplusFn(Float32Function):
    """y = log(1 + exp(beta x)) / beta, linear where beta x > threshold. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.opts = (beta, threshold)
        z = x * beta
        return xp.where(z > threshold, x, _softplus(xp, z) * (1 / beta))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        beta, threshold = ctx.opts
        z = x * beta
        return ctx.xp.where(z > threshold, dy, dy * _sigmoid(ctx.xp, z)), None, None


class SoftsignFn(Function):
    """y = x / (1 + |x|). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + ctx.xp.abs(x))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        d = 1 + ctx.xp.abs(x)
        return dy / (d * d)


class ShrinkFn(Float32Function):
    """Soft (x -+ lambd) or hard (x) shrinkage outside [-lambd, lambd], zero inside. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x, lambd, soft):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.lambd = low_scalar(ctx, lambd)  # torch's backwards (and hardshrink) compare in the input's dtype
        if not soft:
            lambd = ctx.lambd
        outside = (x < -lambd) | (x > lambd)
        if soft:
            return xp.where(x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, 0))
        return xp.where(outside, x, 0)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        lambd = ctx.lambd
        return dy * ((x < -lambd) | (x > lambd)), None, None


class TanhshrinkFn(Function):
    """y = x - tanh(x). x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x - ctx.xp.tanh(x)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        t = ctx.xp.tanh(x)
        return dy * (t * t)


class LogSigmoidFn(Float32Function):
    """y = log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)), finite for any x. x: (*) -> y: (*)"""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        if ctx._low is not None:  # torch keeps exp(-|x|) in the input's dtype for its backward
            z = round_low(ctx, xp.exp(-xp.abs(x)))
            q = z / (1 + z)
            return dy * xp.where(x < 0, 1 - q, q)
        return dy * _sigmoid(xp, -x)


class GluFn(Float32Function):
    """y = a * sigmoid(b) with (a, b) the two halves of x along ``axis``. x: (*, 2M, *) -> y: (*, M, *)"""

    @staticmethod
    def forward(ctx, x, axis):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.axis = axis
        a, b = xp.split(x, 2, axis=axis)
        return a * _sigmoid(xp, b)

    @staticmethod
    def backward(ctx, dy):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        half = x.shape[ctx.axis] // 2
        a = x[(slice(None),) * ctx.axis + (slice(0, half),)]
        b = x[(slice(None),) * ctx.axis + (slice(half, None),)]
        s = round_low(ctx, _sigmoid(xp, b))   # torch's backward rounds sigmoid(b) to the input's dtype
        return xp.concatenate([dy * s, dy * a * s * (1 - s)], axis=ctx.axis), None


# --- functional forms ---------------------------------------------------------------------------


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta x)) / beta, reverting to x where beta x > threshold. Shape: (*) -> (*)"""
    return SoftplusFn.apply(input, float(beta), float(threshold))


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|). Shape: (*) -> (*)"""
    if is_low(input):  # torch composes it, rounding each op (and its backward) to the input's dtype
        return input / (input.abs() + 1)
    return SoftsignFn.apply(input)


def _check_lambd(name: str, lambd: float) -> None:
    if lambd < 0:
        raise ValueError(f"{name}: expected lambd >= 0, got {lambd}")


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0. Shape: (*) -> (*)"""
    _check_lambd("softshrink", lambd)
    return ShrinkFn.apply(input, lambd, True)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x if |x| > lambd else 0. Shape: (*) -> (*)"""
    return ShrinkFn.apply(input, lambd, False)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x). Shape: (*) -> (*)"""
    if is_low(input):  # torch composes it, rounding each op (and its backward) to the input's dtype
        return input - input.tanh()
    return TanhshrinkFn.apply(input)


def logsigmoid(input: Tensor) -> Tensor:
    """log(1 / (1 + exp(-x))), stable for large |x|. Shape: (*) -> (*)"""
    return LogSigmoidFn.apply(input)


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a * sigmoid(b), (a, b) the halves of the input along ``dim``. Shape: (*, 2M, *) -> (*, M, *)"""
    if input.ndim == 0:
        raise lamina.ShapeError("glu: expected an input with at least one dimension to halve, got a 0-d tensor")
    if not -input.ndim <= dim < input.ndim:
        raise IndexError(f"glu: expected dim in [{-input.ndim}, {input.ndim - 1}], got {dim}")
    axis = dim % input.ndim
    if input.shape[axis] % 2:
        raise lamina.ShapeError(f"glu: expected an even size along the halving dimension {dim}, "
                                f"got size {input.shape[axis]}")
    return GluFn.apply(input, axis)


def gumbel_softmax(logits: Tensor, tau: float = 1, hard: bool = False, eps: float = 1e-10, dim: int = -1) -> Tensor:
    """A sample of softmax((logits + g) / tau) with g ~ Gumbel(0, 1), drawn as -log(E), E ~ Exp(1), from the
    default generator.

    ``hard=True`` returns the one-hot of the sample's argmax along ``dim`` with the soft sample's gradient
    (the straight-through estimator: y_hard - y_soft.detach() + y_soft).
    Shape: logits (*) -> (*), same shape.
    """
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", UserWarning, stacklevel=2)
    g = -lamina.empty_like(logits).exponential_().log()
    y_soft = ((logits + g) / tau).softmax(dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = lamina.zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# --- modules ------------------------------------------------------------------------------------


class Sigmoid(Module):
    """1 / (1 + exp(-x)).

    Shape: input (*) -> output (*), same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.sigmoid(input)


class Tanh(Module):
    """tanh(x).

    Shape: input (*) -> output (*), same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return F.tanh(input)


class Softplus(Module):
    """log(1 + exp(beta x)) / beta, linear above ``threshold`` (in units of beta x).

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta, self.threshold = beta, threshold

    def forward(self, input: Tensor) -> Tensor:
        return softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softsign(Module):
    """x / (1 + |x|).

    Shape: input (*) -> output (*), same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return softsign(input)


class Softshrink(Module):
    """x - lambd if x > lambd, x + lambd if x < -lambd, else 0.

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        _check_lambd("Softshrink", lambd)
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Module):
    """x if |x| > lambd else 0.

    Shape: input (*) -> output (*), same shape.
    """

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return hardshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Tanhshrink(Module):
    """x - tanh(x).

    Shape: input (*) -> output (*), same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return tanhshrink(input)


class LogSigmoid(Module):
    """log(sigmoid(x)), computed without overflow.

    Shape: input (*) -> output (*), same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        return logsigmoid(input)


class GLU(Module):
    """Gated linear unit: a * sigmoid(b), (a, b) the two halves of the input along ``dim``.

    Shape: input (*1, N, *2) -> output (*1, M, *2) with N = 2M.
    """

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class _SoftmaxBase(Module):
    _fn = staticmethod(F.softmax)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if "dim" not in self.__dict__:
            self.dim = None

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.dim, _stacklevel=5)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softmax(_SoftmaxBase):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (dim=None: PyTorch's legacy implicit choice, with a warning).

    Shape: input (*) -> output (*), same shape; slices along ``dim`` sum to 1.
    """

    _fn = staticmethod(F.softmax)


class LogSoftmax(_SoftmaxBase):
    """log(softmax(x)) along ``dim``, computed stably.

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(F.log_softmax)


class Softmin(_SoftmaxBase):
    """softmax(-x) along ``dim``.

    Shape: input (*) -> output (*), same shape.
    """

    _fn = staticmethod(F.softmin)


class Softmax2d(Module):
    """Softmax over the channels at every spatial location.

    Shape: input (N, C, H, W) or (C, H, W) -> output of the same shape.
    """

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (3, 4):
            raise lamina.ShapeError(f"Softmax2d: expected input (N, C, H, W) or (C, H, W) (3-D or 4-D), "
                                    f"got {input.ndim}-D input of shape {list(input.shape)}")
        return F.softmax(input, -3)
