"""Conformance records for lamina-train-utils: checkpointed regions (whose values, gradients and, where tagged,
second derivatives must be those of the region itself) and the SWA/EMA averaging functions (run under no_grad, as
torch's: no gradient checks), each with a NumPy float64 reference."""

from __future__ import annotations

import warnings

import numpy as np

__lamina_plugin_api__ = "1.0"


def _samples(*shapes, grad_args=None):
    from lamina.testing import Sample

    def samples(xp, dtype, rng):
        arrays = tuple(xp.asarray(rng.uniform(-1.5, 1.5, size=s), dtype=dtype) for s in shapes)
        return [Sample(arrays, name="x".join(map(str, shapes[0])), grad_args=grad_args)]

    return samples


def _err(args, exc, match):
    from lamina.testing import ErrorInput, Sample

    return ErrorInput(Sample(args), exc, match)


def _ck_sin_mul(x, w):
    from .checkpoint import checkpoint
    return checkpoint(lambda a, b: (a * b).sin() * a, x, w, use_reentrant=False)


def _ck_reentrant_tanh(x, *scale):
    from .checkpoint import checkpoint

    kwargs = {"scale": scale[0]} if scale else {}  # the reentrant variant takes no keyword arguments
    with warnings.catch_warnings():  # (torch's warning when no input requires grad)
        warnings.simplefilter("ignore")
        return checkpoint(lambda a, scale=1.0: a.tanh().exp() * scale, x, use_reentrant=True, **kwargs)


def _ck_closure(x, w):
    from .checkpoint import checkpoint
    return checkpoint(lambda a: a.cos() * w.sum(), x, use_reentrant=False)  # w reaches the region by closure


def _ck_kwargs(x, y):
    from .checkpoint import checkpoint

    return checkpoint(lambda a, scale=None: a.exp() * scale, x, scale=y, use_reentrant=False)


def _ck_sequential(x):
    from .checkpoint import checkpoint_sequential
    fns = [lambda a: a.sin(), lambda a: a * 3, lambda a: a.tanh(), lambda a: a ** 2]
    return checkpoint_sequential(fns, 3, x, use_reentrant=False)


def _ck_default_variant(x):
    from .checkpoint import checkpoint
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return checkpoint(lambda a: a.sigmoid(), x)


def _swa_avg(a, c):
    from .swa_utils import get_swa_avg_fn
    return get_swa_avg_fn()(a, c, 3)


def _ema_avg(a, c):
    from .swa_utils import get_ema_avg_fn
    return get_ema_avg_fn(0.9)(a, c, 3)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def records() -> list:
    from lamina.testing import FunctionInfo

    dbl = frozenset({"double_backward"})
    return [
        FunctionInfo(fn=_ck_sin_mul, name="utils.checkpoint.checkpoint[use_reentrant=False]",
                     reference=lambda x, w: np.sin(x * w) * x, sample_inputs=_samples((3, 4), (4,)), tags=dbl),
        FunctionInfo(fn=_ck_reentrant_tanh, name="utils.checkpoint.checkpoint[use_reentrant=True]",
                     reference=lambda x: np.exp(np.tanh(x)), sample_inputs=_samples((2, 5)), tags=dbl,
                     error_inputs=[_err((np.ones(3), 2.0), ValueError, r"Unexpected keyword arguments: scale")]),
        FunctionInfo(fn=_ck_closure, name="utils.checkpoint.checkpoint[closure]",
                     reference=lambda x, w: np.cos(x) * w.sum(), sample_inputs=_samples((4,), (3,)), tags=dbl),
        FunctionInfo(fn=_ck_kwargs, name="utils.checkpoint.checkpoint[kwargs]",
                     reference=lambda x, y: np.exp(x) * y, sample_inputs=_samples((2, 3), (2, 3)), tags=dbl),
        FunctionInfo(fn=_ck_sequential, name="utils.checkpoint.checkpoint_sequential",
                     reference=lambda x: np.tanh(np.sin(x) * 3) ** 2, sample_inputs=_samples((5,)), tags=dbl),
        FunctionInfo(fn=_ck_default_variant, name="utils.checkpoint.checkpoint[use_reentrant=None]",
                     reference=_sigmoid, sample_inputs=_samples((3, 2)), tags=dbl),
        FunctionInfo(fn=_swa_avg, name="optim.swa_utils.get_swa_avg_fn",
                     reference=lambda a, c: a + (c - a) / 4, sample_inputs=_samples((3, 2), (3, 2), grad_args=())),
        FunctionInfo(fn=_ema_avg, name="optim.swa_utils.get_ema_avg_fn",
                     reference=lambda a, c: 0.9 * a + (1 - 0.9) * c, sample_inputs=_samples((4,), (4,), grad_args=())),
    ]
