"""``acme.GatedLinear``: y = (x Wa^T + ba) * sigmoid(x Wg^T + bg), one fused autograd Function."""

from __future__ import annotations

import math

import lamina
from lamina import nn

__lamina_plugin_api__ = "1.0"


class GatedLinearFunction(lamina.autograd.Function):
    """x: (N, in), wa, wg: (out, in), ba, bg: (out,) -> y: (N, out)."""

    @staticmethod
    def forward(ctx, x, wa, ba, wg, bg):
        xp = ctx.xp
        a = x @ wa.T + ba
        z = x @ wg.T + bg
        g = 1 / (1 + xp.exp(-z))
        ctx.save_for_backward(x, wa, wg, a, g)
        return a * g

    @staticmethod
    def backward(ctx, dy):                       # dy: (N, out)
        x, wa, wg, a, g = ctx.saved_tensors
        da = dy * g                              # (N, out)
        dz = dy * a * g * (1 - g)                # (N, out)
        dx = da @ wa + dz @ wg                   # (N, in)
        return dx, da.T @ x, da.sum(0), dz.T @ x, dz.sum(0)


def gated_linear(input: lamina.Tensor, weight_a: lamina.Tensor, bias_a: lamina.Tensor,
                 weight_g: lamina.Tensor, bias_g: lamina.Tensor) -> lamina.Tensor:
    """Functional form of GatedLinear."""
    if input.ndim != 2 or input.shape[1] != weight_a.shape[1]:
        raise lamina.ShapeError(f"acme.GatedLinear: expected input (N, {weight_a.shape[1]}), got {list(input.shape)}")
    return GatedLinearFunction.apply(input, weight_a, bias_a, weight_g, bias_g)


class GatedLinear(nn.Module):
    """A linear map gated by a second, sigmoid-activated linear map.

    Shape: x (N, in_features) -> y (N, out_features)
    """

    def __init__(self, in_features: int, out_features: int, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bound = 1 / math.sqrt(in_features)

        def uniform(*shape):
            return nn.Parameter((lamina.rand(*shape, device=device, dtype=dtype) * 2 - 1) * bound)

        self.weight_a, self.bias_a = uniform(out_features, in_features), uniform(out_features)
        self.weight_g, self.bias_g = uniform(out_features, in_features), uniform(out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"

    def forward(self, x: lamina.Tensor) -> lamina.Tensor:
        return gated_linear(x, self.weight_a, self.bias_a, self.weight_g, self.bias_g)
