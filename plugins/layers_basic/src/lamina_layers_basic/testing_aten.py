"""Conformance records of the top-level ATen-style forms (``aten_forms``) that are not plain aliases of
an ``F`` function: their references are this plugin's NumPy references (``_refs``) in ATen's
argument order. Dropout forms are checked at train=False (identity); their training behaviour is
tested in tests/test_toplevel_aten_forms.py."""

from __future__ import annotations

import numpy as np
from lamina.testing import FunctionInfo, Sample

from . import aten_activations as act
from . import aten_forms as aten
from . import grid_sample as gs
from ._refs import ref_adaptive, ref_conv, ref_conv_transpose, ref_pad, ref_pool
from .testing_activations import ACTIVATIONS, _away_from, _bag_ref, _prelu
from .testing_forms import _inplace

_DBL = frozenset({"double_backward"})


def _calls(build, grad=(0,)):
    def sample(xp, dtype, rng):
        def conv(v):
            if isinstance(v, np.ndarray):
                return xp.asarray(v, dtype=dtype) if v.dtype.kind == "f" else xp.asarray(v)
            return v
        return [Sample(tuple(conv(v) for v in args), kwargs, name=f"call{k}", grad_args=grad)
                for k, (args, kwargs) in enumerate(build(rng))]
    return sample


def _stride(stride):
    return None if stride in ((), []) else stride


def _max_pool(n):
    def reference(x, kernel_size, stride=(), padding=0, dilation=1, ceil_mode=False):
        return ref_pool(x, "max", kernel_size, _stride(stride), padding, dilation, ceil_mode)
    return reference


def _pdist(x, p=2.0):
    i, j = np.triu_indices(x.shape[0], 1)
    d = np.abs(x[i] - x[j])
    return d.max(-1) if p == np.inf else ((d > 0).sum(-1).astype(x.dtype) if p == 0 else (d ** p).sum(-1) ** (1 / p))


def _convolution(x, w, b, stride, padding, dilation, transposed, output_padding, groups):
    if transposed:
        return ref_conv_transpose(x, w, b, stride, padding, output_padding, groups, dilation)
    return ref_conv(x, w, b, stride, padding, dilation, groups)


def _identity(x, p, train):
    return x


def records() -> list:
    x = lambda r, *s: r.standard_normal(s)  # noqa: E731
    recs = [
        FunctionInfo(fn=aten.adaptive_max_pool1d, name="adaptive_max_pool1d",
                     sample_inputs=_calls(lambda r: [((x(r, 2, 3, 10), [4]), {})]),
                     reference=lambda v, size: ref_adaptive(v, tuple(size), "max"), tags=_DBL),
        FunctionInfo(fn=aten.avg_pool1d, name="avg_pool1d",
                     sample_inputs=_calls(lambda r: [((x(r, 2, 3, 10), [3], [2], [1]), {"count_include_pad": False})]),
                     reference=lambda v, k, stride=(), padding=0, ceil_mode=False, count_include_pad=True: ref_pool(
                         v, "avg", k, _stride(stride), padding, 1, ceil_mode, count_include_pad), tags=_DBL),
        FunctionInfo(fn=aten.max_pool1d, name="max_pool1d",
                     sample_inputs=_calls(lambda r: [((x(r, 2, 3, 9), [3]), {})]), reference=_max_pool(1), tags=_DBL),
        FunctionInfo(fn=aten.max_pool1d_with_indices, name="max_pool1d_with_indices",
                     sample_inputs=_calls(lambda r: [((x(r, 2, 3, 8), [2], [2]), {})]),
                     reference=lambda *a, **k: _max_pool(1)(*a, **k), tags=_DBL),
        FunctionInfo(fn=aten.max_pool2d, name="max_pool2d",
                     sample_inputs=_calls(lambda r: [((x(r, 1, 2, 6, 6), [2, 2], [1, 1]), {"ceil_mode": True})]),
                     reference=_max_pool(2), tags=_DBL),
        FunctionInfo(fn=aten.max_pool3d, name="max_pool3d", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 1, 2, 4, 4, 4), [2, 2, 2]), {})]), reference=_max_pool(3)),
        FunctionInfo(fn=aten.constant_pad_nd, name="constant_pad_nd", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 2, 3, 4), [1, 2, -1, 1]), {"value": 0.5})]),
                     reference=lambda v, pad, value=0: ref_pad(v, list(pad), "constant", value)),
        FunctionInfo(fn=aten.convolution, name="convolution",
                     sample_inputs=_calls(lambda r: [
                         ((x(r, 2, 3, 6, 6), x(r, 4, 3, 3, 3), x(r, 4), [1, 1], [1, 1], [1, 1], False, [0, 0], 1), {}),
                         ((x(r, 1, 4, 5), x(r, 4, 2, 3), None, [2], [0], [1], True, [1], 2), {})], grad=(0, 1)),
                     reference=_convolution, tags=_DBL),
        FunctionInfo(fn=aten.conv_tbc, name="conv_tbc",
                     sample_inputs=_calls(lambda r: [((x(r, 7, 2, 3), x(r, 3, 3, 5), x(r, 5), 1), {})], grad=(0, 1, 2)),
                     reference=lambda v, w, b, pad=0: ref_conv(v.transpose(1, 2, 0), w.transpose(2, 1, 0), b, 1,
                                                               pad).transpose(2, 0, 1), tags=_DBL),
        FunctionInfo(fn=aten.embedding, name="embedding", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 6, 3), r.integers(0, 6, (2, 4))), {})]),
                     reference=lambda w, idx, padding_idx=-1, scale_grad_by_freq=False, sparse=False: w[idx]),
        FunctionInfo(fn=aten.pdist, name="pdist", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 5, 3),), {}), ((x(r, 4, 3), 1.0), {})]), reference=_pdist),
    ]
    for name in ("dropout", "alpha_dropout", "feature_dropout", "feature_alpha_dropout"):
        for suffix in ("", "_"):
            recs.append(FunctionInfo(fn=getattr(aten, name + suffix), name=f"{name}{suffix}[train=False]",
                                     tags=_DBL | ({"inplace"} if suffix else set()),
                                     sample_inputs=_calls(lambda r: [((x(r, 3, 4, 2), 0.3, False), {})]),
                                     reference=_identity))
    g2 = lambda r: r.uniform(-1.1, 1.1, (2, 3, 2, 2))  # noqa: E731  (a few points outside the input)
    g3 = lambda r: r.uniform(-1.1, 1.1, (1, 2, 2, 2, 3))  # noqa: E731
    recs += [
        # values against torch in tests/test_layers_basic_grid_sample.py; the kit checks gradients and the rest
        FunctionInfo(fn=gs.grid_sample, name="F.grid_sample", sample_inputs=_calls(lambda r: [
            ((x(r, 2, 2, 4, 5), g2(r)), {"mode": m, "padding_mode": p, "align_corners": a})
            for m, p, a in (("bilinear", "zeros", False), ("bicubic", "border", True),
                            ("nearest", "reflection", False))],
            grad=(0, 1)), tags=_DBL),
        FunctionInfo(fn=gs.grid_sampler, name="grid_sampler", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 1, 2, 3, 3, 3), g3(r), 0, 2, True), {})], grad=(0, 1))),
        FunctionInfo(fn=gs.grid_sampler_2d, name="grid_sampler_2d", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 2, 2, 4, 5), g2(r), 2, 0, False), {})], grad=(0, 1))),
        FunctionInfo(fn=gs.grid_sampler_3d, name="grid_sampler_3d", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 1, 2, 3, 3, 3), g3(r), 0, 1, False), {})], grad=(0, 1))),
        FunctionInfo(fn=gs.affine_grid, name="F.affine_grid", tags=_DBL, sample_inputs=_calls(lambda r: [
            ((x(r, 2, 2, 3), [2, 1, 3, 4]), {"align_corners": False}),
            ((x(r, 1, 3, 4), [1, 1, 2, 3, 2]), {"align_corners": True})])),
        FunctionInfo(fn=gs.affine_grid_generator, name="affine_grid_generator", tags=_DBL,
                     sample_inputs=_calls(lambda r: [((x(r, 2, 2, 3), [2, 1, 3, 4], True), {})])),
    ]
    recs.append(FunctionInfo(fn=aten.embedding_renorm_, name="embedding_renorm_", tags=frozenset({"inplace"}),
                             sample_inputs=_calls(lambda r: [((x(r, 5, 3) * 2, np.array([0, 2, 2]), 1.0, 2.0), {})],
                                                  grad=()),
                             reference=_renorm))
    return recs + _activation_records() + _embedding_bag_records()


def _activation_records() -> list:
    """torch.celu / selu / rrelu / threshold / hardshrink / prelu and the in-place forms, in ATen order."""
    def x(r, *s, kinks=()):
        return _away_from(r.standard_normal(s) * 2, kinks)

    refs = {
        "celu": lambda v, alpha=1.0: ACTIVATIONS["CELU"](v, alpha),
        "selu": ACTIVATIONS["SELU"],
        "rrelu[training=False]": lambda v, lower=1 / 8, upper=1 / 3, training=False, generator=None: np.where(
            v > 0, v, v * (lower + upper) / 2),
        "threshold": lambda v, threshold, value: np.where(v > threshold, v, value),
    }
    calls = {
        "celu": (act.celu, act.celu_, lambda r: [((x(r, 3, 4),), {}), ((x(r, 2, 5), 1.5), {})]),
        "selu": (act.selu, act.selu_, lambda r: [((x(r, 3, 4),), {})]),
        "rrelu[training=False]": (act.rrelu, act.rrelu_, lambda r: [((x(r, 3, 4),), {}),
                                                                   ((x(r, 3, 4), 0.2, 0.5, False), {})]),
        "threshold": (act.threshold, act.threshold_, lambda r: [((x(r, 3, 4, kinks=(0.1,)), 0.1, 2.0), {})]),
    }
    recs = []
    for name, (fn, fn_, build) in calls.items():
        recs.append(FunctionInfo(fn=fn, name=name, sample_inputs=_calls(build), reference=refs[name], tags=_DBL))
        # the in-place form's gradient (through a non-leaf) is tested against torch in test_toplevel_aten_forms.py
        name_ = name.replace("[", "_[") if "[" in name else name + "_"
        recs.append(FunctionInfo(fn=fn_, name=name_, tags=frozenset({"inplace"}),
                                 sample_inputs=_calls(build, grad=()), reference=refs[name]))
        # and on a copy of a leaf (a non-leaf), so the kit's gradchecks, double backward included, reach it
        recs.append(FunctionInfo(fn=_inplace(fn_), covers=(fn_,), name=f"{name_}(on a copy)", tags=_DBL,
                                 sample_inputs=_calls(build), reference=refs[name]))
    recs += [
        FunctionInfo(fn=act.hardshrink, name="hardshrink", sample_inputs=_calls(
            lambda r: [((x(r, 3, 4, kinks=(-0.5, 0.5)),), {}), ((x(r, 3, 4, kinks=(-0.3, 0.3)), 0.3), {})]),
            reference=ACTIVATIONS["Hardshrink"], tags=_DBL),
        FunctionInfo(fn=act.prelu, name="prelu", tags=_DBL, sample_inputs=_calls(
            lambda r: [((x(r, 2, 3, 4), r.uniform(0.1, 0.5, 3)), {}), ((x(r, 5), r.uniform(0.1, 0.5, 1)), {})],
            grad=(0, 1)), reference=_prelu),
    ]
    return recs


def _embedding_bag_records() -> list:
    """torch.embedding_bag(weight, indices, offsets, scale_grad_by_freq, mode, sparse, per_sample_weights,
    include_last_offset, padding_idx): the reference covers its first output (F.embedding_bag's)."""
    def reference(w, idx, offsets, scale_grad_by_freq=False, mode=0, sparse=False, per_sample_weights=None,
                  include_last_offset=False, padding_idx=None):
        offsets = offsets[:-1] if include_last_offset else offsets
        pad = None if padding_idx is None else padding_idx % w.shape[0]
        return _bag_ref(idx, w, offsets, ("sum", "mean", "max")[mode], per_sample_weights, pad)

    idx = np.array([0, 2, 1, 4, 2, 5, 3])
    return [FunctionInfo(fn=aten.embedding_bag, name="embedding_bag", sample_inputs=_calls(lambda r: [
        ((r.standard_normal((6, 3)), idx, np.array([0, 2, 2])), {}),
        ((r.standard_normal((6, 3)), idx, np.array([0, 3, 7]), False, 1, False, None, True), {}),
        ((r.standard_normal((6, 3)), idx, np.array([0, 3]), False, 2), {"padding_idx": 2}),
        ((r.standard_normal((6, 3)), idx, np.array([0, 4]), False, 0, False, r.uniform(0.5, 1.0, 7)), {}),
    ]), reference=reference, tags=_DBL)]


def _renorm(w, idx, max_norm, norm_type):
    out = w.copy()
    for i in np.unique(idx):
        norm = np.sum(np.abs(w[i]) ** norm_type) ** (1.0 / norm_type)
        if norm > max_norm:
            out[i] = w[i] * (max_norm / (norm + 1e-7))
    return out
