"""Conformance records for lamina-init: distributions (CDF for the KS test), bounds, moments, exact
references for the deterministic schemes, and the gain table and fans as NumPy float64 references."""

from __future__ import annotations

import math

import numpy as np

__lamina_plugin_api__ = "1.0"


def _fans(shape: tuple[int, ...]) -> tuple[int, int]:
    rf = math.prod(shape[2:])
    return shape[1] * rf, shape[0] * rf


def _uniform_cdf(lo: float, hi: float):
    from scipy import stats

    return stats.uniform(loc=lo, scale=hi - lo).cdf


def _normal_cdf(mean: float, std: float):
    from scipy import stats

    return stats.norm(loc=mean, scale=std).cdf


def _kaiming_std(shape, a=0, mode="fan_in", nonlinearity="leaky_relu"):
    from .fan import calculate_gain

    fan_in, fan_out = _fans(shape)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def _xavier_std(shape, gain=1.0):
    fan_in, fan_out = _fans(shape)
    return gain * math.sqrt(2.0 / (fan_in + fan_out))


def _trunc(shape, mean=0.0, std=1.0, a=-2.0, b=2.0):
    from scipy import stats

    return stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)


_SHAPES = ((128, 96), (32, 16, 5), (16, 8, 3, 3), (8, 4, 3, 3, 2))
_FAN_SHAPES = ((7, 3), (6, 4, 5), (8, 3, 3, 2), (4, 2, 3, 3, 3), (5, 0, 3))

#: the recommended gains, written out independently of fan.py
_GAIN_TABLE = {**dict.fromkeys(("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                                "conv_transpose3d", "sigmoid"), 1.0),
               "tanh": 5.0 / 3.0, "relu": float(np.sqrt(2.0)), "selu": 0.75}


def ref_gain(nonlinearity, param=None):
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return float(np.sqrt(2.0 / (1.0 + slope**2)))
    return _GAIN_TABLE[nonlinearity]


def ref_fans(x, mode=None):
    """(fan_in, fan_out) of an array's shape, or the one ``mode`` names."""
    rf = int(np.prod(x.shape[2:], dtype=np.int64))
    fans = (x.shape[1] * rf, x.shape[0] * rf)
    return fans if mode is None else fans[("fan_in", "fan_out").index(mode.lower())]


def ref_eye(shape):
    return np.eye(*shape)


def ref_dirac(shape, groups=1):
    out = np.zeros(shape)
    per_group = shape[0] // groups
    centre = tuple(s // 2 for s in shape[2:])
    for g in range(groups):
        for d in range(min(per_group, shape[1])):
            out[(g * per_group + d, d, *centre)] = 1.0
    return out


def _orthogonal_n(shape):
    """Rows or columns (whichever are longer) of the flattened matrix are Haar-uniform on the sphere S^(n-1)."""
    rows = shape[0]
    return max(rows, math.prod(shape) // rows)


def _orthogonal_cdf(x, shape, gain=1.0):
    """A coordinate of a uniform point on S^(n-1) is 2B - 1 with B ~ Beta((n-1)/2, (n-1)/2); scaled by gain."""
    from scipy import stats

    a = (_orthogonal_n(shape) - 1) / 2
    return stats.beta(a, a).cdf((np.asarray(x) / gain + 1) / 2)


def _sparse_std(shape, sparsity, std=0.01):
    """Exactly ceil(sparsity * rows) zeros per column, the rest N(0, std^2): variance (1 - zeros/rows) std^2."""
    zeros = math.ceil(sparsity * shape[0])
    return std * math.sqrt(1 - zeros / shape[0])


def _array_samples(shapes, **kwargs):
    def fn(xp, dtype, rng):
        from lamina.testing import Sample

        return [Sample((xp.asarray(rng.standard_normal(s), dtype=dtype),), dict(kw), name=f"{s}{kw or ''}",
                       grad_args=())
                for s in shapes for kw in (kwargs.get("variants") or ({},))]

    return fn


def _init_errors(*cases):
    """Init error inputs: (shape, kwargs, match); the kit builds a tensor of ``shape``."""
    def fn(xp, dtype, rng):
        from lamina.testing import ErrorInput, Sample

        return [ErrorInput(Sample((shape,), kwargs), ValueError, match) for shape, kwargs, match in cases]

    return fn


def _fan_errors(extra=(), **kwargs):
    def fn(xp, dtype, rng):
        from lamina.testing import ErrorInput, Sample

        few = r"Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got {} dimensions"
        out = [ErrorInput(Sample((xp.zeros(s, dtype=dtype),), kwargs), ValueError, few.format(len(s)))
               for s in ((5,), ())]
        return out + [ErrorInput(Sample((xp.zeros((4, 3), dtype=dtype),), kw), ValueError, m) for kw, m in extra]

    return fn


def _gain_samples(xp, dtype, rng):
    from lamina.testing import Sample

    return [*(Sample((name,), name=name) for name in (*_GAIN_TABLE, "leaky_relu")),
            *(Sample(("leaky_relu", p), name=f"leaky_relu-{p}") for p in (0.2, 0, 1, 3, -0.5)),
            Sample(("leaky_relu",), {"param": 0.3}, name="leaky_relu-param=0.3")]


def _gain_errors(xp, dtype, rng):
    from lamina.testing import ErrorInput, Sample

    return [ErrorInput(Sample(("swish",)), ValueError,
                       r"calculate_gain: unsupported nonlinearity 'swish'; valid ones: linear, .*leaky_relu, selu"),
            ErrorInput(Sample(("leaky_relu", "x")), ValueError,
                       r"calculate_gain: param \(negative_slope\) must be a number, got 'x'"),
            ErrorInput(Sample(("leaky_relu", True)), ValueError, r"must be a number, got True")]


def records() -> list:
    """The schemes' records, then the same records for the deprecated aliases (``uniform`` for ``uniform_``...)."""
    import dataclasses

    from .deprecated import DEPRECATED

    current = _records()
    by_name = {r.name: r for r in current}
    return current + [dataclasses.replace(by_name[old + "_"], fn=fn, name=old) for old, fn in DEPRECATED.items()]


def _records() -> list:
    from lamina.testing import FunctionInfo, InitInfo

    from . import basic, fan, scaled, structured

    k_bound = lambda shape, **kw: (-math.sqrt(3) * _kaiming_std(shape, **kw), math.sqrt(3) * _kaiming_std(shape, **kw))
    x_bound = lambda shape, **kw: (-math.sqrt(3) * _xavier_std(shape, **kw), math.sqrt(3) * _xavier_std(shape, **kw))
    kaiming_cfgs = ({}, {"a": 0.2}, {"mode": "fan_out", "nonlinearity": "relu"}, {"nonlinearity": "tanh"})
    return [
        InitInfo(fn=basic.uniform_, name="uniform_", configs=({}, {"a": -3.0, "b": 5.0}),
                 cdf=lambda x, shape, a=0.0, b=1.0: _uniform_cdf(a, b)(x),
                 bounds=lambda shape, a=0.0, b=1.0: (a, b),
                 moments=lambda shape, a=0.0, b=1.0: ((a + b) / 2, (b - a) / math.sqrt(12))),
        InitInfo(fn=basic.normal_, name="normal_", configs=({}, {"mean": 2.0, "std": 0.5}),
                 cdf=lambda x, shape, mean=0.0, std=1.0: _normal_cdf(mean, std)(x),
                 moments=lambda shape, mean=0.0, std=1.0: (mean, std)),
        InitInfo(fn=basic.trunc_normal_, name="trunc_normal_",
                 configs=({}, {"mean": 1.0, "std": 2.0, "a": -1.0, "b": 4.0}, {"a": 3.0, "b": 5.0}),
                 cdf=lambda x, shape, **kw: _trunc(shape, **kw).cdf(x),
                 bounds=lambda shape, mean=0.0, std=1.0, a=-2.0, b=2.0: (a, b),
                 moments=lambda shape, **kw: (_trunc(shape, **kw).mean(), _trunc(shape, **kw).std())),
        InitInfo(fn=scaled.xavier_uniform_, name="xavier_uniform_", shapes=_SHAPES, configs=({}, {"gain": 2.0}),
                 cdf=lambda x, shape, **kw: _uniform_cdf(*x_bound(shape, **kw))(x), bounds=x_bound,
                 moments=lambda shape, **kw: (0.0, _xavier_std(shape, **kw))),
        InitInfo(fn=scaled.xavier_normal_, name="xavier_normal_", shapes=_SHAPES, configs=({}, {"gain": 0.5}),
                 cdf=lambda x, shape, **kw: _normal_cdf(0.0, _xavier_std(shape, **kw))(x),
                 moments=lambda shape, **kw: (0.0, _xavier_std(shape, **kw))),
        InitInfo(fn=scaled.kaiming_uniform_, name="kaiming_uniform_", shapes=_SHAPES, configs=kaiming_cfgs,
                 cdf=lambda x, shape, **kw: _uniform_cdf(*k_bound(shape, **kw))(x), bounds=k_bound,
                 moments=lambda shape, **kw: (0.0, _kaiming_std(shape, **kw))),
        InitInfo(fn=scaled.kaiming_normal_, name="kaiming_normal_", shapes=_SHAPES, configs=kaiming_cfgs,
                 cdf=lambda x, shape, **kw: _normal_cdf(0.0, _kaiming_std(shape, **kw))(x),
                 moments=lambda shape, **kw: (0.0, _kaiming_std(shape, **kw))),
        InitInfo(fn=basic.constant_, name="constant_", configs=({"val": 0.25}, {"val": -3.125}),
                 bounds=lambda shape, val: (val, val),
                 moments=lambda shape, val: (val, 0.0), reference=lambda shape, val: np.full(shape, val)),
        InitInfo(fn=basic.ones_, name="ones_", bounds=lambda shape: (1.0, 1.0), reference=np.ones),
        InitInfo(fn=basic.zeros_, name="zeros_", bounds=lambda shape: (0.0, 0.0), reference=np.zeros),
        InitInfo(fn=structured.eye_, name="eye_", shapes=((5, 5), (3, 7), (8, 2)), reference=ref_eye,
                 bounds=lambda shape: (0.0, 1.0),
                 error_inputs=_init_errors(((2, 2, 2), {}, r"eye_: only tensors with 2 dimensions are supported, "
                                                         r"got 3 dimensions"))),
        InitInfo(fn=structured.dirac_, name="dirac_", shapes=((6, 4, 3), (4, 6, 3, 3), (8, 2, 3, 2, 4), (6, 6, 2, 2)),
                 configs=({}, {"groups": 2}), reference=ref_dirac, bounds=lambda shape, groups=1: (0.0, 1.0),
                 error_inputs=_init_errors(
                     ((4, 4), {}, r"dirac_: only tensors with 3, 4, or 5 dimensions are supported, got 2 dimensions"),
                     ((4, 4, 3), {"groups": 3}, r"dirac_: groups must be a positive divisor of dim 0 \(4\), got 3"),
                     ((4, 4, 3), {"groups": 0}, r"dirac_: groups must be a positive divisor of dim 0 \(4\), got 0"))),
        InitInfo(fn=structured.orthogonal_, name="orthogonal_",
                 shapes=((64, 32), (32, 64), (40, 40), (16, 4, 3, 3), (6, 4, 2, 2, 2)), configs=({}, {"gain": 2.0}),
                 cdf=_orthogonal_cdf, bounds=lambda shape, gain=1.0: (-gain, gain),
                 moments=lambda shape, gain=1.0: (0.0, gain / math.sqrt(_orthogonal_n(shape))),
                 error_inputs=_init_errors(((4,), {}, r"orthogonal_: only tensors with 2 or more dimensions are "
                                                      r"supported, got 1 dimensions"))),
        # the zeros are an atom (no KS test against a continuous CDF); the moments include them
        InitInfo(fn=structured.sparse_, name="sparse_", shapes=((100, 40), (7, 300)),
                 configs=({"sparsity": 0.1}, {"sparsity": 0.5, "std": 0.2}, {"sparsity": 0.0, "std": 1.0}),
                 moments=lambda shape, **kw: (0.0, _sparse_std(shape, **kw)),
                 error_inputs=_init_errors(
                     ((4, 4, 4), {"sparsity": 0.5}, r"sparse_: only tensors with 2 dimensions are supported, "
                                                    r"got 3 dimensions"),
                     ((4, 4), {"sparsity": 1.5}, r"sparse_: sparsity must be a number in \[0, 1\], got 1.5"),
                     ((4, 4), {"sparsity": 0.5, "std": -1.0}, r"sparse_: std must be a number >= 0, got -1.0"))),
        # the gain table and the fans compare exactly (rtol = atol = 0)
        FunctionInfo(fn=fan.calculate_gain, name="calculate_gain", dtypes=("float64",), rtol=0.0, atol=0.0,
                     sample_inputs=_gain_samples, reference=ref_gain, error_inputs=_gain_errors),
        FunctionInfo(fn=fan._calculate_fan_in_and_fan_out, name="_calculate_fan_in_and_fan_out", rtol=0.0, atol=0.0,
                     sample_inputs=_array_samples(_FAN_SHAPES), reference=ref_fans, error_inputs=_fan_errors()),
        FunctionInfo(fn=fan._calculate_correct_fan, name="_calculate_correct_fan", rtol=0.0, atol=0.0,
                     sample_inputs=_array_samples(_FAN_SHAPES, variants=({"mode": "fan_in"}, {"mode": "fan_out"},
                                                                         {"mode": "Fan_Out"})),
                     reference=ref_fans,
                     error_inputs=_fan_errors(extra=(({"mode": "fan_avg"}, r"_calculate_correct_fan: mode must be "
                                                                           r"'fan_in' or 'fan_out', got 'fan_avg'"),),
                                              mode="fan_out")),
    ]
