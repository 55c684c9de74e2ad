"""Small components for the kit's own tests: one correct version of each kind and deliberately
broken variants, each with exactly one defect that a named check must catch."""

from __future__ import annotations

import lamina
import numpy as np
from lamina import nn
from lamina.testing import BackendInfo, ErrorInput, InitInfo, LossInfo, ModuleInfo, OptimizerInfo, Sample

C = 4


def scale_samples(xp, dtype, rng):
    return [Sample((xp.asarray(rng.standard_normal((3, C)).astype(dtype)),), name="3x4"),
            Sample((xp.asarray(rng.standard_normal((5, C)).astype(dtype)),), name="5x4")]


def scale_reference(params, x):
    return x * params["weight"] + params["bias"]


class ScaleFn(lamina.autograd.Function):
    """y = x * w + b. x: (N, C), w, b: (C,) -> (N, C)"""

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        return x * w + b

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        return dy * w, dy * x, dy


class Scale(nn.Module):
    """The correct component. Shape: (N, C) -> (N, C)"""

    fn = ScaleFn

    def __init__(self, channels: int = C, device=None, dtype=None) -> None:
        super().__init__()
        self.channels = channels
        self.weight = nn.Parameter(lamina.rand(channels, device=device, dtype=dtype) + 0.5)
        self.bias = nn.Parameter(lamina.randn(channels, device=device, dtype=dtype))
        self.register_buffer("calls", lamina.zeros((), dtype=lamina.int64, device=device))

    def extra_repr(self) -> str:
        return f"channels={self.channels}"

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.channels:
            raise lamina.ShapeError(f"{type(self).__name__}: expected input (N, {self.channels}), got {list(x.shape)}")
        return self.fn.apply(x, self.weight, self.bias)


SCALE_ERRORS = [ErrorInput(Sample((np.zeros((2, C + 1), dtype="float32"),)), lamina.ShapeError,
                           r"expected input \(N, 4\), got \[2, 5\]")]


def scale_record(cls=Scale, **kw) -> ModuleInfo:
    base = dict(cls=cls, sample_inputs=scale_samples, reference=scale_reference, error_inputs=SCALE_ERRORS,
                tags={"batch_independent"}, output_shape=lambda s: s)
    base.update(kw)
    return ModuleInfo(**base)


# --- broken variants: one defect each ------------------------------------------------------------

class WrongBackwardFn(ScaleFn):
    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        return dy * w, dy * x * 2, dy  # the weight gradient is doubled


class WrongBackward(Scale):
    fn = WrongBackwardFn


class Upcast(Scale):
    def forward(self, x):
        return super().forward(x).double()  # silent float64 upcast


class DropsBuffer(Scale):
    def state_dict(self, *args, **kwargs):
        sd = super().state_dict(*args, **kwargs)
        sd.pop("calls")  # a persistent buffer silently missing
        return sd


class TrainEvalMismatch(Scale):
    def forward(self, x):
        y = super().forward(x)
        return y * 1.5 if self.training else y  # differs in train mode without declaring it


class MutatesInput(Scale):
    def forward(self, x):
        y = super().forward(x)
        x.mul_(0)  # clobbers the caller's tensor
        return y


class BackwardMutatesInputFn(ScaleFn):
    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        dx, dw, db = dy * w, dy * x, dy
        x *= 0  # clobbers the saved input array, which is the caller's
        return dx, dw, db


class BackwardMutatesInput(Scale):
    fn = BackwardMutatesInputFn


# --- constant-initialised parameters: a defect invisible at weight 1, bias 0 ---------------------

class Affine(nn.Module):
    """y = x * weight + bias, weight initialised to ones and bias to zeros (as a norm's). Shape: (N, C)"""

    def __init__(self, channels: int = C, device=None, dtype=None) -> None:
        super().__init__()
        self.weight = nn.Parameter(lamina.ones(channels, device=device, dtype=dtype))
        self.bias = nn.Parameter(lamina.zeros(channels, device=device, dtype=dtype))

    def forward(self, x):
        return x * self.weight + self.bias


class WeightTwice(Affine):
    def forward(self, x):
        return x * self.weight * self.weight + self.bias  # right only while weight == 1


def affine_record(cls=Affine) -> ModuleInfo:
    return ModuleInfo(cls=cls, sample_inputs=scale_samples, reference=scale_reference)


# --- double backward: a second derivative with respect to a parameter -----------------------------

class WeightSquaredFn(lamina.autograd.Function):
    """y = x * w**2. x: (N, C), w: (C,) -> (N, C)"""

    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        return x * w * w

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        return dy * w * w, 2 * dy * x * w


class ConstantSquareFn(WeightSquaredFn):
    @staticmethod
    def forward(ctx, x, w):
        ctx.save_for_backward(x, w)
        ctx.w2 = w * w  # kept outside the graph: the input gradient's dependence on w is lost
        return x * ctx.w2

    @staticmethod
    def backward(ctx, dy):
        x, w = ctx.saved_tensors
        return dy * ctx.w2, 2 * dy * x * w


class WeightSquared(nn.Module):
    fn = WeightSquaredFn

    def __init__(self, channels: int = C, device=None, dtype=None) -> None:
        super().__init__()
        self.weight = nn.Parameter(lamina.rand(channels, device=device, dtype=dtype) + 0.5)

    def forward(self, x):
        return self.fn.apply(x, self.weight)


class ConstantSquare(WeightSquared):
    fn = ConstantSquareFn


def squared_record(cls=WeightSquared) -> ModuleInfo:
    return ModuleInfo(cls=cls, sample_inputs=scale_samples, reference=lambda p, x: x * p["weight"] ** 2,
                      tags={"double_backward"})


# --- losses --------------------------------------------------------------------------------------

def mse_samples(xp, dtype, rng):
    return [Sample((xp.asarray(rng.standard_normal((3, 5)).astype(dtype)),
                    xp.asarray(rng.standard_normal((3, 5)).astype(dtype))), name="3x5")]


def mse_reference(params, x, t, reduction="mean"):
    d = (x - t) ** 2
    return {"none": d, "mean": d.mean(), "sum": d.sum()}[reduction]


class MSE(nn.Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, x, t):
        if tuple(x.shape) != tuple(t.shape):
            raise lamina.ShapeError(f"MSE: expected target of shape {list(x.shape)}, got {list(t.shape)}")
        d = (x - t) ** 2
        if self.reduction == "none":
            return d
        return d.sum() if self.reduction == "sum" else self._mean(d)

    def _mean(self, d):
        return d.mean()


class MeanNotMean(MSE):
    def _mean(self, d):
        return d.sum() / (d.numel() + 1)  # 'mean' that is not mean('none')


class _DoubledSumFn(lamina.autograd.Function):
    @staticmethod
    def forward(ctx, d):
        ctx.shape = d.shape
        return d.sum()

    @staticmethod
    def backward(ctx, dy):
        return ctx.xp.broadcast_to(dy * 2, ctx.shape)  # twice the gradient of a sum


class WrongSumBackward(MSE):
    def forward(self, x, t):
        if self.reduction == "sum":
            return _DoubledSumFn.apply((x - t) ** 2)
        return super().forward(x, t)


def mse_loss(x, t, reduction="mean"):
    """Not lamina's F.mse_loss, though it has its name."""
    return MSE(reduction)(x, t)


def mse_record(cls=MSE, **kw) -> LossInfo:
    return LossInfo(cls=cls, sample_inputs=mse_samples, reference=mse_reference, tags={"batch_independent"}, **kw)


# --- optimizers ----------------------------------------------------------------------------------

class Momentum(lamina.optim.Optimizer):
    """p <- p - lr * v, v <- mu v + g."""

    def __init__(self, params, lr: float = 0.1, momentum: float = 0.9) -> None:
        if lr < 0:
            raise ValueError(f"Invalid learning rate: {lr}")
        super().__init__(params, dict(lr=lr, momentum=momentum))

    @lamina.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if "v" not in st:
                    st["v"] = lamina.zeros_like(p)
                st["v"].mul_(group["momentum"]).add_(p.grad)
                p.add_(st["v"], alpha=-group["lr"])


def momentum_reference(params, grads, state, lr=0.1, momentum=0.9):
    out = []
    for i, (p, g) in enumerate(zip(params, grads)):
        v = state.get(i, np.zeros_like(p)) * momentum + g
        state[i] = v
        out.append(p - lr * v)
    return out


class ForgetfulMomentum(Momentum):
    def state_dict(self):
        sd = super().state_dict()
        sd["state"] = {}  # momentum buffers don't survive a checkpoint
        return sd


def momentum_record(cls=Momentum) -> OptimizerInfo:
    return OptimizerInfo(cls=cls, configs=({"lr": 0.1, "momentum": 0.9}, {"lr": 0.01, "momentum": 0.0}),
                         reference_step=momentum_reference,
                         error_configs=(({"lr": -1.0}, ValueError, "Invalid learning rate"),))


# --- init schemes --------------------------------------------------------------------------------

def _uniform_cdf(x, shape, a=-1.0, b=1.0):
    return np.clip((x - a) / (b - a), 0.0, 1.0)


def uniform_init(tensor, a=-1.0, b=1.0, generator=None):
    with lamina.no_grad():
        return tensor.uniform_(a, b, generator=generator)


def normal_not_uniform(tensor, a=-1.0, b=1.0, generator=None):
    with lamina.no_grad():
        return tensor.normal_(0.0, 0.6, generator=generator)  # the declared distribution is uniform


def init_record(fn=uniform_init) -> InitInfo:
    return InitInfo(fn=fn, name="uniform", shapes=((64, 32),), cdf=_uniform_cdf)


# --- backends ------------------------------------------------------------------------------------

class RaisingProbeBackend(lamina.backends.Backend):
    name, device_type = "broken", "cpu"

    @classmethod
    def probe(cls):
        raise RuntimeError("driver exploded")


def backend_record(cls) -> BackendInfo:
    return BackendInfo(cls=cls)
