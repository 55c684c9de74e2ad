"""Conformance records for activations, dropout, embedding, reshaping and distance layers.

``records_activations()`` is merged into the plugin's ``records()`` (``testing.py``), which holds
the spatial layers' records. References are NumPy float64; samples avoid the kinks of piecewise
functions so that float64 gradchecks are meaningful.
"""

from __future__ import annotations

import math

import numpy as np
from lamina.testing import ErrorInput, FunctionInfo, ModuleInfo, Sample

_EXTREME = np.array([-1e4, -88.0, -20.0, -0.7, 0.6, 21.0, 88.0, 1e4])  # 21: Softplus switches form at 20
_SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)
_DB = frozenset({"double_backward"})  # gradgradcheck applies


def _sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -x))


def _erf(x):
    from scipy.special import erf

    return erf(x)


def _softplus(x, beta=1.0, threshold=20.0):
    z = x * beta
    return np.where(z > threshold, x, np.logaddexp(0.0, np.minimum(z, threshold)) / beta)


def _elu(x, alpha=1.0, scale=1.0, input_scale=1.0):
    return np.where(x > 0, scale * x, scale * alpha * np.expm1(np.minimum(x, 0) * input_scale))


def _glu(x, dim=-1):
    a, b = np.split(x, 2, axis=dim)
    return a * _sigmoid(b)


def _tanh_gelu(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def _logsumexp(x, axis, keepdims):
    from scipy.special import logsumexp

    return logsumexp(x, axis=axis, keepdims=keepdims)


def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _prelu(x, w):
    wb = w.reshape([1] * x.ndim) if w.size == 1 else w.reshape((1, -1) + (1,) * (x.ndim - 2))
    return np.where(x > 0, x, wb * x)


# name -> NumPy reference taking the init / functional kwargs
ACTIVATIONS = {
    "ReLU": lambda x: np.maximum(x, 0),
    "ReLU6": lambda x: np.clip(x, 0, 6),
    "LeakyReLU": lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
    "ELU": lambda x, alpha=1.0: _elu(x, alpha),
    "SELU": lambda x: _elu(x, _SELU[0], _SELU[1]),
    "CELU": lambda x, alpha=1.0: _elu(x, alpha, 1.0, 1.0 / alpha),
    "GELU": (lambda x, approximate="none": _tanh_gelu(x) if approximate == "tanh" else
             0.5 * x * (1 + _erf(x / math.sqrt(2)))),
    "SiLU": lambda x: x * _sigmoid(x),
    "Mish": lambda x: x * np.tanh(np.logaddexp(0.0, x)),
    "Hardtanh": lambda x, min_val=-1.0, max_val=1.0: np.clip(x, min_val, max_val),
    "Hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "Hardsigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "Threshold": lambda x, threshold=0.1, value=20.0: np.where(x > threshold, x, value),
    "Sigmoid": _sigmoid,
    "Tanh": np.tanh,
    "Softplus": _softplus,
    "Softsign": lambda x: x / (1 + np.abs(x)),
    "Softshrink": lambda x, lambd=0.5: np.where(x > lambd, x - lambd, np.where(x < -lambd, x + lambd, 0)),
    "Hardshrink": lambda x, lambd=0.5: np.where(np.abs(x) > lambd, x, 0),
    "Tanhshrink": lambda x: x - np.tanh(x),
    "LogSigmoid": lambda x: -np.logaddexp(0.0, -x),
    "GLU": _glu,
    "Softmax": _softmax,
    "LogSoftmax": lambda x, dim: x - _logsumexp(x, axis=dim, keepdims=True),
    "Softmin": lambda x, dim: _softmax(-x, dim),
    "Softmax2d": lambda x: _softmax(x, -3),
}

# module -> (init kwargs variants, functional name or None, input shape)
MODULE_CONFIGS = {
    "ReLU": ([{}, {"inplace": True}], None, (4, 6)),
    "ReLU6": ([{}], "relu6", (4, 6)),
    "LeakyReLU": ([{}, {"negative_slope": 0.2}], "leaky_relu", (4, 6)),
    "ELU": ([{}, {"alpha": 0.5}], "elu", (4, 6)),
    "SELU": ([{}], "selu", (4, 6)),
    "CELU": ([{"alpha": 1.5}], "celu", (4, 6)),
    "GELU": ([{}, {"approximate": "tanh"}], "gelu", (4, 6)),
    "SiLU": ([{}, {"inplace": True}], "silu", (4, 6)),
    "Mish": ([{}], "mish", (4, 6)),
    "Hardtanh": ([{}, {"min_val": -2.0, "max_val": 1.5}], "hardtanh", (4, 6)),
    "Hardswish": ([{}], "hardswish", (4, 6)),
    "Hardsigmoid": ([{}], "hardsigmoid", (4, 6)),
    "Threshold": ([{"threshold": 0.1, "value": 20.0}], "threshold", (4, 6)),
    "Sigmoid": ([{}], None, (4, 6)),
    "Tanh": ([{}], None, (4, 6)),
    "Softplus": ([{}, {"beta": 2.0, "threshold": 5.0}], "softplus", (4, 6)),
    "Softsign": ([{}], "softsign", (4, 6)),
    "Softshrink": ([{}, {"lambd": 0.3}], "softshrink", (4, 6)),
    "Hardshrink": ([{}], "hardshrink", (4, 6)),
    "Tanhshrink": ([{}], "tanhshrink", (4, 6)),
    "LogSigmoid": ([{}], "logsigmoid", (4, 6)),
    "GLU": ([{}, {"dim": 1}], "glu", (4, 6)),
    "Softmax": ([{"dim": 1}, {"dim": -1}], None, (3, 4, 5)),
    "LogSoftmax": ([{"dim": 1}], None, (3, 4, 5)),
    "Softmin": ([{"dim": 0}], None, (3, 4, 5)),
    "Softmax2d": ([{}], None, (2, 3, 4, 5)),
}

_KINKS = {"Hardtanh": (-1.0, 1.0, -2.0, 1.5), "ReLU6": (0.0, 6.0), "Hardswish": (-3.0, 3.0),
          "Hardsigmoid": (-3.0, 3.0), "Threshold": (0.1,), "Softshrink": (-0.5, 0.5, -0.3, 0.3),
          "Hardshrink": (-0.5, 0.5)}


def _away_from(x: np.ndarray, kinks) -> np.ndarray:
    """Move samples that sit within 1e-3 of a kink (finite differences straddle it otherwise)."""
    for k in (0.0, *kinks):
        near = np.abs(x - k) < 1e-3
        x = np.where(near, k + 0.01, x)
    return x


def _act_samples(name: str, shape: tuple, kwargs: dict):
    def samples(xp, dtype, rng):
        x = _away_from(rng.standard_normal(shape) * 3, _KINKS.get(name, ()))
        out = [Sample((xp.asarray(x, dtype=dtype),), name="normal")]
        ext_shape = {"Softmax2d": (1, 2, 2, 2), "Softmax": (2, 2, 2), "LogSoftmax": (2, 2, 2),
                     "Softmin": (2, 2, 2)}.get(name, (2, 4))
        out.append(Sample((xp.asarray(_EXTREME.reshape(ext_shape), dtype=dtype),), name="extreme"))
        return out

    return samples


def _module_ref(name: str, kwargs: dict):
    ref = ACTIVATIONS[name]
    kw = {k: v for k, v in kwargs.items() if k != "inplace"}
    return lambda params, x: ref(x, **kw)


def _fn_ref(name: str):
    ref = ACTIVATIONS[name]
    return lambda x, **kw: ref(x, **{k: v for k, v in kw.items() if k != "inplace"})


def _activation_records(L, F) -> list:
    out = []
    for name, (variants, fname, shape) in MODULE_CONFIGS.items():
        for kw in variants:
            tags = {"double_backward"} | ({"batch_independent"} if kw.get("dim") != 0 else set())
            if kw.get("inplace"):
                tags.add("inplace")
            out.append(ModuleInfo(cls=getattr(L, name), init_kwargs=dict(kw), name=f"{name}{kw or ''}",
                                  sample_inputs=_act_samples(name, shape, kw), reference=_module_ref(name, kw),
                                  tags=frozenset(tags)))
        if fname is not None:
            kw = {k: v for k, v in variants[-1].items() if k != "inplace"}
            out.append(FunctionInfo(fn=getattr(F, fname), name=fname, sample_inputs=_with_kwargs(
                _act_samples(name, shape, kw), kw), reference=_fn_ref(name), tags=frozenset({"double_backward"})))
    return out


def _with_kwargs(samples_fn, kwargs):
    def samples(xp, dtype, rng):
        return [Sample(s.args, dict(kwargs), s.name) for s in samples_fn(xp, dtype, rng)]

    return samples


def _randn(*shapes, scale=1.0, kwargs=None, ints=None):
    """Samples of standard-normal float arrays (and fixed int arrays ``ints``) with ``kwargs``."""

    def samples(xp, dtype, rng):
        args = [xp.asarray(rng.standard_normal(s) * scale, dtype=dtype) for s in shapes]
        if ints is not None:
            args = [xp.asarray(np.asarray(i, dtype=np.int64)) for i in ints] + args
        return [Sample(tuple(args), dict(kwargs or {}))]

    return samples


def _err(args_fn, error_type, match, init_kwargs=None, kwargs=None):
    """An ErrorInput factory: ``args_fn(xp)`` builds the call's arrays."""
    return lambda xp: ErrorInput(Sample(args_fn(xp), dict(kwargs or {})), error_type, match, init_kwargs)


def _errors(*factories):
    return lambda xp, dtype, rng: [f(xp) for f in factories]


def _dropout_ref(x, p=0.5, training=True, inplace=False):
    return x  # only used where no mask is drawn (eval, or p = 0)


def _embedding_ref(idx, weight, padding_idx=None):
    return weight[idx]


def _embedding_fn_samples(idx):
    """F.embedding without padding_idx (gradcheck of the weight), then with a padding_idx that occurs in
    the indices: forward only, since by design (as in PyTorch) that row gets no gradient."""
    def samples(xp, dtype, rng):
        w = rng.standard_normal((10, 4))
        return [Sample((xp.asarray(idx), xp.asarray(w, dtype=dtype)), name="plain"),
                Sample((xp.asarray(idx), xp.asarray(w, dtype=dtype)), {"padding_idx": 3}, name="padding_idx",
                       grad_args=())]
    return samples


def _bag_ref(idx, weight, offsets=None, mode="mean", per_sample_weights=None, padding_idx=None, **_):
    rows = weight[idx] if per_sample_weights is None else weight[idx] * per_sample_weights[..., None]
    if offsets is None:
        bags = [(rows[b], idx[b]) for b in range(idx.shape[0])]
    else:
        ends = list(offsets[1:]) + [len(idx)]
        bags = [(rows[s:e], idx[s:e]) for s, e in zip(offsets, ends)]
    out = []
    for r, i in bags:
        r = r[i != padding_idx] if padding_idx is not None else r
        out.append(np.zeros(weight.shape[1]) if len(r) == 0 else
                   {"sum": r.sum(0), "mean": r.mean(0) if len(r) else 0, "max": r.max(0)}[mode])
    return np.stack(out)


def _pixel_shuffle_ref(x, r):
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def _pixel_unshuffle_ref(x, r):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // r, r, w // r, r).transpose(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h // r, w // r)


def _channel_shuffle_ref(x, g):
    n, c = x.shape[:2]
    return x.reshape(n, g, c // g, *x.shape[2:]).swapaxes(1, 2).reshape(x.shape)


def _cos_ref(x1, x2, dim=1, eps=1e-8):
    n1 = np.maximum(np.linalg.norm(x1, axis=dim, keepdims=True), eps)
    n2 = np.maximum(np.linalg.norm(x2, axis=dim, keepdims=True), eps)
    return ((x1 / n1) * (x2 / n2)).sum(axis=dim)


def _pdist_ref(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return np.linalg.norm(x1 - x2 + eps, ord=p, axis=-1, keepdims=keepdim)


def more_records(L, F) -> list:
    """PReLU, RReLU, dropout, embedding, reshaping and distance records."""
    M, Fn = ModuleInfo, FunctionInfo
    x46 = (4, 6)
    idx = np.array([[1, 3, 0], [4, 4, 9]])
    flat_idx, offsets = np.array([1, 3, 0, 4, 4, 9, 2]), np.array([0, 2, 2, 5])
    drop_tags = frozenset({"random", "train_eval_differ", "double_backward"})
    bad_p = _err(lambda xp: (), ValueError, r"dropout probability has to be between 0 and 1, but got 1\.5",
                 init_kwargs={"p": 1.5})

    def idx_samples(ids, *shapes, kwargs=None, ints=()):
        def samples(xp, dtype, rng):
            floats = tuple(xp.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes)
            return [Sample((xp.asarray(ids),) + floats + tuple(xp.asarray(i) for i in ints), dict(kwargs or {}))]
        return samples

    no_pad_grad = {"gradcheck": "the padding_idx row gets no gradient by design (as in PyTorch)"}

    recs = [
        M(cls=L.PReLU, init_kwargs={"num_parameters": 3}, sample_inputs=_randn((2, 3, 4), scale=3.0),
          reference=lambda params, x: _prelu(x, params["weight"]), tags=_DB,
          error_inputs=_errors(_err(lambda xp: (xp.ones((2, 4, 5), dtype="float32"),), ValueError,
                                    r"prelu: expected weight with 1 or 4 .*got 3"))),
        M(cls=L.PReLU, sample_inputs=_randn((5, 2), scale=3.0), reference=lambda params, x: _prelu(x, params["weight"]),
          tags=_DB, name="PReLU(1)"),
        Fn(fn=F.prelu, sample_inputs=_randn((2, 3, 4), (3,), scale=3.0), reference=_prelu,
           tags=_DB),
        M(cls=L.RReLU, sample_inputs=_randn(x46, scale=3.0), tags=drop_tags),
        Fn(fn=F.rrelu, sample_inputs=_randn(x46, scale=3.0, kwargs={"training": False}),
           reference=lambda x, training=False: np.where(x > 0, x, x * (1 / 8 + 1 / 3) / 2),
           tags=_DB),
        M(cls=L.Dropout, init_kwargs={"p": 0.3}, sample_inputs=_randn((8, 16)), tags=drop_tags,
          error_inputs=_errors(bad_p)),
        M(cls=L.Dropout1d, sample_inputs=_randn((4, 6, 5)), tags=drop_tags, error_inputs=_errors(
            _err(lambda xp: (xp.ones((2, 3, 4, 5), dtype="float32"),), ValueError, r"dropout1d: expected 2D"), bad_p)),
        M(cls=L.Dropout2d, sample_inputs=_randn((4, 6, 3, 3)), tags=drop_tags, error_inputs=_errors(bad_p)),
        M(cls=L.Dropout3d, sample_inputs=_randn((2, 6, 2, 3, 3)), tags=drop_tags, error_inputs=_errors(bad_p)),
        M(cls=L.AlphaDropout, init_kwargs={"p": 0.2}, sample_inputs=_randn((8, 16)), tags=drop_tags,
          error_inputs=_errors(bad_p)),
    ]
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"):
        shape = {"dropout1d": (4, 6, 5), "dropout2d": (4, 6, 3, 3), "dropout3d": (2, 6, 2, 3, 3)}.get(name, (8, 16))
        recs.append(Fn(fn=getattr(F, name), name=f"{name}(eval)", reference=_dropout_ref,
                       sample_inputs=_randn(shape, kwargs={"p": 0.4, "training": False}),
                       tags=_DB))
    emb_err = _errors(
        _err(lambda xp: (xp.asarray(np.array([[1, 10]])),), IndexError,
             r"Embedding: index 10 is out of range.*\[0, 9\]"),
        _err(lambda xp: (xp.asarray(np.array([-1])),), IndexError, r"Embedding: index -1 is out of range"),
        _err(lambda xp: (xp.ones((2,), dtype="float32"),), TypeError, r"Embedding: expected indices of dtype int64"),
        _err(lambda xp: (), ValueError, r"padding_idx must be within num_embeddings",
             init_kwargs={"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 10}))
    recs += [
        M(cls=L.Embedding, init_kwargs={"num_embeddings": 10, "embedding_dim": 4}, sample_inputs=idx_samples(idx),
          reference=lambda params, i: params["weight"][i], error_inputs=emb_err, tags=_DB),
        M(cls=L.Embedding, init_kwargs={"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 4},
          sample_inputs=idx_samples(idx), reference=lambda params, i: params["weight"][i], name="Embedding(padding)",
          expected_failures=no_pad_grad, tags=_DB),
        Fn(fn=F.embedding, sample_inputs=_embedding_fn_samples(idx), reference=_embedding_ref, tags=_DB),
        M(cls=L.EmbeddingBag, init_kwargs={"num_embeddings": 10, "embedding_dim": 4, "mode": "sum"},
          sample_inputs=idx_samples(flat_idx, ints=(offsets,)),
          reference=lambda params, i, offsets: _bag_ref(i, params["weight"], offsets, "sum"),
          error_inputs=_errors(_err(lambda xp: (xp.asarray(flat_idx),), ValueError, r"offsets has to be a 1D")),
          tags=_DB),
        M(cls=L.EmbeddingBag, init_kwargs={"num_embeddings": 10, "embedding_dim": 4, "mode": "max"},
          sample_inputs=idx_samples(idx), reference=lambda params, i: _bag_ref(i, params["weight"], None, "max"),
          name="EmbeddingBag(max)", tags=_DB),
        M(cls=L.EmbeddingBag, init_kwargs={"num_embeddings": 10, "embedding_dim": 4, "padding_idx": 4},
          sample_inputs=idx_samples(idx), name="EmbeddingBag(mean, padding)",  # padding rows leave the bag: true grad 0
          reference=lambda params, i: _bag_ref(i, params["weight"], None, "mean", padding_idx=4), tags=_DB),
        Fn(fn=F.embedding_bag, sample_inputs=idx_samples(flat_idx, (10, 4), kwargs={"mode": "mean"}, ints=(offsets,)),
           reference=lambda i, w, offsets, mode: _bag_ref(i, w, offsets, mode), tags=_DB),
        Fn(fn=F.one_hot, sample_inputs=lambda xp, dtype, rng: [Sample((xp.asarray(idx),), {"num_classes": 10})],
           reference=lambda i, num_classes: np.eye(num_classes, dtype=np.int64)[i], dtypes=("int64",)),
        M(cls=L.Flatten, sample_inputs=_randn((2, 3, 4, 5)), reference=lambda params, x: x.reshape(2, -1),
          tags=frozenset({"double_backward", "batch_independent"})),
        M(cls=L.Unflatten, init_kwargs={"dim": 1, "unflattened_size": (2, 6)}, sample_inputs=_randn((3, 12)),
          reference=lambda params, x: x.reshape(3, 2, 6), tags=frozenset({"double_backward", "batch_independent"})),
        M(cls=L.PixelShuffle, init_kwargs={"upscale_factor": 2}, sample_inputs=_randn((2, 8, 3, 4)),
          reference=lambda params, x: _pixel_shuffle_ref(x, 2), tags=_DB,
          error_inputs=_errors(_err(lambda xp: (xp.ones((1, 5, 2, 2), dtype="float32"),), ValueError,
                                    r"pixel_shuffle: expected the channel dimension \(size\(-3\)=5\)"))),
        Fn(fn=F.pixel_shuffle, sample_inputs=_randn((2, 8, 3, 4), kwargs={"upscale_factor": 2}),
           reference=lambda x, upscale_factor: _pixel_shuffle_ref(x, upscale_factor), tags=_DB),
        M(cls=L.PixelUnshuffle, init_kwargs={"downscale_factor": 2}, sample_inputs=_randn((2, 3, 4, 6)),
          reference=lambda params, x: _pixel_unshuffle_ref(x, 2), tags=_DB,
          error_inputs=_errors(_err(lambda xp: (xp.ones((1, 1, 3, 4), dtype="float32"),), ValueError,
                                    r"pixel_unshuffle: expected height and width divisible"))),
        Fn(fn=F.pixel_unshuffle, sample_inputs=_randn((2, 3, 4, 6), kwargs={"downscale_factor": 2}),
           reference=lambda x, downscale_factor: _pixel_unshuffle_ref(x, downscale_factor), tags=_DB),
        M(cls=L.ChannelShuffle, init_kwargs={"groups": 3}, sample_inputs=_randn((2, 6, 3)),
          reference=lambda params, x: _channel_shuffle_ref(x, 3), tags=_DB,
          error_inputs=_errors(_err(lambda xp: (xp.ones((1, 5, 2), dtype="float32"),), ValueError,
                                    r"channel_shuffle: expected the number of channels \(5\) to be divisible"))),
        Fn(fn=F.channel_shuffle, sample_inputs=_randn((2, 6, 3), kwargs={"groups": 2}),
           reference=lambda x, groups: _channel_shuffle_ref(x, groups), tags=_DB),
        M(cls=L.CosineSimilarity, sample_inputs=_randn((4, 5, 3), (4, 5, 3)),
          reference=lambda params, a, b: _cos_ref(a, b),
          tags=frozenset({"double_backward", "batch_independent"})),
        Fn(fn=F.cosine_similarity, sample_inputs=_randn((4, 5), (1, 5), kwargs={"dim": -1}), reference=_cos_ref,
           tags=_DB),
        M(cls=L.PairwiseDistance, init_kwargs={"p": 3.0}, sample_inputs=_randn((4, 5), (4, 5)),
          reference=lambda params, a, b: _pdist_ref(a, b, 3.0),
          tags=frozenset({"double_backward", "batch_independent"})),
        Fn(fn=F.pairwise_distance, sample_inputs=_randn((4, 5), (4, 5), kwargs={"keepdim": True}),
           reference=_pdist_ref, tags=_DB),
    ]
    return recs


def records_activations() -> list:
    """Info records for every part-B component (modules and F.* forms)."""
    import lamina.nn as L
    import lamina.nn.functional as F

    return _activation_records(L, F) + more_records(L, F)
