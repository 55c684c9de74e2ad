"""``CrossMapLRN2d``: PyTorch's legacy (Lua-torch) cross-channel LRN, kept with its exact windows.

Forward, per channel c with P = (size - 1) // 2 + 1: scale_c = k + alpha / size * s_c, where s_c sums x_j^2
over j in [0, min(c + P - 1, C - 1)] minus, for c > P, the channels 1 .. c - P (the legacy running sum never
drops channel 0). y = x * scale^-beta. The backward is the legacy one, on the symmetric window of ``size``
channels, as PyTorch computes it (it is not the exact derivative of that forward, by inheritance).
"""

from __future__ import annotations

from typing import Any

from lamina import Tensor
from lamina.autograd import Function

from ._compat import Module

__lamina_plugin_api__ = "1.0"


def _channel_cumsum(xp: Any, a: Any) -> Any:
    """Inclusive prefix sums along the channel axis of (N, C, H, W), with a zero row in front: (N, C + 1, H, W)."""
    return xp.concatenate([xp.zeros_like(a[:, :1]), xp.cumsum(a, axis=1)], axis=1)


class CrossMapLRN(Function):
    """x (N, C, H, W) -> y (N, C, H, W)."""

    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        xp = ctx.xp
        C = x.shape[1]
        pre = int((size - 1) / 2 + 1)
        S = _channel_cumsum(xp, x * x)                             # S[:, m] = sum of channels < m
        c = xp.arange(C)
        s = S[:, xp.minimum(c + pre, C)]                           # channels 0 .. min(c + pre - 1, C - 1)
        drop = xp.where(c > pre, c - pre + 1, 1)                   # channels 1 .. c - pre leave the sum
        s = s - (S[:, drop] - S[:, 1:2])
        scale = s * (alpha / size) + k
        y = x * scale ** -beta
        ctx.save_for_backward(x, y, scale)
        ctx.meta = (size, alpha, beta)
        return y

    @staticmethod
    def backward(ctx, dy):                                         # dy: (N, C, H, W) -> dx: (N, C, H, W)
        xp = ctx.xp
        x, y, scale = ctx.saved_tensors
        size, alpha, beta = ctx.meta
        C = x.shape[1]
        before = int(size - (size - 1) / 2)                        # the legacy padding in front of the ratios
        R = _channel_cumsum(xp, dy * y / scale)
        c = xp.arange(C)
        lo, hi = xp.clip(c - before, 0, C), xp.clip(c + size - before, 0, C)
        accum = R[:, hi] - R[:, lo]                                # ratios of channels c - before .. hi - 1
        dx = scale ** -beta * dy - (2 * alpha * beta / size) * x * accum
        return dx, None, None, None, None


class CrossMapLRN2d(Module):
    """Legacy cross-channel local response normalisation over 4-D input (values and gradients as PyTorch's).

    Shape: input (N, C, H, W) -> same shape
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.ndim}D instead.")
        return CrossMapLRN.apply(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"
