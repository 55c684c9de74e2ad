"""Binary and multi-label losses: BCE, BCE with logits (fused, stable), soft margin, multi-label soft margin."""

from __future__ import annotations

from lamina import Tensor
from lamina.amp import autocast_op
from lamina.autograd import Function
from lamina.errors import ShapeError

from ._reduction import _Loss, _WeightedLoss, apply_reduction, check_float, check_same_shape, quiet, resolve, same_dtype

__lamina_plugin_api__ = "1.0"

_BCE_EPS = 1e-12  # PyTorch's floor on x (1 - x) in the BCE gradient


class BinaryCrossEntropy(Function):
    """-w (y log x + (1 - y) log(1 - x)) with each log clamped at -100. x, y, w: (*) -> (*)"""

    @staticmethod
    def forward(ctx, x, y, w):
        xp = ctx.xp
        with quiet(xp):
            log_x = xp.maximum(xp.log(x), -100.0)
            log_1mx = xp.maximum(xp.log1p(-x), -100.0)
        loss = -(y * log_x + (1 - y) * log_1mx)
        if w is not None:
            loss = loss * w
        ctx.save_for_backward(x, y, w)
        ctx.logs = (log_x, log_1mx)
        return loss

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        x, y, w = ctx.saved_tensors
        g = dy if w is None else dy * w
        dx = g * (x - y) / xp.maximum((1 - x) * x, _BCE_EPS) if ctx.needs_input_grad[0] else None
        dt = None
        if ctx.needs_input_grad[1]:
            if isinstance(dy, Tensor):  # create_graph: the clamped logs again, as functions of x
                log_x, log_1mx = x.log().clamp(min=-100.0), (-x).log1p().clamp(min=-100.0)
            else:
                log_x, log_1mx = ctx.logs
            dt = g * (log_1mx - log_x)
        return dx, dt, None


def _softplus_neg(xp, x):
    """log(1 + exp(-x)), stable for any x."""
    return xp.log1p(xp.exp(-xp.abs(x))) + xp.maximum(-x, 0)


class BinaryCrossEntropyWithLogits(Function):
    """w ((1 - y) x + (1 + (pw - 1) y) log(1 + exp(-x))): sigmoid + BCE in one stable op.

    x, y: (*), w: broadcastable to (*), pw: broadcastable to (*) (one per class, last dim) -> (*)
    """

    @staticmethod
    def forward(ctx, x, y, w, pw):
        xp = ctx.xp
        sp = _softplus_neg(xp, x)
        lw = 1 if pw is None else 1 + (pw - 1) * y
        raw = (1 - y) * x + lw * sp
        ctx.save_for_backward(x, y, w, pw)
        ctx.parts = (sp, raw)
        return raw if w is None else raw * w

    @staticmethod
    def backward(ctx, dy):
        xp = ctx.xp
        x, y, w, pw = ctx.saved_tensors
        if isinstance(dy, Tensor):  # create_graph: the parts again, as functions of x, y and pw
            sp = _softplus_neg(xp, x)
            raw = (1 - y) * x + (1 if pw is None else 1 + (pw - 1) * y) * sp
        else:
            sp, raw = ctx.parts
        g = dy if w is None else dy * w
        dx = dt = dw = dpw = None
        if ctx.needs_input_grad[0]:
            sig = xp.exp(-sp)  # sigmoid(x) without overflow
            dx = g * (sig - y if pw is None else (1 + (pw - 1) * y) * sig - pw * y)
        if ctx.needs_input_grad[1]:
            dt = g * (-x if pw is None else (pw - 1) * sp - x)
        if w is not None and ctx.needs_input_grad[2]:
            dw = dy * raw
        if pw is not None and ctx.needs_input_grad[3]:
            dpw = g * y * sp
        return dx, dt, dw, dpw


class Softplus(Function):
    """log(1 + exp(z)), stable; derivative sigmoid(z). z: (*) -> (*)"""

    @staticmethod
    def forward(ctx, z):
        y = _softplus_neg(ctx.xp, -z)
        ctx.save_for_backward(y, z)
        return y

    @staticmethod
    def backward(ctx, dy):
        y, z = ctx.saved_tensors
        return dy * ctx.xp.exp(z - y)  # sigmoid(z) = exp(z - softplus(z))


@autocast_op("fp32")
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,
                         size_average: bool | None = None, reduce: bool | None = None,
                         reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of probabilities ``input``. Shape: input (*), target (*) -> () or (*)."""
    name = "BCELoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    check_same_shape(name, input, target)
    x = input.array
    if x.size and bool(((x < 0) | (x > 1)).any()):
        raise ValueError(f"{name}: expected all elements of input to be between 0 and 1, got values in "
                         f"[{float(x.min())}, {float(x.max())}]")
    loss = BinaryCrossEntropy.apply(input, same_dtype(target, input), same_dtype(_detached(weight), input))
    return apply_reduction(loss, reduction)


def _detached(w):
    return None if w is None else w.detach()


@autocast_op("fp32")
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: bool | None = None, reduce: bool | None = None,
                                     reduction: str = "mean", pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op (log-sum-exp form).

    Shape: input (*), target (*), weight broadcastable to (*), pos_weight broadcastable to (*)
    (one per class along the last dim) -> () or (*).
    """
    name = "BCEWithLogitsLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    check_same_shape(name, input, target)
    for arg, t in (("weight", weight), ("pos_weight", pos_weight)):
        if t is not None and t.ndim > input.ndim:
            raise ShapeError(f"{name}: expected {arg} broadcastable to the input's shape {tuple(input.shape)}, "
                             f"got {tuple(t.shape)}")
    loss = BinaryCrossEntropyWithLogits.apply(input, same_dtype(target, input), same_dtype(weight, input),
                                              same_dtype(pos_weight, input))
    return apply_reduction(loss, reduction)


@autocast_op("fp32")
def soft_margin_loss(input: Tensor, target: Tensor, size_average: bool | None = None, reduce: bool | None = None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x)) for targets y in {1, -1}. Shape: input (*), target (*) -> () or (*)."""
    name = "SoftMarginLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    check_same_shape(name, input, target)
    return apply_reduction(Softplus.apply(-same_dtype(target, input) * input), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: bool | None = None, reduce: bool | None = None,
                                reduction: str = "mean") -> Tensor:
    """Per-sample mean over classes of the logistic loss. Shape: input (N, C) or (C,), target alike -> () or (N,)."""
    name = "MultiLabelSoftMarginLoss"
    reduction = resolve(name, reduction, size_average, reduce)
    check_float(name, "input", input)
    check_same_shape(name, input, target)
    if input.ndim == 0:
        raise ShapeError(f"{name}: expected input of shape (N, C) or (C,), got a 0-d tensor")
    # -(y log sigmoid(x) + (1 - y) log sigmoid(-x)) = (1 - y) x + log(1 + exp(-x)), weighted
    loss = BinaryCrossEntropyWithLogits.apply(input, same_dtype(target, input), same_dtype(weight, input), None)
    return apply_reduction(loss.sum(dim=-1) / input.shape[-1], reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities. Shape: input (*), target (*) -> () or (*)."""

    __constants__ = ["reduction"]

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy(input, target, weight=self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + BCE, numerically stable. Shape: input (*), target (*) -> () or (*).

    ``weight`` and ``pos_weight`` are buffers (state_dict keys ``weight``, ``pos_weight``).
    """

    def __init__(self, weight: Tensor | None = None, size_average: bool | None = None, reduce: bool | None = None,
                 reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.register_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return binary_cross_entropy_with_logits(input, target, self.weight, pos_weight=self.pos_weight,
                                                reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss. Shape: input (*), target (*) -> () or (*)."""

    __constants__ = ["reduction"]

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return soft_margin_loss(input, target, reduction=self.reduction)


class MultiLabelSoftMarginLoss(_WeightedLoss):
    """One-versus-all logistic loss. Shape: input (N, C) or (C,), target alike -> () or (N,)."""

    __constants__ = ["reduction"]

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return multilabel_soft_margin_loss(input, target, weight=self.weight, reduction=self.reduction)
