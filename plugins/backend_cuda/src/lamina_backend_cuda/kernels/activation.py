"""Fused pointwise kernels for the core's ``Relu``, ``Sigmoid`` and ``Tanh`` ops.

Each kernel is a subclass of the core op whose forward is one CUDA launch (the reference takes
up to five for sigmoid) and whose backward is one launch from the saved output. Under
``create_graph=True`` (Tensors in backward) or for arrays the kernel does not take, the
reference backward runs instead, so double backward keeps working.
"""

from __future__ import annotations

from typing import Any

import numpy
from lamina.ops.unary import Relu, Sigmoid, Tanh

from ._source import fits, function, launch_pointwise


def _apply(kind: str, x: Any) -> Any:
    y = _empty_like(x)
    launch_pointwise(function("activation", f"lm_{kind}_fwd", x.dtype), x.size, (x, y, numpy.int64(x.size)))
    return y


def _grad(kind: str, dy: Any, y: Any) -> Any:
    dx = _empty_like(y)
    launch_pointwise(function("activation", f"lm_{kind}_bwd", y.dtype), y.size, (dy, y, dx, numpy.int64(y.size)))
    return dx


def _empty_like(a: Any) -> Any:
    import cupy

    return cupy.empty_like(a)


def _grad_fits(ctx: Any, dy: Any, y: Any) -> bool:
    return not ctx._graph_mode and fits(dy) and dy.dtype == y.dtype and dy.shape == y.shape


class CudaRelu(Relu):
    """relu in one launch; NaN stays NaN as in ``maximum(x, 0)``."""

    @staticmethod
    def forward(ctx, x):
        y = _apply("relu", x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return _grad("relu", dy, y) if _grad_fits(ctx, dy, y) else Relu.backward(ctx, dy)


class CudaSigmoid(Sigmoid):
    """sigmoid in one launch, split by sign so exp never overflows."""

    @staticmethod
    def forward(ctx, x):
        y = _apply("sigmoid", x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return _grad("sigmoid", dy, y) if _grad_fits(ctx, dy, y) else Sigmoid.backward(ctx, dy)


class CudaTanh(Tanh):
    """tanh and its backward ``dy * (1 - y*y)`` in one launch each."""

    @staticmethod
    def forward(ctx, x):
        y = _apply("tanh", x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return _grad("tanh", dy, y) if _grad_fits(ctx, dy, y) else Tanh.backward(ctx, dy)


def supports_pointwise(arrays: list, kwargs: dict) -> bool:
    return fits(arrays[0])


KERNELS = ((Relu, CudaRelu), (Sigmoid, CudaSigmoid), (Tanh, CudaTanh))
