"""Conformance records for lamina-init: distributions (CDF for the KS test), bounds and moments."""

from __future__ import annotations

import math

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


def records() -> list:
    from lamina.testing import InitInfo

    from . import basic, scaled

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
        InitInfo(fn=basic.constant_, name="constant_", configs=({"val": 0.25},),
                 bounds=lambda shape, val: (val, val), moments=lambda shape, val: (val, 0.0)),
        InitInfo(fn=basic.ones_, name="ones_", bounds=lambda shape: (1.0, 1.0)),
        InitInfo(fn=basic.zeros_, name="zeros_", bounds=lambda shape: (0.0, 0.0)),
    ]
