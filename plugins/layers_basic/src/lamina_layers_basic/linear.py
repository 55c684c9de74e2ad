"""Linear, Bilinear, LazyLinear and F.linear / F.bilinear."""

from __future__ import annotations

import math
from typing import Any

import lamina
from lamina.amp import autocast_op
from lamina.errors import DTypeError, ShapeError
from lamina.nn import Module, Parameter
from lamina.nn.parameter import UninitializedParameter

from ._low_precision import Float32Function
from .lazy import LazyModuleMixin

__lamina_plugin_api__ = "1.0"


class Linear_(Float32Function):
    """y = x @ w.T + b, leading dims flattened into one GEMM. x (*, I), w (O, I), b (O,) -> y (*, O)"""

    @staticmethod
    def forward(ctx, x, w, b):
        x2 = x.reshape(-1, x.shape[-1])                   # (M, I)
        y = (x2 @ w.T).astype(x.dtype, copy=False)        # (M, O); NumPy's bfloat16 GEMM gives float32
        if b is not None:
            y += b
        ctx.save_for_backward(x, w)
        return y.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, dy):                                # dy: (*, O)
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        dy2 = dy.reshape(-1, dy.shape[-1])                # (M, O)
        dx = dw = db = None
        if need_x:
            dx = (dy2 @ w).reshape(x.shape)               # (*, I)
        if need_w:
            dw = dy2.swapaxes(0, 1) @ x.reshape(-1, x.shape[-1])   # (O, I)
        if need_b:
            db = dy2.sum(0)                               # (O,)
        return dx, dw, db


def _check_linear(input: Any, weight: Any, bias: Any, owner: str) -> None:
    if weight.ndim != 2:
        raise ShapeError(f"{owner}: expected 2-D weight (out_features, in_features), got shape {tuple(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        got = input.shape[-1] if input.ndim else "a 0-d tensor"
        raise ShapeError(f"{owner}: expected input with {weight.shape[1]} features (in_features) in the last dim, "
                         f"got {got} (input shape {tuple(input.shape)})")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"{owner}: expected bias of shape ({weight.shape[0]},) (out_features), got "
                         f"{tuple(bias.shape)}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        got = weight.dtype if input.dtype != weight.dtype else bias.dtype
        raise DTypeError(f"{owner}: expected weight and bias of the input's dtype {input.dtype}, got {got}")


@autocast_op("lower_precision_fp")  # F.linear and the Linear layers come through here
def _linear(input: Any, weight: Any, bias: Any, owner: str) -> Any:
    _check_linear(input, weight, bias, owner)
    return Linear_.apply(input, weight, bias)


def linear(input: Any, weight: Any, bias: Any = None) -> Any:
    """y = input @ weight.T + bias. Shape: input (*, in_features), weight (out, in) -> (*, out_features)"""
    return _linear(input, weight, bias, "linear")


def bilinear(input1: Any, input2: Any, weight: Any, bias: Any = None) -> Any:
    """y_k = input1 @ weight[k] @ input2 + bias[k].

    Shape: input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias (out,) -> (*, out)
    """
    if weight.ndim != 3:
        raise ShapeError(f"bilinear: expected 3-D weight (out_features, in1_features, in2_features), got shape "
                         f"{tuple(weight.shape)}")
    out, in1, in2 = weight.shape
    if input1.ndim == 0 or input1.shape[-1] != in1 or input2.ndim == 0 or input2.shape[-1] != in2:
        raise ShapeError(f"bilinear: expected input1 (*, {in1}) and input2 (*, {in2}) (in1_features, in2_features), "
                         f"got {tuple(input1.shape)} and {tuple(input2.shape)}")
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise ShapeError(f"bilinear: expected input1 and input2 with the same leading dims, got "
                         f"{tuple(input1.shape)} and {tuple(input2.shape)}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    w = weight.permute(1, 0, 2).reshape(in1, out * in2)             # (in1, out*in2)
    z = x1.matmul(w).reshape(-1, out, in2)                         # (M, out, in2)
    y = (z * input2.reshape(-1, 1, in2)).sum(-1)                   # (M, out)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out,))


class Linear(Module):
    """y = x @ weight.T + bias.

    Shape: input (*, in_features) -> output (*, out_features)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(lamina.empty(out_features, in_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(lamina.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)) on (out, in) == U(-1/sqrt(in), 1/sqrt(in)); the bias uses the same bound
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        with lamina.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, input: Any) -> Any:
        return _linear(input, self.weight, self.bias, "Linear")

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Bilinear(Module):
    """y = x1^T A x2 + b.

    Shape: input1 (*, in1_features), input2 (*, in2_features) -> output (*, out_features)
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(lamina.empty(out_features, in1_features, in2_features, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(lamina.empty(out_features, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.weight.shape[1]) if self.weight.shape[1] > 0 else 0.0
        with lamina.no_grad():
            self.weight.uniform_(-bound, bound)
            if self.bias is not None:
                self.bias.uniform_(-bound, bound)

    def forward(self, input1: Any, input2: Any) -> Any:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(LazyModuleMixin, Linear):
    """A Linear whose in_features is inferred from the first input (PyTorch's lazy semantics).

    Until the first call ``weight`` (and ``bias``) are ``UninitializedParameter``s and ``in_features`` is 0;
    the first forward materializes them (the same Parameter objects, so an optimizer built before keeps
    them), initialises them like Linear and turns the module into a ``Linear``. A state_dict loaded first
    sizes them from the checkpoint (the class changes at the next forward, as in PyTorch).

    Shape: input (*, H_in) -> output (*, out_features); in_features = H_in at the first call
    """

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(0, 0, False, device, dtype)  # bias=False: no throw-away tensor
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Any, *args: Any, **kwargs: Any) -> None:
        if not self.has_uninitialized_params():
            return
        if input.ndim == 0:
            # IndexError, as PyTorch's input.shape[-1] raises
            raise IndexError("LazyLinear: expected an input with at least 1 dim, got a 0-d tensor")
        self.in_features = int(input.shape[-1])
        self.weight.materialize((self.out_features, self.in_features))
        if self.bias is not None:
            self.bias.materialize((self.out_features,))
        self.reset_parameters()

    def _load_from_state_dict(self, state_dict: Any, prefix: str, *args: Any) -> None:
        super()._load_from_state_dict(state_dict, prefix, *args)
        # the loaded weight fixes in_features (PyTorch leaves it 0; lamina's repr and checks use it)
        if self.in_features == 0 and not self.has_uninitialized_params() and self.weight.ndim == 2:
            self.in_features = int(self.weight.shape[1])
