"""Conformance records (lamina.testing) for every lamina-layers-basic component.

The spatial layers (linear, convolution, pooling, fold, padding, upsampling) are described here with
NumPy float64 references; the activation, dropout, embedding, reshaping and distance records come
from ``testing_activations``. Entry point: ``records()``.
"""

from __future__ import annotations

import numpy as np

from ._refs import (
    ref_adaptive,
    ref_conv,
    ref_conv_transpose,
    ref_fold,
    ref_interpolate,
    ref_pad,
    ref_pool,
    ref_unfold,
)

__lamina_plugin_api__ = "1.0"

#: every op here has a create_graph backward (``_graph_grads``): gradgradcheck runs on all of them
_DB = frozenset({"double_backward"})


# --- record helpers -----------------------------------------------------------------------------
def _randn(*shapes, kwargs=None, positive=False):
    def make(xp, dtype, rng):
        from lamina.testing import Sample

        arrs = []
        for s in shapes:
            a = rng.standard_normal(s)
            arrs.append(xp.asarray(np.abs(a) + 0.5 if positive else a, dtype=dtype))
        return [Sample(tuple(arrs), dict(kwargs or {}))]
    return make


def _batched_then_unbatched(shape):
    """Two samples: a batch of 2 of ``shape`` first (the kit's batch and zero-batch checks slice the
    first sample's dim 0), then ``shape`` itself, unbatched."""
    def make(xp, dtype, rng):
        from lamina.testing import Sample

        return [Sample((xp.asarray(rng.standard_normal((2,) + shape), dtype=dtype),), name="batched"),
                Sample((xp.asarray(rng.standard_normal(shape), dtype=dtype),), name="unbatched")]
    return make


def _errors(*items):
    def make(xp, dtype, rng):
        from lamina.testing import ErrorInput, Sample

        return [ErrorInput(Sample(tuple(xp.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes),
                                  kwargs), etype, match, init_kwargs=init)
                for shapes, kwargs, etype, match, init in items]
    return make


def _err(shapes, etype, match, kwargs=None, init=None):
    return (shapes, kwargs or {}, etype, match, init)


def _ct_ref(**kw):
    return lambda params, x: ref_conv_transpose(x, params["weight"], params.get("bias"), **kw)


def records_spatial() -> list:
    """Info records for every part-A component (modules and F.* forms)."""
    import lamina.nn as L
    import lamina.nn.functional as F
    from lamina.errors import ShapeError
    from lamina.testing import FunctionInfo as Fn
    from lamina.testing import ModuleInfo as M

    bi = dbi = _DB | {"batch_independent"}
    recs = [
        M(cls=L.Linear, init_kwargs={"in_features": 5, "out_features": 3}, sample_inputs=_randn((4, 2, 5)),
          reference=lambda p, x: x @ p["weight"].T + p["bias"], tags=dbi,
          error_inputs=_errors(_err([(4, 6)], ShapeError, r"Linear: expected input with 5 features \(in_features\)"
                                    r".*got 6"))),
        M(cls=L.Linear, name="Linear-nobias", init_kwargs={"in_features": 5, "out_features": 3, "bias": False},
          sample_inputs=_randn((5,)), reference=lambda p, x: x @ p["weight"].T, tags=frozenset({"double_backward"})),
        M(cls=L.LazyLinear, init_kwargs={"out_features": 3}, sample_inputs=_randn((4, 2, 5)), tags=dbi,
          reference=lambda p, x: x @ p["weight"].T + p["bias"],
          expected_failures={"load_state_dict_rejects": "the check reads the shapes of a fresh module's "
                             "parameters: an UninitializedParameter has none (PyTorch raises the same RuntimeError)"},
          error_inputs=_errors(_err([()], IndexError, r"LazyLinear: expected an input with at least 1 dim, got a "
                                    r"0-d tensor", init={"out_features": 3}))),  # a fresh, uninitialised one
        Fn(fn=F.linear, sample_inputs=_randn((3, 4), (2, 4), (2,)), reference=lambda x, w, b: x @ w.T + b,
           tags=frozenset({"double_backward"})),
        M(cls=L.Bilinear, init_kwargs={"in1_features": 3, "in2_features": 4, "out_features": 2},
          sample_inputs=_randn((5, 3), (5, 4)), tags=dbi,
          reference=lambda p, a, b: np.einsum("ni,oij,nj->no", a, p["weight"], b) + p["bias"],
          error_inputs=_errors(_err([(5, 2), (5, 4)], ShapeError, r"bilinear: expected input1 \(\*, 3\)"))),
        Fn(fn=F.bilinear, sample_inputs=_randn((5, 3), (5, 4), (2, 3, 4), (2,)), tags=frozenset({"double_backward"}),
           reference=lambda a, b, w, bias: np.einsum("ni,oij,nj->no", a, w, b) + bias),
    ]
    conv_cfgs = [
        (1, {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1, "groups": 2}, (2, 4, 9)),
        (2, {"in_channels": 3, "out_channels": 4, "kernel_size": (3, 2), "padding": "same", "dilation": 2},
         (2, 3, 6, 5)),
        (2, {"in_channels": 4, "out_channels": 4, "kernel_size": 3, "groups": 4, "bias": False}, (4, 5, 6)),
        (3, {"in_channels": 2, "out_channels": 3, "kernel_size": 2, "stride": (1, 2, 1)}, (2, 2, 4, 5, 3)),
    ]
    for n, kw, shape in conv_cfgs:
        cls = getattr(L, f"Conv{n}d")
        ref_kw = {k: v for k, v in kw.items() if k in ("stride", "padding", "dilation", "groups")}
        unbatched = len(shape) == n + 1

        def ref(p, x, _kw=ref_kw, _n=n):
            u = x.ndim == _n + 1
            y = ref_conv(x[None] if u else x, p["weight"], p.get("bias"), **_kw)
            return y[0] if u else y
        recs.append(M(cls=cls, init_kwargs=kw, reference=ref, tags=bi,
                      sample_inputs=_batched_then_unbatched(shape) if unbatched else _randn(shape),
                      name=f"Conv{n}d-{len(recs)}",
                      error_inputs=_errors(
                          _err([(1, kw["in_channels"] + 1) + shape[-n:]], ShapeError,
                               rf"Conv{n}d: expected input with {kw['in_channels']} channels \(in_channels\), got "
                               rf"{kw['in_channels'] + 1}"),
                          _err([shape[-n:]], ShapeError, rf"Conv{n}d: expected {n + 1}-D \(unbatched\) or {n + 2}-D"),
                          _err([shape], ValueError, "in_channels must be divisible by groups",
                               init={**kw, "in_channels": 5, "groups": 2, "out_channels": 4}),
                          _err([shape], ValueError, r"padding_mode must be one of \('zeros', 'reflect'",
                               init={**kw, "padding_mode": "mirror"}),
                          _err([shape], ValueError, "padding='same' is not supported for strided",
                               init={**kw, "padding": "same", "stride": 2}))))
    recs.append(M(cls=L.Conv2d, name="Conv2d-circular", init_kwargs={"in_channels": 2, "out_channels": 3,
                  "kernel_size": 3, "padding": (1, 2), "padding_mode": "circular"}, sample_inputs=_randn((2, 2, 4, 5)),
                  reference=lambda p, x: ref_conv(ref_pad(x, (2, 2, 1, 1), "circular"), p["weight"], p["bias"]),
                  tags=bi))
    for n in (1, 2, 3):
        shape = (2, 4) + (5, 4)[:n] if n < 3 else (1, 4, 3, 2, 2)
        recs.append(Fn(fn=getattr(F, f"conv{n}d"), sample_inputs=_randn(shape, (6, 2) + (3, 2, 2)[:n], (6,),
                       kwargs={"stride": 1, "padding": 1, "groups": 2}),
                       reference=lambda x, w, b, **kw: ref_conv(x, w, b, **kw), tags=_DB))
        recs.append(M(cls=getattr(L, f"ConvTranspose{n}d"), init_kwargs={"in_channels": 4, "out_channels": 6,
                      "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
                      sample_inputs=_randn(shape), tags=bi,
                      reference=_ct_ref(stride=2, padding=1, output_padding=1, groups=2),
                      error_inputs=_errors(_err([(1, 3) + shape[2:]], ShapeError,
                                                rf"ConvTranspose{n}d: expected input with 4 channels"),
                                           _err([shape], ValueError, r"output padding must be smaller than either "
                                                r"stride or dilation", init={"in_channels": 4, "out_channels": 6,
                                                                             "kernel_size": 3, "output_padding": 1}))))
        recs.append(Fn(fn=getattr(F, f"conv_transpose{n}d"), sample_inputs=_randn(shape, (4, 3) + (3, 2, 2)[:n],
                       kwargs={"stride": 2, "dilation": 2}),
                       reference=lambda x, w, **kw: ref_conv_transpose(x, w, None, **kw), tags=_DB))
    return recs + _pool_records(L, F, ShapeError, M, Fn) + _misc_records(L, F, ShapeError, M, Fn)


def _pool_records(L, F, ShapeError, M, Fn) -> list:
    bi = _DB | {"batch_independent"}
    recs = []
    for n in (1, 2, 3):
        shape = (2, 3) + (7, 6)[:n] if n < 3 else (1, 2, 5, 4, 3)
        kw = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
        recs.append(M(cls=getattr(L, f"MaxPool{n}d"), init_kwargs=kw, sample_inputs=_randn(shape), tags=bi,
                      reference=lambda p, x, _kw=kw: ref_pool(x, "max", **_kw),
                      error_inputs=_errors(_err([shape], ValueError, rf"MaxPool{n}d: pad should be at most half",
                                                init={"kernel_size": 2, "padding": 2}),
                                           _err([(1, 3) + (1,) * n], ShapeError,
                                                rf"MaxPool{n}d: expected an output size of at least 1",
                                                init={"kernel_size": 2}))))
        recs.append(Fn(fn=getattr(F, f"max_pool{n}d"), sample_inputs=_randn(shape[1:], kwargs={"kernel_size": 2,
                       "dilation": 2}), reference=lambda x, **k: ref_pool(x[None], "max", **k)[0], tags=_DB))
        avg_kw = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}
        recs.append(M(cls=getattr(L, f"AvgPool{n}d"), init_kwargs=avg_kw, sample_inputs=_randn(shape), tags=bi,
                      reference=lambda p, x, _kw=avg_kw: ref_pool(x, "avg", **_kw)))
        recs.append(Fn(fn=getattr(F, f"avg_pool{n}d"), sample_inputs=_randn(shape, kwargs={"kernel_size": 2}),
                       reference=lambda x, **k: ref_pool(x, "avg", **k), tags=_DB))
        recs.append(M(cls=getattr(L, f"AdaptiveAvgPool{n}d"), init_kwargs={"output_size": (3, 4, 2)[:n] if n > 1
                      else 3}, sample_inputs=_randn(shape), tags=bi,
                      reference=lambda p, x, _n=n: ref_adaptive(x, (3, 4, 2)[:_n], "avg")))
        recs.append(Fn(fn=getattr(F, f"adaptive_avg_pool{n}d"), sample_inputs=_randn(shape, kwargs={"output_size": 2}),
                       reference=lambda x, output_size: ref_adaptive(x, (output_size,) * (x.ndim - 2), "avg"),
                       tags=_DB))
        if n < 3:
            recs.append(M(cls=getattr(L, f"AdaptiveMaxPool{n}d"), init_kwargs={"output_size": 4},
                          sample_inputs=_randn(shape), tags=bi,
                          reference=lambda p, x: ref_adaptive(x, (4,) * (x.ndim - 2), "max")))
            recs.append(Fn(fn=getattr(F, f"adaptive_max_pool{n}d"), sample_inputs=_randn(shape, kwargs={
                "output_size": 3}), reference=lambda x, output_size: ref_adaptive(x, (output_size,) * (x.ndim - 2),
                                                                                   "max"), tags=_DB))
    recs.append(M(cls=L.AvgPool2d, name="AvgPool2d-divisor", init_kwargs={"kernel_size": 2, "divisor_override": 3},
                  sample_inputs=_randn((2, 3, 5, 4)), tags=bi,
                  reference=lambda p, x: ref_pool(x, "avg", 2, divisor_override=3)))
    recs.append(M(cls=L.LPPool2d, init_kwargs={"norm_type": 2, "kernel_size": 2}, sample_inputs=_randn((2, 3, 4, 6)),
                  tags=bi, reference=lambda p, x: np.sqrt(ref_pool(x ** 2, "avg", 2) * 4)))
    recs.append(Fn(fn=F.lp_pool2d, sample_inputs=_randn((2, 3, 4, 6), kwargs={"norm_type": 3.0, "kernel_size": 2},
                                                       positive=True),
                   reference=lambda x, norm_type, kernel_size: np.cbrt(ref_pool(x ** 3, "avg", 2) * 4), tags=_DB))
    recs.append(M(cls=L.MaxUnpool2d, init_kwargs={"kernel_size": 2}, sample_inputs=_unpool_samples, tags=bi,
                  reference=lambda p, x, idx: _unpool_ref(x, idx, (4, 6))))
    recs.append(Fn(fn=F.max_unpool2d, sample_inputs=_unpool_samples_fn,
                   reference=lambda x, idx, kernel_size: _unpool_ref(x, idx, (4, 6)), tags=_DB))
    return recs


def _unpool_samples(xp, dtype, rng):
    from lamina.testing import Sample

    x = rng.standard_normal((2, 3, 2, 3))
    idx = (np.arange(2)[:, None] * 12 + np.arange(3) * 2)[None, None] + rng.integers(0, 2, (2, 3, 2, 3))
    return [Sample((xp.asarray(x, dtype=dtype), xp.asarray(idx, dtype=np.int64)), grad_args=(0,))]


def _unpool_samples_fn(xp, dtype, rng):
    s = _unpool_samples(xp, dtype, rng)[0]
    s.kwargs = {"kernel_size": 2}
    return [s]


def _unpool_ref(x, idx, size):
    y = np.zeros(x.shape[:2] + (size[0] * size[1],))
    np.put_along_axis(y, idx.reshape(x.shape[:2] + (-1,)), x.reshape(x.shape[:2] + (-1,)), axis=-1)
    return y.reshape(x.shape[:2] + size)


def _misc_records(L, F, ShapeError, M, Fn) -> list:
    bi = _DB | {"batch_independent"}
    recs = [
        M(cls=L.Unfold, init_kwargs={"kernel_size": (2, 3), "padding": 1, "stride": 2},
          sample_inputs=_randn((2, 3, 5, 6)), tags=bi, reference=lambda p, x: ref_unfold(x, (2, 3), 1, 1, 2)),
        Fn(fn=F.unfold, sample_inputs=_randn((2, 3, 5, 6), kwargs={"kernel_size": 2, "dilation": 2}),
           reference=lambda x, **k: ref_unfold(x, **k), tags=_DB),
        M(cls=L.Fold, init_kwargs={"output_size": (4, 5), "kernel_size": 2}, sample_inputs=_randn((2, 12, 12)),
          tags=bi,
          reference=lambda p, x: ref_fold(x, (4, 5), 2),
          error_inputs=_errors(_err([(2, 12, 11)], ShapeError, r"fold: expected input.size\(2\) to match the number "
                                    r"of sliding blocks 3 \* 4 = 12"))),
        Fn(fn=F.fold, sample_inputs=_randn((2, 12, 6), kwargs={"output_size": (4, 5), "kernel_size": 2,
                                                               "stride": (1, 2)}),
           reference=lambda x, **k: ref_fold(x, **k), tags=_DB),
        Fn(fn=F.pad, name="pad-constant", sample_inputs=_randn((2, 3, 4), kwargs={"pad": (1, -1, 2, 0),
                                                                                   "value": 1.5}),
           reference=lambda x, pad, value: ref_pad(x, pad, "constant", value), tags=_DB),
    ]
    for mode in ("reflect", "replicate", "circular"):
        recs.append(Fn(fn=F.pad, name=f"pad-{mode}", sample_inputs=_randn((2, 3, 4, 5), kwargs={"pad": (1, 2, 3, 0),
                       "mode": mode}), reference=lambda x, pad, mode: ref_pad(x, pad, mode), tags=_DB))
    pads = [(L.ZeroPad2d, {"padding": (1, 0, 2, 1)}, "constant"), (L.ConstantPad1d, {"padding": 2, "value": -1.0},
            "constant"), (L.ConstantPad2d, {"padding": 1, "value": 3.0}, "constant"),
            (L.ReflectionPad2d, {"padding": (2, 1, 0, 3)}, "reflect"),
            (L.ReplicationPad2d, {"padding": 2}, "replicate")]
    for cls, kw, mode in pads:
        n = 1 if cls is L.ConstantPad1d else 2
        p = kw["padding"]
        p = p if isinstance(p, tuple) else (p,) * (2 * n)
        recs.append(M(cls=cls, init_kwargs=kw, sample_inputs=_randn((2, 3, 5, 4)[: 2 + n]), tags=bi,
                      reference=_pad_ref(p, mode, kw.get("value", 0.0)),
                      error_inputs=_errors(_err([(5,)], ShapeError, rf"{cls.__name__}: expected {n + 1}-D"))))
    ups = [(L.Upsample, {"scale_factor": 2, "mode": "nearest"}, (2, 3, 3, 4)),
           (L.Upsample, {"size": 7, "mode": "linear", "align_corners": False}, (2, 3, 4)),
           (L.Upsample, {"scale_factor": 1.5, "mode": "bilinear"}, (2, 3, 4, 5)),
           (L.Upsample, {"size": (7, 3), "mode": "bicubic", "align_corners": True}, (2, 3, 4, 5)),
           (L.Upsample, {"scale_factor": 1.7, "mode": "bicubic"}, (2, 2, 3, 4)),
           (L.UpsamplingNearest2d, {"size": (5, 7)}, (2, 3, 3, 4)),
           (L.UpsamplingBilinear2d, {"scale_factor": 2}, (2, 3, 3, 4))]
    for cls, kw, shape in ups:
        rk = {"size": kw.get("size"), "scale_factor": kw.get("scale_factor"),
              "mode": "bilinear" if cls is L.UpsamplingBilinear2d else kw.get("mode", "nearest"),
              "align_corners": True if cls is L.UpsamplingBilinear2d else kw.get("align_corners")}
        recs.append(M(cls=cls, init_kwargs=kw, sample_inputs=_randn(shape), tags=bi,
                      name=f"{cls.__name__}-{len(recs)}",
                      reference=lambda p, x, _k=rk: ref_interpolate(x, **_k)))
    recs.append(Fn(fn=F.interpolate, sample_inputs=_randn((2, 3, 4, 5), kwargs={"size": (6, 3), "mode": "bilinear",
                   "align_corners": True}), reference=lambda x, **k: ref_interpolate(x, **k), tags=_DB))
    recs.append(Fn(fn=F.upsample, sample_inputs=_randn((2, 3, 4), kwargs={"scale_factor": 2}),
                   reference=lambda x, **k: ref_interpolate(x, **k), expected_failures={
                       "no_warnings": "F.upsample is deprecated and warns, as in PyTorch"}, tags=_DB))
    return recs


def _pad_ref(pad, mode, value):
    return lambda params, x: ref_pad(x, pad, mode, value)


def records() -> list:
    """Every record of lamina-layers-basic: the spatial layers (this module), ``testing_activations`` and
    ``testing_forms``."""
    from .testing_activations import records_activations
    from .testing_forms import records_forms

    return records_spatial() + records_activations() + records_forms()
