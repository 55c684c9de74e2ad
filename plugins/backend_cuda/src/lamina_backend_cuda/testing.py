"""Conformance records for the CUDA backend and its kernel pack (consumed by lamina.testing).

The backend record gets the kit's backend checks (they skip where ``probe()`` says no GPU). Each
``KernelInfo`` gives samples (``xp`` arrays, the op's positional arguments), the op's keyword
arguments in ``Sample.kwargs`` and a NumPy float64 reference of the op's forward output, so the
kit (and ``tests/test_cuda_gpu.py``) can check every kernel against its reference on a GPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__lamina_plugin_api__ = "1.0"

_SHAPES = ((7, 33), (2, 3, 1025), (1, 1))
_ADAM = ({"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "step": 3},
         {"lr": 1e-2, "beta1": 0.3, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1, "step": 1, "amsgrad": True},
         {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "step": 5,
          "decoupled": True, "maximize": True})
_SGD = ({"lr": 0.1}, {"lr": 0.1, "momentum": 0.9, "first": True},
        {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 1e-2, "nesterov": False},
        {"lr": 0.05, "momentum": 0.8, "nesterov": True, "maximize": True, "weight_decay": 1e-3})


def _unary(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for shape in _SHAPES:
        x = rng.standard_normal(shape) * 4
        x.flat[0] = 30.0  # sigmoid / tanh saturation, exp overflow guard
        out.append(Sample((xp.asarray(x.astype(dtype)),), name=f"{shape}"))
    return out


def _rowwise(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for shape in _SHAPES:
        x = rng.standard_normal(shape) * 5
        x.reshape(-1, shape[-1])[0, 0] = -np.inf
        out.append(Sample((xp.asarray(x.astype(dtype)), len(shape) - 1), name=f"{shape}"))
    return out


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis):
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _adam_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for k, hyper in enumerate(_ADAM):
        p, g, m = (rng.standard_normal((5, 37)) for _ in range(3))
        v, vmax = rng.random((5, 37)), rng.random((5, 37))
        arrays = tuple(xp.asarray(a.astype(dtype)) for a in (p, g, m, v, vmax))
        out.append(Sample(arrays, dict(hyper), name=f"adam{k}"))
    return out


def adam_reference(p, g, m, v, vmax, *, lr, beta1, beta2, eps, weight_decay, step, amsgrad=False,
                   maximize=False, decoupled=False):
    """Adam's documented update in float64 (returns the new parameter)."""
    p, g, m, v, vmax = (np.array(a, dtype=np.float64) for a in (p, g, m, v, vmax))
    g = -g if maximize else g
    if weight_decay:
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    if amsgrad:
        v = np.maximum(vmax, v)
    denom = np.sqrt(v) / np.sqrt(1 - beta2 ** step) + eps
    return p - lr / (1 - beta1 ** step) * m / denom


def _sgd_samples(xp, dtype, rng):
    from lamina.testing import Sample

    out = []
    for k, hyper in enumerate(_SGD):
        p, g, buf = (rng.standard_normal((3, 41)) for _ in range(3))
        arrays = tuple(xp.asarray(a.astype(dtype)) for a in (p, g, buf))
        out.append(Sample(arrays, dict(hyper), name=f"sgd{k}"))
    return out


def sgd_reference(p, g, buf, *, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                  maximize=False, first=False):
    """SGD's documented update in float64 (returns the new parameter)."""
    p, g, buf = (np.array(a, dtype=np.float64) for a in (p, g, buf))
    g = -g if maximize else g
    if weight_decay:
        g = g + weight_decay * p
    if momentum:
        buf = g if first else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return p - lr * g


def records() -> list[Any]:
    from lamina.ops.softmax import LogSoftmax, Softmax
    from lamina.ops.unary import Relu, Sigmoid, Tanh
    from lamina.testing import BackendInfo, KernelInfo

    from .backend import CupyBackend
    from .kernels import activation, softmax
    from .testing_fused import fused_records

    def kernel(op, impl, samples, reference, **kw):
        return KernelInfo(op=op, impl=impl, device_type="cuda", sample_inputs=samples, reference=reference,
                          name=impl.__name__, **kw)

    return [
        BackendInfo(cls=CupyBackend),
        kernel(Relu, activation.CudaRelu, _unary, lambda x: np.maximum(x, 0)),
        kernel(Sigmoid, activation.CudaSigmoid, _unary, _sigmoid),
        kernel(Tanh, activation.CudaTanh, _unary, np.tanh),
        kernel(Softmax, softmax.CudaSoftmax, _rowwise, _softmax),
        kernel(LogSoftmax, softmax.CudaLogSoftmax, _rowwise, _log_softmax),
    ] + _optim_records(kernel) + fused_records(kernel)


def _optim_records(kernel) -> list[Any]:
    from .kernels import optim
    from .testing_fused import target_op

    out = []
    for name, make, samples, reference in (("AdamStep", optim.adam_kernel, _adam_samples, adam_reference),
                                           ("SGDStep", optim.sgd_kernel, _sgd_samples, sgd_reference)):
        op = target_op(name)   # None: lamina-optim is not installed, its update ops (and kernels) do not exist
        if op is not None:
            out.append(kernel(op, make(op), samples, reference))
    return out
