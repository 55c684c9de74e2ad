"""Conformance records for the forms that complete torch's sets: the 1-d/3-d and circular padding layers,
``*_with_indices`` pools, AdaptiveMaxPool3d, LPPool1d/3d, MaxUnpool1d/3d, the in-place ``F.*_`` activations,
gumbel_softmax, the deprecated upsample aliases, F.conv_tbc, feature-alpha dropout and the lazy convolutions.

``records_forms()`` is merged into the plugin's ``records()`` (``testing.py``). References are NumPy float64.
"""

from __future__ import annotations

import numpy as np

from ._refs import ref_adaptive, ref_interpolate, ref_pad, ref_pool
from .testing import _err, _errors, _randn
from .testing_activations import _SELU, _elu

__lamina_plugin_api__ = "1.0"

_DB = frozenset({"double_backward"})  # gradgradcheck applies (every op here has a create_graph backward)
_BI = _DB | {"batch_independent"}


def _pad_records(L, M, ShapeError) -> list:
    rows = [("ReflectionPad1d", {"padding": 2}, (2, 3, 5), "reflect", (2, 2)),
            ("ReflectionPad3d", {"padding": (1, 0, 2, 1, 0, 1)}, (2, 2, 3, 4, 3), "reflect", (1, 0, 2, 1, 0, 1)),
            ("ReplicationPad1d", {"padding": (3, 1)}, (2, 3, 4), "replicate", (3, 1)),
            ("ReplicationPad3d", {"padding": 1}, (2, 2, 3, 2, 4), "replicate", (1,) * 6),
            ("CircularPad1d", {"padding": (2, 3)}, (2, 3, 4), "circular", (2, 3)),
            ("CircularPad2d", {"padding": (1, 2, 2, 0)}, (2, 3, 4, 5), "circular", (1, 2, 2, 0)),
            ("CircularPad3d", {"padding": 1}, (2, 2, 3, 4, 3), "circular", (1,) * 6),
            ("ZeroPad1d", {"padding": (2, -1)}, (2, 3, 4), "constant", (2, -1)),
            ("ZeroPad3d", {"padding": (1, 0, 2, 1, 0, 1)}, (2, 2, 3, 2, 2), "constant", (1, 0, 2, 1, 0, 1)),
            ("ConstantPad3d", {"padding": 1, "value": -2.5}, (2, 2, 3, 2, 2), "constant", (1,) * 6)]
    recs = []
    for name, kw, shape, mode, pad in rows:
        errors = ()
        if mode == "circular":
            n = len(pad) // 2
            errors = _errors(_err([(5,) * (n + 3)], ShapeError, rf"{name}: expected {n + 1}-D"))
        value = kw.get("value", 0.0)
        recs.append(M(cls=getattr(L, name), init_kwargs=kw, sample_inputs=_randn(shape), tags=_BI,
                      error_inputs=errors,
                      reference=lambda p, x, _pad=pad, _m=mode, _v=value: ref_pad(x, _pad, _m, _v)))
    return recs


def _unpool_sample(n):
    """An input and valid indices for MaxUnpool{n}d(kernel_size=2): one index inside each 2**n window."""
    def make(xp, dtype, rng):
        from lamina.testing import Sample

        sizes = (3, 2, 2)[:n]
        x = rng.standard_normal((2, 3) + sizes)
        out = tuple(2 * s for s in sizes)
        grids = np.meshgrid(*[2 * np.arange(s) for s in sizes], indexing="ij")
        coords = [g[None, None] + rng.integers(0, 2, (2, 3) + sizes) for g in grids]
        idx = np.ravel_multi_index(coords, out)
        return [Sample((xp.asarray(x, dtype=dtype), xp.asarray(idx, dtype=np.int64)), {"kernel_size": 2},
                       grad_args=(0,))]
    return make


def _unpool_module_sample(n):
    def make(xp, dtype, rng):
        s = _unpool_sample(n)(xp, dtype, rng)[0]
        s.kwargs = {}
        return [s]
    return make


def _unpool_ref(x, idx, **_):
    out = tuple(2 * s for s in x.shape[2:])
    y = np.zeros(x.shape[:2] + (int(np.prod(out)),))
    np.put_along_axis(y, idx.reshape(x.shape[:2] + (-1,)), x.reshape(x.shape[:2] + (-1,)), axis=-1)
    return y.reshape(x.shape[:2] + out)


def _pool_indices_ref(x, kernel_size, n):
    """(max, flat index) of non-overlapping windows of ``kernel_size`` (no padding) per plane."""
    sizes = x.shape[2:]
    out = tuple(s // kernel_size for s in sizes)
    y, idx = np.zeros(x.shape[:2] + out), np.zeros(x.shape[:2] + out, dtype=np.int64)
    import itertools

    for pos in itertools.product(*(range(o) for o in out)):
        sl = tuple(slice(p * kernel_size, (p + 1) * kernel_size) for p in pos)
        win = x[(Ellipsis,) + sl].reshape(x.shape[:2] + (-1,))
        k = win.argmax(-1)
        local = np.unravel_index(k, (kernel_size,) * n)
        y[(Ellipsis,) + pos] = win.max(-1)
        idx[(Ellipsis,) + pos] = np.ravel_multi_index([p * kernel_size + c for p, c in zip(pos, local)], sizes)
    return y, idx


def _adaptive_indices_ref(x, out):
    import itertools

    sizes = x.shape[2:]
    y, idx = np.zeros(x.shape[:2] + out), np.zeros(x.shape[:2] + out, dtype=np.int64)
    for pos in itertools.product(*(range(o) for o in out)):
        starts = [i * s // o for i, s, o in zip(pos, sizes, out)]
        ends = [-(-(i + 1) * s // o) for i, s, o in zip(pos, sizes, out)]
        win = x[(Ellipsis,) + tuple(slice(a, b) for a, b in zip(starts, ends))].reshape(x.shape[:2] + (-1,))
        local = np.unravel_index(win.argmax(-1), tuple(b - a for a, b in zip(starts, ends)))
        y[(Ellipsis,) + pos] = win.max(-1)
        idx[(Ellipsis,) + pos] = np.ravel_multi_index([a + c for a, c in zip(starts, local)], sizes)
    return y, idx


def _pool_records(L, F, M, Fn) -> list:
    shapes = {1: (2, 3, 8), 2: (2, 3, 4, 6), 3: (2, 2, 4, 2, 4)}
    recs = []
    for n, shape in shapes.items():
        recs.append(Fn(fn=getattr(F, f"max_pool{n}d_with_indices"), sample_inputs=_randn(shape,
                       kwargs={"kernel_size": 2}), reference=lambda x, kernel_size, _n=n: _pool_indices_ref(
                           x, kernel_size, _n), tags=_DB))
        out = (3, 2, 1)[:n]
        recs.append(Fn(fn=getattr(F, f"adaptive_max_pool{n}d_with_indices"), sample_inputs=_randn(shape, kwargs={
            "output_size": out}), reference=lambda x, output_size: _adaptive_indices_ref(x, tuple(output_size)),
            tags=_DB))
    shape3 = shapes[3]
    recs += [
        M(cls=L.AdaptiveMaxPool3d, init_kwargs={"output_size": (2, 1, 3)}, sample_inputs=_randn(shape3), tags=_BI,
          reference=lambda p, x: ref_adaptive(x, (2, 1, 3), "max")),
        Fn(fn=F.adaptive_max_pool3d, sample_inputs=_randn(shape3, kwargs={"output_size": 2}),
           reference=lambda x, output_size: ref_adaptive(x, (output_size,) * 3, "max"), tags=_DB),
        M(cls=L.LPPool1d, init_kwargs={"norm_type": 2, "kernel_size": 3, "stride": 2}, sample_inputs=_randn(shapes[1]),
          tags=_BI, reference=lambda p, x: np.sqrt(ref_pool(x ** 2, "avg", 3, 2) * 3)),
        Fn(fn=F.lp_pool1d, sample_inputs=_randn(shapes[1], kwargs={"norm_type": 3.0, "kernel_size": 2},
                                                 positive=True),
           reference=lambda x, norm_type, kernel_size: np.cbrt(ref_pool(x ** 3, "avg", 2) * 2), tags=_DB),
        M(cls=L.LPPool3d, init_kwargs={"norm_type": 2, "kernel_size": 2}, sample_inputs=_randn(shape3), tags=_BI,
          reference=lambda p, x: np.sqrt(ref_pool(x ** 2, "avg", 2) * 8)),
        Fn(fn=F.lp_pool3d, sample_inputs=_randn(shape3, kwargs={"norm_type": 1.5, "kernel_size": (1, 2, 2)},
                                                positive=True),
           reference=lambda x, norm_type, kernel_size: (ref_pool(x ** 1.5, "avg", (1, 2, 2)) * 4) ** (1 / 1.5),
           tags=_DB),
    ]
    for n in (1, 3):
        recs.append(M(cls=getattr(L, f"MaxUnpool{n}d"), init_kwargs={"kernel_size": 2}, tags=_BI,
                      sample_inputs=_unpool_module_sample(n), reference=lambda p, x, idx: _unpool_ref(x, idx)))
        recs.append(Fn(fn=getattr(F, f"max_unpool{n}d"), sample_inputs=_unpool_sample(n), reference=_unpool_ref,
                       tags=_DB))
    return recs


def _inplace(fn):
    """Call an in-place form on a copy: the kit's inputs are leaves that require grad."""
    return lambda x, *a, **k: fn(x * 1.0, *a, **k)


def _seeded(fn):
    def call(*args, **kwargs):
        import lamina

        lamina.manual_seed(0)
        return fn(*args, **kwargs)
    return call


def _function_records(L, F, M, Fn) -> list:
    db = _DB
    x46 = (4, 6)
    inplace = [
        (F.elu_, {"alpha": 0.5}, lambda x, alpha: _elu(x, alpha)),
        (F.celu_, {"alpha": 1.5}, lambda x, alpha: _elu(x, alpha, 1.0, 1.0 / alpha)),
        (F.selu_, {}, lambda x: _elu(x, _SELU[0], _SELU[1])),
        (F.hardtanh_, {"min_val": -2.0, "max_val": 1.5}, lambda x, min_val, max_val: np.clip(x, min_val, max_val)),
        (F.leaky_relu_, {"negative_slope": 0.2}, lambda x, negative_slope: np.where(x > 0, x, negative_slope * x)),
        (F.rrelu_, {"training": False}, lambda x, training: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2)),
        (F.threshold_, {"threshold": 0.1, "value": 20.0}, lambda x, threshold, value: np.where(x > threshold, x,
                                                                                                  value)),
    ]
    recs = []
    for fn, kw, ref in inplace:
        # samples stay away from the kinks at 0, 0.1, -2 and 1.5 (finite differences would straddle them)
        def samples(xp, dtype, rng, _kw=kw):
            from lamina.testing import Sample

            x = rng.uniform(0.3, 1.2, x46) * rng.choice([-1.0, 1.0], x46)
            return [Sample((xp.asarray(x, dtype=dtype),), dict(_kw))]
        recs.append(Fn(fn=_inplace(fn), covers=(fn,), name=fn.__name__, sample_inputs=samples, reference=ref,
                       tags=db))
    recs += [
        # reseeded per call: the same Gumbel noise for every evaluation (gradcheck's finite differences too)
        Fn(fn=_seeded(F.gumbel_softmax), covers=(F.gumbel_softmax,), name="gumbel_softmax",
           sample_inputs=_randn(x46, kwargs={"tau": 0.5}), tags=db),
        Fn(fn=_seeded(F.gumbel_softmax), covers=(F.gumbel_softmax,), name="gumbel_softmax(hard)",
           sample_inputs=_randn(x46, kwargs={"tau": 2.0, "hard": True, "dim": 0}), tags=db, expected_failures={
               "fn_gradcheck": "straight-through estimator: the gradient is the soft sample's, by design"}),
        Fn(fn=F.upsample_nearest, sample_inputs=_randn((2, 3, 3, 4), kwargs={"scale_factor": 2}),
           reference=lambda x, scale_factor: ref_interpolate(x, scale_factor=scale_factor, mode="nearest"),
           expected_failures={"no_warnings": "upsample_nearest is deprecated and warns, as in PyTorch"}, tags=_DB),
        Fn(fn=F.upsample_bilinear, sample_inputs=_randn((2, 3, 3, 4), kwargs={"size": (5, 7)}),
           reference=lambda x, size: ref_interpolate(x, size=size, mode="bilinear", align_corners=True),
           expected_failures={"no_warnings": "upsample_bilinear is deprecated and warns, as in PyTorch"}, tags=_DB),
        Fn(fn=F.conv_tbc, sample_inputs=_randn((6, 2, 3), (3, 3, 4), (4,), kwargs={"pad": 1}),
           reference=_conv_tbc_ref, tags=_DB),
        M(cls=L.FeatureAlphaDropout, init_kwargs={"p": 0.3}, sample_inputs=_randn((4, 6, 3, 2)),
          tags=_DB | {"random", "train_eval_differ"}, error_inputs=_errors(
              _err([(4, 6)], ValueError, r"dropout probability has to be between 0 and 1, but got 1\.5",
                   init={"p": 1.5}))),
        Fn(fn=F.feature_alpha_dropout, name="feature_alpha_dropout(eval)", reference=lambda x, p: x,
           sample_inputs=_randn((4, 6, 3), kwargs={"p": 0.4}), tags=db),
    ]
    return recs


def _conv_tbc_ref(x, w, b, pad=0):
    T, K = x.shape[0], w.shape[0]
    xp = np.pad(x, ((pad, pad), (0, 0), (0, 0)))
    return np.stack([sum(xp[t + k] @ w[k] for k in range(K)) + b for t in range(T + 2 * pad - K + 1)])


LAZY_XFAIL = {"load_state_dict_rejects": "the check reads the shapes of a fresh module's parameters: an "
              "UninitializedParameter has none (PyTorch raises the same RuntimeError)"}


def _lazy_records(L, M) -> list:
    from ._refs import ref_conv, ref_conv_transpose

    recs = []
    for n, shape in ((1, (2, 4, 7)), (2, (2, 4, 5, 4)), (3, (1, 4, 3, 4, 3))):
        recs.append(M(cls=getattr(L, f"LazyConv{n}d"), init_kwargs={"out_channels": 6, "kernel_size": 2,
                      "groups": 2}, sample_inputs=_randn(shape), tags=_BI, expected_failures=LAZY_XFAIL,
                      reference=lambda p, x: ref_conv(x, p["weight"], p["bias"], groups=2)))
        recs.append(M(cls=getattr(L, f"LazyConvTranspose{n}d"), init_kwargs={"out_channels": 3, "kernel_size": 2,
                      "stride": 2, "bias": False}, sample_inputs=_randn(shape), tags=_BI, expected_failures=LAZY_XFAIL,
                      reference=lambda p, x: ref_conv_transpose(x, p["weight"], None, stride=2)))
    return recs


def _fractional_ref(x, kernel_size, output_size, _random_samples, return_indices=False):
    """Loops over planes and windows: starts floor((i + u) * a) - floor(u * a), a = (S - k) / (O - 1)."""
    import itertools

    n = len(output_size)
    sizes = x.shape[2:]
    y = np.zeros(x.shape[:2] + tuple(output_size))
    order = (1, 0) if n == 2 else (0, 1, 2)
    for b, c in itertools.product(range(x.shape[0]), range(x.shape[1])):
        starts = []
        for d in range(n):
            u, S, O, k = _random_samples[b, c, order[d]], sizes[d], output_size[d], kernel_size[d]
            a = (S - k) / (O - 1) if O > 1 else 0.0
            starts.append([int((i + u) * a) - int(u * a) for i in range(O - 1)] + [S - k])
        for pos in itertools.product(*(range(o) for o in output_size)):
            win = x[(b, c) + tuple(slice(starts[d][p], starts[d][p] + kernel_size[d]) for d, p in enumerate(pos))]
            y[(b, c) + pos] = win.max()
    return y


def _fractional_samples(n):
    def make(xp, dtype, rng):
        from lamina.testing import Sample

        shape = (2, 3, 7, 8) if n == 2 else (2, 2, 5, 6, 5)
        kw = {"kernel_size": (2, 3) if n == 2 else (2, 2, 3), "output_size": (4, 3) if n == 2 else (3, 2, 3),
              "_random_samples": xp.asarray(rng.random((2, shape[1], n)), dtype=dtype)}
        return [Sample((xp.asarray(rng.standard_normal(shape), dtype=dtype),), kw)]
    return make


def _fractional_records(L, F, M, Fn) -> list:
    recs = []
    for n in (2, 3):
        samples = _fractional_samples(n)
        recs.append(Fn(fn=getattr(F, f"fractional_max_pool{n}d"), sample_inputs=samples, reference=_fractional_ref,
                       tags=_DB))
        recs.append(Fn(fn=getattr(F, f"fractional_max_pool{n}d_with_indices"), sample_inputs=samples,
                       reference=lambda x, **k: _fractional_ref(x, **k), tags=_DB))
        # the module draws its samples: values are checked in the parity tests; here the structural checks
        recs.append(M(cls=getattr(L, f"FractionalMaxPool{n}d"), init_kwargs={"kernel_size": 2, "output_ratio": 0.5},
                      sample_inputs=_randn((2, 3, 6, 8) if n == 2 else (2, 2, 4, 6, 4)),
                      tags=_BI | {"random"}))
    return recs


def _grouped_samples(xp, dtype, rng):
    from lamina.testing import Sample

    f = lambda *s: xp.asarray(rng.standard_normal(s), dtype=dtype)  # noqa: E731
    offs = lambda *v: xp.asarray(np.array(v, dtype=np.int32))  # noqa: E731
    return [Sample((f(8, 4), f(3, 4, 5)), {"offs": offs(2, 5, 8)}, name="2d x 3d"),
            Sample((f(3, 2, 4), f(3, 4, 5)), name="3d x 3d"),
            Sample((f(3, 6), f(6, 2)), {"offs": offs(2, 6)}, name="2d x 2d"),
            Sample((f(2, 3, 4), f(4, 6)), {"offs": offs(3, 6)}, name="3d x 2d")]


def _grouped_ref(a, b, offs=None):
    if offs is None:
        return a @ b
    ends = [int(v) for v in offs]
    starts = [0] + ends[:-1]
    if a.ndim == 2 and b.ndim == 3:
        return np.concatenate([a[s:e] @ b[i] for i, (s, e) in enumerate(zip(starts, ends))])
    if a.ndim == 2:
        return np.stack([a[:, s:e] @ b[s:e] for s, e in zip(starts, ends)])
    return np.concatenate([a[i] @ b[:, s:e] for i, (s, e) in enumerate(zip(starts, ends))], axis=1)


def _grouped_any_dtype(a, b, offs=None):
    from .grouped_mm import _grouped

    return _grouped(a, b, None if offs is None else [int(v) for v in offs.tolist()])


def records_forms() -> list:
    import lamina.nn as L
    import lamina.nn.functional as F
    from lamina.errors import ShapeError
    from lamina.testing import FunctionInfo as Fn
    from lamina.testing import ModuleInfo as M

    # Container has no forward (as in PyTorch): constructor and state checks only
    container = M(cls=L.Container, init_kwargs={"body": L.Linear(3, 2)}, expected_failures={
        "no_warnings": "Container is deprecated and warns at construction, as in PyTorch",
        "factory_kwargs": "Container(**kwargs) takes child modules only (device/dtype too), as in PyTorch"})
    # grouped_mm takes float32/bfloat16/float16 as PyTorch; its float64 gradchecks go through the same body
    grouped = [Fn(fn=F.grouped_mm, sample_inputs=_grouped_samples, reference=_grouped_ref, dtypes=("float32",)),
               Fn(fn=_grouped_any_dtype, covers=(F.grouped_mm,), name="grouped_mm(float64 body)",
                  sample_inputs=_grouped_samples, reference=_grouped_ref, tags=frozenset({"double_backward"}))]
    return grouped + (_pad_records(L, M, ShapeError) + _pool_records(L, F, M, Fn) + _function_records(L, F, M, Fn)
            + _lazy_records(L, M) + _fractional_records(L, F, M, Fn) + [container])
