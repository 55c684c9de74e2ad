"""Conformance records of every loss (consumed by ``lamina.testing`` through the ``lamina.testing`` group).

``sample_inputs(xp, dtype, rng)`` builds arrays with the backend's namespace; references are the
NumPy float64 formulas of ``_references``.
"""

from __future__ import annotations

import numpy as np
from lamina.testing import ErrorInput, Sample

from . import _references as ref

__lamina_plugin_api__ = "1.0"

DBL = frozenset({"double_backward"})


def _f(xp, dtype, a):
    return xp.asarray(np.asarray(a, dtype=np.float64), dtype=dtype)


def _i(xp, a):
    return xp.asarray(np.asarray(a), dtype=xp.int64)


def _pair(shape=(4, 5), lo=None, hi=None):
    def sample(xp, dtype, rng):
        gen = (lambda s: rng.uniform(lo, hi, s)) if lo is not None else rng.standard_normal
        return [Sample((_f(xp, dtype, gen(shape)), _f(xp, dtype, gen(shape))), name="2d"),
                Sample((_f(xp, dtype, gen((2, 3, 2))), _f(xp, dtype, gen((2, 3, 2)))), name="3d")]
    return sample


def _shape_mismatch(n_args=2):
    def errors(xp, dtype, rng):
        args = (_f(xp, dtype, rng.standard_normal((4, 5))), _f(xp, dtype, rng.standard_normal((4, 1))))
        return [ErrorInput(Sample(args[:n_args]), ValueError, r"expected target of the input's shape \(4, 5\)")]
    return errors


def _class_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.standard_normal((6, 5))), _i(xp, rng.integers(0, 5, 6))), name="N,C"),
            Sample((_f(xp, dtype, rng.standard_normal((2, 4, 3, 2))), _i(xp, rng.integers(0, 4, (2, 3, 2)))),
                   name="N,C,d1,d2"),
            Sample((_f(xp, dtype, rng.standard_normal(5)), _i(xp, 3)), name="unbatched")]


def _class_errors(name):
    def errors(xp, dtype, rng):
        x = _f(xp, dtype, rng.standard_normal((3, 5)))
        return [ErrorInput(Sample((x, _i(xp, [0, 7, 1]))), IndexError,
                           rf"{name}: target 7 is out of bounds for 5 classes \(expected 0 <= target < 5 or "
                           r"ignore_index=-100\)"),
                ErrorInput(Sample((x, _i(xp, [0, 1, 2, 3]))), ValueError, rf"{name}: expected target of shape"),
                ErrorInput(Sample((x, _f(xp, dtype, [0, 1, 2]))), TypeError,
                           rf"{name}: expected target of an integer dtype \(class indices\)")]
    return errors


def _prob_samples(xp, dtype, rng):
    p = rng.uniform(size=(6, 5))
    return [Sample((_f(xp, dtype, rng.standard_normal((6, 5))), _f(xp, dtype, p / p.sum(1, keepdims=True))),
                   name="probabilities")]


def _bce_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.uniform(0.05, 0.95, (4, 5))), _f(xp, dtype, rng.uniform(size=(4, 5)))))]


def _logit_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, 3 * rng.standard_normal((4, 5))), _f(xp, dtype, rng.uniform(size=(4, 5)))))]


def _sign_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.standard_normal((4, 5))), _f(xp, dtype, np.sign(rng.standard_normal((4, 5))))))]


def _kl_samples(xp, dtype, rng):
    p = rng.uniform(0.1, 1, (4, 5))
    return [Sample((_f(xp, dtype, np.log(rng.dirichlet(np.ones(5), 4))), _f(xp, dtype, p / p.sum(1, keepdims=True))))]


def _kl_log_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, np.log(rng.dirichlet(np.ones(5), 4))),
                    _f(xp, dtype, np.log(rng.dirichlet(np.ones(5), 4)))))]


def _poisson_samples(xp, dtype, rng):
    # counts: the Stirling term jumps at target 1, so only the input is differentiated
    return [Sample((_f(xp, dtype, rng.standard_normal((4, 5))), _f(xp, dtype, rng.poisson(2.0, (4, 5)))),
                   grad_args=(0,))]


def _poisson_rate_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.uniform(0.5, 3, (4, 5))), _f(xp, dtype, rng.poisson(2.0, (4, 5)))),
                   grad_args=(0,))]


def _gauss_samples(xp, dtype, rng):
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    return [Sample((_f(xp, dtype, x), _f(xp, dtype, y), _f(xp, dtype, rng.uniform(0.5, 2, (4, 3)))), name="full var"),
            Sample((_f(xp, dtype, x), _f(xp, dtype, y), _f(xp, dtype, rng.uniform(0.5, 2, (4, 1)))), name="(N, 1)"),
            Sample((_f(xp, dtype, x), _f(xp, dtype, y), _f(xp, dtype, rng.uniform(0.5, 2, 4))), name="(N,)")]


def _gauss_errors(xp, dtype, rng):
    x = _f(xp, dtype, rng.standard_normal((4, 3)))
    return [ErrorInput(Sample((x, x, _f(xp, dtype, np.ones((3, 3))))), ValueError, r"var is of incorrect size"),
            ErrorInput(Sample((x, x, _f(xp, dtype, -np.ones((4, 3))))), ValueError, r"var has negative entr")]


def _cosine_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.standard_normal((4, 5))), _f(xp, dtype, rng.standard_normal((4, 5))),
                    _f(xp, dtype, [1, -1, 1, -1])), name="N,D"),
            Sample((_f(xp, dtype, rng.standard_normal(5)), _f(xp, dtype, rng.standard_normal(5)), _f(xp, dtype, -1)),
                   name="D")]


def _ranking_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.standard_normal(6)), _f(xp, dtype, rng.standard_normal(6)),
                    _f(xp, dtype, np.sign(rng.standard_normal(6)))))]


def _triplet_samples(xp, dtype, rng):
    return [Sample(tuple(_f(xp, dtype, rng.standard_normal((4, 6))) for _ in range(3)), name="N,D"),
            Sample(tuple(_f(xp, dtype, rng.standard_normal(6)) for _ in range(3)), name="D")]


def _multi_margin_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.standard_normal((6, 5))), _i(xp, rng.integers(0, 5, 6))), name="N,C"),
            Sample((_f(xp, dtype, rng.standard_normal(5)), _i(xp, 2)), name="unbatched")]


def _multilabel_margin_samples(xp, dtype, rng):
    t = np.array([[3, 0, -1, 1, 2], [1, 2, 3, 4, 0], [-1, 1, 1, 1, 1], [4, 4, -1, 0, 0]])
    return [Sample((_f(xp, dtype, rng.standard_normal((4, 5))), _i(xp, t)))]


def _ctc_samples(xp, dtype, rng):
    T, N, C, S = 12, 3, 5, 4
    x = rng.standard_normal((T, N, C))
    lp = x - np.log(np.exp(x).sum(-1, keepdims=True))
    t = rng.integers(1, C, (N, S))
    return [Sample((_f(xp, dtype, lp), _i(xp, t), _i(xp, [12, 10, 7]), _i(xp, [4, 2, 3])), name="padded",
                   grad_args=(0,)),
            Sample((_f(xp, dtype, lp), _i(xp, np.concatenate([t[0, :4], t[1, :1], t[2, :3]])), _i(xp, [12, 9, 8]),
                    _i(xp, [4, 1, 3])), name="concatenated", grad_args=(0,))]


def _ctc_errors(xp, dtype, rng):
    lp = _f(xp, dtype, np.log(np.full((6, 2, 4), 0.25)))
    return [ErrorInput(Sample((lp, _i(xp, [[1, 9], [1, 2]]), _i(xp, [6, 6]), _i(xp, [2, 2]))), IndexError,
                       r"CTCLoss: target 9 is out of bounds for 4 classes"),
            ErrorInput(Sample((lp, _i(xp, [[1, 2], [1, 2]]), _i(xp, [7, 6]), _i(xp, [2, 2]))), ValueError,
                       r"CTCLoss: expected input_lengths in \[0, T=6\]")]


def _asm_samples(xp, dtype, rng):
    t = rng.permutation(np.tile(np.arange(7), 2))
    return [Sample((_f(xp, dtype, rng.standard_normal((14, 6))), _i(xp, t)), name="N", grad_args=(0,)),
            Sample((_f(xp, dtype, rng.standard_normal(6)), _i(xp, 5)), name="unbatched", grad_args=(0,))]


def _asm_reference(params, x, target):
    """Head log-softmax over [shortlist (3 classes), cluster tokens]; cluster i: two bias-free projections."""
    unbatched = x.ndim == 1
    x, target = np.atleast_2d(x), np.atleast_1d(target)
    cutoffs = [3, 5, 7]

    def log_softmax(z):
        z = z - z.max(1, keepdims=True)
        return z - np.log(np.exp(z).sum(1, keepdims=True))
    head = log_softmax(x @ params["head.weight"].T)
    out = np.empty(len(target))
    for r, c in enumerate(target):
        if c < cutoffs[0]:
            out[r] = head[r, c]
            continue
        i = next(k for k in range(2) if c < cutoffs[k + 1])
        z = x[r:r + 1] @ params[f"tail.{i}.0.weight"].T @ params[f"tail.{i}.1.weight"].T
        out[r] = head[r, cutoffs[0] + i] + log_softmax(z)[0, c - cutoffs[i]]
    return (out[0] if unbatched else out), (-out.mean() if len(out) else np.nan)


def _lce_samples(xp, dtype, rng):
    return [Sample((_f(xp, dtype, rng.standard_normal((6, 4))), _i(xp, rng.integers(0, 5, 6))), name="N",
                   grad_args=(0,)),
            Sample((_f(xp, dtype, rng.standard_normal(4)), _i(xp, 2)), name="unbatched", grad_args=(0,))]


def _lce_fn_samples(xp, dtype, rng):
    x, w, b = (_f(xp, dtype, rng.standard_normal(s)) for s in ((6, 4), (5, 4), (5,)))
    return [Sample((x, w, _i(xp, rng.integers(0, 5, 6))), {"linear_bias": b}, grad_args=(0, 1)),
            Sample((x, _f(xp, dtype, rng.standard_normal((3, 2, 4))), _i(xp, rng.integers(0, 3, (6, 2)))),
                   {"reduction": "sum", "label_smoothing": 0.1}, name="K-dim", grad_args=(0, 1))]


def _lce_reference(x, w, target, linear_bias=None, reduction="mean", label_smoothing=0.0):
    logits = x @ w.reshape(-1, w.shape[-1]).T + (0 if linear_bias is None else linear_bias.reshape(-1))
    logits = logits.reshape(x.shape[:-1] + w.shape[:-1])
    return ref.cross_entropy({}, logits, target, reduction=reduction, label_smoothing=label_smoothing)


def records() -> list:
    from lamina.testing import FunctionInfo, LossInfo, ModuleInfo

    from . import (
        adaptive_softmax,
        binary,
        classification,
        ctc,
        divergence,
        linear_cross_entropy,
        margin,
        regression,
        triplet,
    )

    def info(cls, fn, sample, reference, errors=(), **kw):
        if cls is not ctc.CTCLoss:  # ctc_loss differentiates once, as PyTorch's (tests/test_losses_double_backward.py)
            kw["tags"] = frozenset(kw.get("tags", ())) | DBL
        return LossInfo(cls=cls, functional=fn, sample_inputs=sample, reference=reference, error_inputs=errors,
                        name=kw.pop("name", cls.__name__), **kw)

    return [
        info(regression.L1Loss, regression.l1_loss, _pair(), ref.l1, _shape_mismatch()),
        info(regression.MSELoss, regression.mse_loss, _pair(), ref.mse, _shape_mismatch()),
        info(regression.SmoothL1Loss, regression.smooth_l1_loss, _pair(), ref.smooth_l1, _shape_mismatch(),
             init_kwargs={"beta": 0.5}),
        info(regression.SmoothL1Loss, regression.smooth_l1_loss, _pair(), ref.smooth_l1, init_kwargs={"beta": 0.0},
             name="SmoothL1Loss[beta=0]"),
        info(regression.HuberLoss, regression.huber_loss, _pair(), ref.huber, _shape_mismatch(),
             init_kwargs={"delta": 0.7}),
        info(regression.PoissonNLLLoss, regression.poisson_nll_loss, _poisson_samples, ref.poisson_nll,
             init_kwargs={"full": True}),
        info(regression.PoissonNLLLoss, regression.poisson_nll_loss, _poisson_rate_samples, ref.poisson_nll,
             init_kwargs={"log_input": False}, name="PoissonNLLLoss[log_input=False]"),
        info(regression.GaussianNLLLoss, regression.gaussian_nll_loss, _gauss_samples, ref.gaussian_nll,
             _gauss_errors, init_kwargs={"full": True}),
        info(classification.CrossEntropyLoss, classification.cross_entropy, _class_samples, ref.cross_entropy,
             _class_errors("CrossEntropyLoss"), tags={"softmax_based"}, class_target_arg=1),
        info(classification.CrossEntropyLoss, classification.cross_entropy, _class_samples, ref.cross_entropy,
             tags={"softmax_based"}, class_target_arg=1, init_kwargs={"label_smoothing": 0.2, "ignore_index": 1},
             name="CrossEntropyLoss[smoothing,ignore_index]"),
        info(classification.CrossEntropyLoss, classification.cross_entropy, _prob_samples, ref.cross_entropy,
             tags={"softmax_based"}, init_kwargs={"label_smoothing": 0.1}, name="CrossEntropyLoss[probabilities]"),
        info(classification.NLLLoss, classification.nll_loss, _class_samples, ref.nll, _class_errors("NLLLoss"),
             class_target_arg=1),
        info(classification.NLLLoss2d, classification.nll_loss, _class_samples, ref.nll, class_target_arg=1,
             expected_failures={"no_warnings": "NLLLoss2d is deprecated and warns at construction, as in PyTorch"}),
        info(binary.BCELoss, binary.binary_cross_entropy, _bce_samples, ref.bce, _shape_mismatch()),
        info(binary.BCEWithLogitsLoss, binary.binary_cross_entropy_with_logits, _logit_samples, ref.bce_with_logits,
             _shape_mismatch()),
        info(binary.SoftMarginLoss, binary.soft_margin_loss, _sign_samples, ref.soft_margin, _shape_mismatch()),
        info(binary.MultiLabelSoftMarginLoss, binary.multilabel_soft_margin_loss, _bce_samples,
             ref.multilabel_soft_margin, _shape_mismatch()),
        # 'mean' warns as in PyTorch (use 'batchmean'); the kit's reductions are the warning-free ones
        info(divergence.KLDivLoss, divergence.kl_div, _kl_samples, ref.kl_div, _shape_mismatch(),
             reductions=("none", "sum", "batchmean"), init_kwargs={"reduction": "batchmean"}),
        info(divergence.KLDivLoss, divergence.kl_div, _kl_log_samples, ref.kl_div,
             reductions=("none", "sum", "batchmean"), init_kwargs={"reduction": "batchmean", "log_target": True},
             name="KLDivLoss[log_target]"),
        info(margin.MarginRankingLoss, margin.margin_ranking_loss, _ranking_samples, ref.margin_ranking,
             init_kwargs={"margin": 0.3}),
        info(margin.HingeEmbeddingLoss, margin.hinge_embedding_loss, _sign_samples, ref.hinge_embedding,
             _shape_mismatch(), init_kwargs={"margin": 0.7}),
        info(margin.CosineEmbeddingLoss, margin.cosine_embedding_loss, _cosine_samples, ref.cosine_embedding,
             init_kwargs={"margin": 0.1}),
        info(margin.MultiMarginLoss, margin.multi_margin_loss, _multi_margin_samples, ref.multi_margin,
             class_target_arg=1),
        info(margin.MultiMarginLoss, margin.multi_margin_loss, _multi_margin_samples, ref.multi_margin,
             class_target_arg=1, init_kwargs={"p": 2, "margin": 0.5}, name="MultiMarginLoss[p=2]"),
        info(margin.MultiLabelMarginLoss, margin.multilabel_margin_loss, _multilabel_margin_samples,
             ref.multilabel_margin),
        info(triplet.TripletMarginLoss, triplet.triplet_margin_loss, _triplet_samples, ref.triplet_margin,
             init_kwargs={"margin": 1.5, "swap": True}),
        info(triplet.TripletMarginLoss, triplet.triplet_margin_loss, _triplet_samples, ref.triplet_margin,
             init_kwargs={"p": 1.0}, name="TripletMarginLoss[p=1]"),
        info(triplet.TripletMarginWithDistanceLoss, triplet.triplet_margin_with_distance_loss, _triplet_samples,
             ref.triplet_margin_with_distance, init_kwargs={"margin": 2.0}),
        # CTC's gradient is PyTorch's (it assumes log_softmax inputs), so raw finite differences differ by exp(lp)
        info(ctc.CTCLoss, ctc.ctc_loss, _ctc_samples, ref.ctc, _ctc_errors, mean_is_weighted=True,
             tags={"no_zero_batch"},
             expected_failures={"gradcheck": "PyTorch's CTC gradient adds exp(log_probs) (cancels through "
                                             "log_softmax); checked through log_softmax in the plugin's tests"}),
        info(ctc.CTCLoss, ctc.ctc_loss, _ctc_samples, ref.ctc, init_kwargs={"zero_infinity": True, "blank": 0},
             name="CTCLoss[zero_infinity]", mean_is_weighted=True, tags={"no_zero_batch"},
             expected_failures={"gradcheck": "PyTorch's CTC gradient (see CTCLoss)"}),
        ModuleInfo(cls=linear_cross_entropy.LinearCrossEntropyLoss, init_kwargs={"in_features": 4,
                   "num_classes": 5, "bias": True, "options": linear_cross_entropy.LinearCrossEntropyOptions()},
                   sample_inputs=_lce_samples, tags=DBL, covers=(linear_cross_entropy.LinearCrossEntropyOptions,),
                   reference=lambda p, x, t: _lce_reference(x, p["linear.weight"], t, p["linear.bias"])),
        FunctionInfo(fn=linear_cross_entropy.linear_cross_entropy, sample_inputs=_lce_fn_samples,
                     reference=_lce_reference, tags=DBL),
        ModuleInfo(cls=adaptive_softmax.AdaptiveLogSoftmaxWithLoss, init_kwargs={"in_features": 6, "n_classes": 7,
                   "cutoffs": [3, 5], "div_value": 2.0}, sample_inputs=_asm_samples, reference=_asm_reference,
                   tags=DBL),
    ]

