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

from ._source import fits, function, grad_fits, launch_pointwise


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


def _pointwise(kind: str, op: type) -> tuple[staticmethod, staticmethod]:
    """forward and backward of ``op``'s kernel: ``lm_<kind>_fwd`` saves y, ``lm_<kind>_bwd`` uses it."""

    def forward(ctx, x):
        y = _apply(kind, x)
        ctx.save_for_backward(y)
        return y

    def backward(ctx, dy):
        (y,) = ctx.saved_tensors
        return _grad(kind, dy, y) if grad_fits(ctx, dy, y) else op.backward(ctx, dy)

    return staticmethod(forward), staticmethod(backward)


class CudaRelu(Relu):
    """relu in one launch; NaN stays NaN as in ``maximum(x, 0)``."""

    forward, backward = _pointwise("relu", Relu)


class CudaSigmoid(Sigmoid):
    """sigmoid in one launch, split by sign so exp never overflows."""

    forward, backward = _pointwise("sigmoid", Sigmoid)


class CudaTanh(Tanh):
    """tanh and its backward ``dy * (1 - y*y)`` in one launch each."""

    forward, backward = _pointwise("tanh", Tanh)


def supports_pointwise(arrays: list, kwargs: dict) -> bool:
    return fits(arrays[0])


KERNELS = ((Relu, CudaRelu), (Sigmoid, CudaSigmoid), (Tanh, CudaTanh))
