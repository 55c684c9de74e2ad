"""Conformance records for lamina-norms: NumPy float64 references, samples, error inputs, tags."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

__lamina_plugin_api__ = "1.0"


def _ref_norm(x, axes, eps, w=None, b=None, pshape=None, center=True):
    mean = x.mean(axis=axes, keepdims=True) if center else 0.0
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if w is not None:
        y = y * w.reshape(pshape)
    if b is not None:
        y = y + b.reshape(pshape)
    return y


def _chan(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


def ref_batch_norm_train(params, x, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    return _ref_norm(x, axes, eps, params.get("weight"), params.get("bias"), _chan(x))


def ref_batch_norm_eval(params, x, eps=1e-5):
    s = _chan(x)
    y = (x - params["running_mean"].reshape(s)) / np.sqrt(params["running_var"].reshape(s) + eps)
    return y * params["weight"].reshape(s) + params["bias"].reshape(s) if "weight" in params else y


def ref_instance_norm(params, x, eps=1e-5, spatial=None):
    """``spatial``: the layer's number of spatial dims (1, 2, 3); an input with spatial + 1 dims is unbatched."""
    unbatched = x.ndim == spatial + 1 if spatial is not None else x.ndim < 3
    batched = x[None] if unbatched else x
    y = _ref_norm(batched, tuple(range(2, batched.ndim)), eps, params.get("weight"), params.get("bias"),
                  _chan(batched))
    return y[0] if unbatched else y


def ref_layer_norm(params, x, normalized_shape, eps=1e-5):
    k = len(normalized_shape)
    return _ref_norm(x, tuple(range(x.ndim - k, x.ndim)), eps, params.get("weight"), params.get("bias"),
                     tuple(normalized_shape))


def ref_rms_norm(params, x, normalized_shape, eps=None):
    eps = np.finfo(np.float64).eps if eps is None else eps
    k = len(normalized_shape)
    return _ref_norm(x, tuple(range(x.ndim - k, x.ndim)), eps, params.get("weight"), None,
                     tuple(normalized_shape), center=False)


def ref_f_batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """F.batch_norm's output (the running-statistics update is a side effect, not part of the output)."""
    params = {"weight": weight, "bias": bias}
    if training:
        return ref_batch_norm_train(params, x, eps)
    s = _chan(x)
    y = (x - running_mean.reshape(s)) / np.sqrt(running_var.reshape(s) + eps)
    return _ref_affine(y, weight, bias, s)


def ref_f_instance_norm(x, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                        momentum=0.1, eps=1e-5):
    if use_input_stats:
        return ref_instance_norm({"weight": weight, "bias": bias}, x, eps, spatial=x.ndim - 2)
    s = _chan(x)
    y = (x - running_mean.reshape(s)) / np.sqrt(running_var.reshape(s) + eps)
    return _ref_affine(y, weight, bias, s)


def ref_f_layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    return ref_layer_norm({"weight": weight, "bias": bias}, x, ns, eps)


def ref_f_rms_norm(x, normalized_shape, weight=None, eps=None):
    ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    return ref_rms_norm({"weight": weight}, x, ns, eps)


def _ref_affine(y, w, b, pshape):
    if w is not None:
        y = y * w.reshape(pshape)
    if b is not None:
        y = y + b.reshape(pshape)
    return y


def ref_group_norm(params, x, num_groups, eps=1e-5):
    N, C = x.shape[:2]
    xg = x.reshape(N, num_groups, -1)
    y = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + eps)).reshape(x.shape)
    if "weight" in params:
        y = y * params["weight"].reshape(_chan(x)) + params["bias"].reshape(_chan(x))
    return y


def ref_local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0):
    C = x.shape[1]
    sq = np.pad(x * x, [(0, 0), (size // 2, (size - 1) // 2)] + [(0, 0)] * (x.ndim - 2))
    s = sum(sq[:, i:i + C] for i in range(size))
    return x / (k + alpha * s / size) ** beta


def ref_normalize(x, p=2.0, dim=1, eps=1e-12):
    n = np.linalg.norm(np.moveaxis(x, dim, -1), ord=p, axis=-1)[..., None]
    return x / np.moveaxis(np.maximum(n, eps), -1, dim)


def _ref_cross_map_lrn(x, size, alpha, beta, k):
    """The legacy forward, a channel loop: running sum over [0, c + P - 1], channels 1 .. c - P dropped."""
    C, P = x.shape[1], (size - 1) // 2 + 1
    sq = x ** 2
    scale = np.empty_like(x)
    for c in range(C):
        s = sq[:, :min(c + P, C)].sum(1)
        if c > P:
            s = s - sq[:, 1:c - P + 1].sum(1)
        scale[:, c] = s * alpha / size + k
    return x * scale ** -beta


def _samples(*shapes, scale=1.0, shift=0.0):
    def fn(xp, dtype, rng):
        from lamina.testing import Sample

        return [Sample((xp.asarray(rng.standard_normal(s) * scale + shift, dtype=dtype),), name=str(s))
                for s in shapes]

    return fn


def _error(shape, error_type, match, init_kwargs=None):
    def fn(xp, dtype, rng):
        from lamina.testing import ErrorInput, Sample

        return [ErrorInput(Sample((xp.asarray(rng.standard_normal(shape), dtype=dtype),)), error_type, match,
                           init_kwargs)]

    return fn


def records() -> list:
    from lamina.testing import FunctionInfo, ModuleInfo

    from . import batchnorm, functional, instancenorm, layernorm, lazy, lrn, lrn_cross_map

    running = frozenset({"train_eval_differ"})
    recs = []
    for cls, shapes, bad in ((batchnorm.BatchNorm1d, ((6, 4), (5, 4, 7)), (3, 4, 2, 2)),
                             (batchnorm.BatchNorm2d, ((4, 4, 3, 5),), (4, 4, 3)),
                             (batchnorm.BatchNorm3d, ((3, 4, 2, 3, 2),), (4, 4, 3, 3)),
                             (batchnorm.SyncBatchNorm, ((4, 4, 3, 5), (6, 4)), (4,))):
        dims = "or ".join(("2D ", "3D ")) if cls is batchnorm.BatchNorm1d else ""
        recs.append(ModuleInfo(cls=cls, init_kwargs={"num_features": 4}, sample_inputs=_samples(*shapes, scale=2.0,
                                                                                                shift=0.5),
                               reference=ref_batch_norm_train, tags=running | {"double_backward"},
                               error_inputs=_error(bad, ValueError, rf"{cls.__name__}: expected {dims}.*input")))
        recs.append(ModuleInfo(cls=cls, name=f"{cls.__name__}[no-affine, no-stats]",
                               init_kwargs={"num_features": 4, "affine": False, "track_running_stats": False},
                               sample_inputs=_samples(*shapes), reference=ref_batch_norm_train,
                               tags=frozenset({"double_backward"})))
    lazy_xfail = {"load_state_dict_rejects": "the check reads the shapes of a fresh module's parameters: an "
                  "UninitializedParameter has none (PyTorch raises the same RuntimeError)"}
    for cls, shape in ((lazy.LazyBatchNorm1d, (4, 3, 5)), (lazy.LazyBatchNorm2d, (4, 3, 3, 3)),
                       (lazy.LazyBatchNorm3d, (4, 3, 2, 2, 3))):
        recs.append(ModuleInfo(cls=cls, sample_inputs=_samples(shape), reference=ref_batch_norm_train,
                               tags=running | {"double_backward"}, expected_failures=lazy_xfail))
    for cls, shape in ((lazy.LazyInstanceNorm1d, (3, 4, 6)), (lazy.LazyInstanceNorm2d, (3, 4, 3, 5)),
                       (lazy.LazyInstanceNorm3d, (2, 4, 2, 3, 3))):
        recs.append(ModuleInfo(cls=cls, sample_inputs=_samples(shape), tags=running | {"double_backward"},
                               expected_failures=lazy_xfail,
                               reference=functools.partial(ref_instance_norm, spatial=len(shape) - 2)))
    for cls, shape, unbatched in ((instancenorm.InstanceNorm1d, (3, 4, 6), (4, 6)),
                                  (instancenorm.InstanceNorm2d, (3, 4, 3, 5), (4, 3, 5)),
                                  (instancenorm.InstanceNorm3d, (2, 4, 2, 3, 3), (4, 2, 3, 3))):
        ref = functools.partial(ref_instance_norm, spatial=len(shape) - 2)
        recs.append(ModuleInfo(cls=cls, init_kwargs={"num_features": 4}, sample_inputs=_samples(shape, unbatched),
                               reference=ref, tags=frozenset({"batch_independent", "double_backward"}),
                               error_inputs=_error((4,), ValueError, rf"{cls.__name__}: expected .*D input")))
        recs.append(ModuleInfo(cls=cls, name=f"{cls.__name__}[affine, running stats]",
                               init_kwargs={"num_features": 4, "affine": True, "track_running_stats": True},
                               sample_inputs=_samples(shape), reference=ref,
                               tags=running | {"double_backward"},
                               error_inputs=_error(shape[:1] + (5,) + shape[2:], ValueError,
                                                   rf"{cls.__name__}: expected input's size at dim=1 to match "
                                                   r"num_features \(4\), got 5")))
    per_sample = frozenset({"batch_independent", "double_backward"})
    recs += [
        ModuleInfo(cls=layernorm.LayerNorm, init_kwargs={"normalized_shape": (3, 5)},
                   sample_inputs=_samples((4, 3, 5), (2, 2, 3, 5)), tags=per_sample,
                   reference=lambda p, x: ref_layer_norm(p, x, (3, 5)),
                   error_inputs=_error((4, 5, 3), RuntimeError, r"layer_norm: expected input with shape \[\*, 3, 5\]")),
        ModuleInfo(cls=layernorm.LayerNorm, name="LayerNorm[no bias]", init_kwargs={"normalized_shape": 6,
                                                                                    "bias": False},
                   sample_inputs=_samples((4, 6)), tags=per_sample, reference=lambda p, x: ref_layer_norm(p, x, (6,))),
        ModuleInfo(cls=layernorm.RMSNorm, init_kwargs={"normalized_shape": (6,), "eps": 1e-6},
                   sample_inputs=_samples((4, 6), (2, 3, 6)), tags=per_sample,
                   reference=lambda p, x: ref_rms_norm(p, x, (6,), 1e-6),
                   error_inputs=_error((4, 5), RuntimeError, r"rms_norm: expected input with shape \[\*, 6\]")),
        ModuleInfo(cls=layernorm.GroupNorm, init_kwargs={"num_groups": 2, "num_channels": 6},
                   sample_inputs=_samples((3, 6, 4), (2, 6, 2, 3), (4, 6)), tags=per_sample,
                   reference=lambda p, x: ref_group_norm(p, x, 2),
                   error_inputs=lambda xp, dtype, rng: [
                       *_error((3, 4, 4), ValueError, r"GroupNorm: expected input \(N, 6, \*\) with 6 channels, "
                               r"got 4")(xp, dtype, rng),
                       *_error((3, 6, 4), ValueError, r"GroupNorm: num_channels must be divisible by num_groups, "
                               r"got num_channels=6 and num_groups=4", {"num_groups": 4, "num_channels": 6})(
                           xp, dtype, rng)]),
        ModuleInfo(cls=lrn.LocalResponseNorm, init_kwargs={"size": 3, "alpha": 0.1, "beta": 0.75, "k": 2.0},
                   sample_inputs=_samples((2, 5, 4), (2, 6, 3, 3)), tags=per_sample,
                   reference=lambda p, x: ref_local_response_norm(x, 3, 0.1, 0.75, 2.0),
                   error_inputs=_error((5, 4), ValueError, r"local_response_norm: expected 3D or higher")),
    ]
    recs.append(ModuleInfo(cls=lrn_cross_map.CrossMapLRN2d, init_kwargs={"size": 3, "alpha": 0.1, "beta": 0.75,
                           "k": 2.0}, sample_inputs=_samples((2, 5, 3, 4)), tags=per_sample,
                           reference=lambda p, x: _ref_cross_map_lrn(x, 3, 0.1, 0.75, 2.0),
                           error_inputs=_error((2, 5, 4), ValueError, "CrossMapLRN2d: Expected input to be 4D"),
                           expected_failures={"gradcheck": "the legacy backward (kept, as PyTorch's) is not the exact "
                                              "derivative of the legacy forward",
                                              "double_backward": "once differentiable, as PyTorch's legacy function"}))
    recs += functional_records()
    recs += [
        FunctionInfo(fn=functional.group_norm, name="F.group_norm", tags=frozenset({"double_backward"}),
                     sample_inputs=lambda xp, dtype, rng: [_with(xp, dtype, rng, (2, 4, 3), kwargs={"num_groups": 2})],
                     reference=lambda x, num_groups: ref_group_norm({}, x, num_groups)),
        FunctionInfo(fn=lrn.normalize, name="F.normalize", tags=frozenset({"double_backward"}),
                     sample_inputs=lambda xp, dtype, rng: [_with(xp, dtype, rng, (3, 4), kwargs={"p": p, "dim": d})
                                                           for p, d in ((2.0, 1), (1.0, 0), (3.0, -1))],
                     reference=ref_normalize),
        FunctionInfo(fn=lrn.local_response_norm, name="F.local_response_norm", tags=frozenset({"double_backward"}),
                     sample_inputs=lambda xp, dtype, rng: [_with(xp, dtype, rng, (2, 5, 3), kwargs={"size": 2})],
                     reference=ref_local_response_norm),
    ]
    return recs


@dataclasses.dataclass(frozen=True)
class _Arr:
    """An array argument of a functional sample: ``data`` (mean 0.5, std 2), ``normal``, ``positive``
    (running variances, in [0.5, 2)) or ``scale`` (affine weights around 1)."""

    shape: tuple[int, ...]
    kind: str = "normal"

    def make(self, xp, dtype, rng):
        draw = {"data": lambda: rng.standard_normal(self.shape) * 2.0 + 0.5,
                "normal": lambda: rng.standard_normal(self.shape),
                "positive": lambda: rng.uniform(0.5, 2.0, self.shape),
                "scale": lambda: rng.standard_normal(self.shape) * 0.5 + 1.0}[self.kind]
        return xp.asarray(draw(), dtype=dtype)


def _build(xp, dtype, rng, args):
    return tuple(a.make(xp, dtype, rng) if isinstance(a, _Arr) else a for a in args)


def _calls(cases, grad_args):
    """Samples from (name, args, kwargs) rows; ``_Arr`` arguments become arrays, others pass as given."""
    def fn(xp, dtype, rng):
        from lamina.testing import Sample

        return [Sample(_build(xp, dtype, rng, args), dict(kwargs), name=name, grad_args=grad_args)
                for name, args, kwargs in cases]

    return fn


def _fn_errors(cases):
    """Error inputs from (args, kwargs, error_type, match) rows."""
    def fn(xp, dtype, rng):
        from lamina.testing import ErrorInput, Sample

        return [ErrorInput(Sample(_build(xp, dtype, rng, args), dict(kwargs)), err, match)
                for args, kwargs, err, match in cases]

    return fn


def functional_records() -> list:
    """F.batch_norm, F.instance_norm, F.layer_norm, F.rms_norm: the functions the entry points name."""
    from lamina.testing import FunctionInfo

    from . import functional as F

    def x(*shape):
        return _Arr(shape, "data")

    C = 3
    rm, rv, w, b = _Arr((C,)), _Arr((C,), "positive"), _Arr((C,), "scale"), _Arr((C,))
    dbl, updates = frozenset({"double_backward"}), frozenset({"double_backward", "inplace"})
    per_channel = r"\(one per channel\)"
    bn_errors = _fn_errors([
        ((x(C), None, None), {"training": True}, ValueError,
         r"batch_norm: expected input with at least 2 dims \(N, C, \*\), got 1D input"),
        ((x(4, C), None, None), {}, RuntimeError,
         r"batch_norm: running_mean and running_var must be given when training=False"),
        ((x(1, C), None, None), {"training": True}, ValueError,
         r"batch_norm: expected more than 1 value per channel when training, got input size \[1, 3\]"),
        ((x(4, C), rm, rv, _Arr((4,))), {}, RuntimeError,
         rf"batch_norm: expected weight with 3 elements {per_channel}, got 4"),
        ((x(4, C), _Arr((2,)), rv), {"training": True}, RuntimeError,
         rf"batch_norm: expected running_mean with 3 elements {per_channel}, got 2"),
    ])
    C4 = 4
    irm, irv, iw, ib = _Arr((C4,)), _Arr((C4,), "positive"), _Arr((C4,), "scale"), _Arr((C4,))
    in_errors = _fn_errors([
        ((x(4, C4),), {}, ValueError, r"instance_norm: expected input with at least 3 dims \(N, C, \*\), got 2D input"),
        ((x(2, C4, 5),), {"use_input_stats": False}, RuntimeError,
         r"instance_norm: running_mean and running_var must be given when use_input_stats=False"),
        ((x(2, C4, 1),), {}, ValueError,
         r"instance_norm: expected more than 1 spatial element when training, got input size \[2, 4, 1\]"),
        ((x(2, C4, 5), None, None, None, _Arr((5,))), {}, RuntimeError,
         rf"instance_norm: expected bias with 4 elements {per_channel}, got 5"),
    ])
    ln_errors = _fn_errors([
        ((x(4, 5), (4,)), {}, RuntimeError,
         r"layer_norm: expected input with shape \[\*, 4\] \(normalized_shape=\[4\]\), got \[4, 5\]"),
        ((x(2, 3, 4), (2, 4)), {}, RuntimeError, r"layer_norm: expected input with shape \[\*, 2, 4\]"),
        ((x(4, 5), (5,), _Arr((4,))), {}, RuntimeError,
         r"layer_norm: expected weight of shape \[5\] \(normalized_shape\), got \[4\]"),
        ((x(4, 5), (5,), None, _Arr((5, 1))), {}, RuntimeError,
         r"layer_norm: expected bias of shape \[5\] \(normalized_shape\), got \[5, 1\]"),
    ])
    rms_errors = _fn_errors([
        ((x(4, 5), (6,)), {}, RuntimeError,
         r"rms_norm: expected input with shape \[\*, 6\] \(normalized_shape=\[6\]\), got \[4, 5\]"),
        ((x(4, 6), 6, _Arr((3, 2))), {}, RuntimeError,
         r"rms_norm: expected weight of shape \[6\] \(normalized_shape\), got \[3, 2\]"),
    ])
    return [
        # positional (input, running_mean, running_var, weight, bias); gradients of input, weight, bias
        FunctionInfo(fn=F.batch_norm, name="F.batch_norm", tags=dbl, reference=ref_f_batch_norm, error_inputs=bn_errors,
                     sample_inputs=_calls([
                         ("train, affine", (x(4, C, 2, 3), None, None, w, b), {"training": True}),
                         ("eval, affine", (x(5, C), rm, rv, w, b), {}),
                         ("train, no affine, eps", (x(2, C, 2, 2, 2), None, None), {"training": True, "eps": 0.1}),
                         ("eval, no affine, eps", (x(3, C, 5), rm, rv), {"training": False, "eps": 1e-3}),
                         ("train, bias only", (x(6, C), None, None, None, b), {"training": True}),
                         ("eval, weight only", (x(2, C, 4), rm, rv, w), {"eps": 0.5}),
                     ], grad_args=(0, 3, 4))),
        # training with running statistics: updates them in place by design; the reference is the output
        FunctionInfo(fn=F.batch_norm, name="F.batch_norm[running stats update]", tags=updates,
                     reference=ref_f_batch_norm,
                     sample_inputs=_calls([
                         ("train, affine", (x(6, C), rm, rv, w, b), {"training": True, "momentum": 0.2}),
                         ("train, no affine", (x(4, C, 5), rm, rv), {"training": True, "eps": 1e-3}),
                     ], grad_args=(0, 3, 4))),
        # positional (input, running_mean, running_var, weight, bias, use_input_stats)
        FunctionInfo(fn=F.instance_norm, name="F.instance_norm", tags=dbl, reference=ref_f_instance_norm,
                     error_inputs=in_errors,
                     sample_inputs=_calls([
                         ("input stats, affine", (x(3, C4, 5), None, None, iw, ib), {}),
                         ("running stats, affine", (x(2, C4, 3, 3), irm, irv, iw, ib), {"use_input_stats": False}),
                         ("input stats, no affine, eps", (x(2, C4, 2, 3, 2),), {"eps": 1e-3}),
                         ("running stats, no affine", (x(2, C4, 4), irm, irv), {"use_input_stats": False, "eps": 0.1}),
                     ], grad_args=(0, 3, 4))),
        FunctionInfo(fn=F.instance_norm, name="F.instance_norm[running stats update]", tags=updates,
                     reference=ref_f_instance_norm,
                     sample_inputs=_calls([
                         ("affine", (x(3, C4, 6), irm, irv, iw, ib), {"momentum": 0.2}),
                         ("no affine", (x(2, C4, 2, 3), irm, irv), {}),
                     ], grad_args=(0, 3, 4))),
        # positional (input, normalized_shape, weight, bias)
        FunctionInfo(fn=F.layer_norm, name="F.layer_norm", tags=dbl, reference=ref_f_layer_norm,
                     error_inputs=ln_errors,
                     sample_inputs=_calls([
                         ("affine", (x(4, 5), (5,), _Arr((5,), "scale"), _Arr((5,))), {}),
                         ("2 dims, no affine, eps", (x(2, 3, 4), (3, 4)), {"eps": 1e-3}),
                         ("int shape, weight only", (x(3, 6), 6, _Arr((6,), "scale")), {}),
                         ("bias only", (x(2, 2, 3), [2, 3], None, _Arr((2, 3))), {"eps": 0.1}),
                     ], grad_args=(0, 2, 3))),
        # positional (input, normalized_shape, weight); eps None is the dtype's machine epsilon
        FunctionInfo(fn=F.rms_norm, name="F.rms_norm", tags=dbl, reference=ref_f_rms_norm, error_inputs=rms_errors,
                     sample_inputs=_calls([
                         ("weight, default eps", (x(4, 6), (6,), _Arr((6,), "scale")), {}),
                         ("2 dims, no weight, eps", (x(2, 3, 4), (3, 4)), {"eps": 1e-6}),
                         ("1-D input, int shape", (x(5), 5, _Arr((5,), "scale")), {"eps": 0.1}),
                     ], grad_args=(0, 2))),
    ]


def _with(xp, dtype, rng, *shapes, kwargs=None):
    from lamina.testing import Sample

    return Sample(tuple(xp.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes), dict(kwargs or {}))
