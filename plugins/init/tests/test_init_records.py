"""Statistical checks driven by the InitInfo records: KS test, moments, bounds (fixed seeds)."""

from __future__ import annotations

import math

import lamina
import numpy as np
import pytest
from lamina.testing import InitInfo
from lamina_init.testing import records
from scipy import stats

N_KS = 20000  # samples per KS test (>= 1e4)
CASES = [(r, shape, cfg) for r in records() if isinstance(r, InitInfo) for shape in r.shapes for cfg in r.configs]


def _draw(rec, shape, cfg, dtype, seed):
    """At least N_KS samples: repeat the draw on fresh tensors of ``shape`` with one generator."""
    g = lamina.Generator().manual_seed(seed)
    out = []
    while sum(a.size for a in out) < N_KS:
        t = lamina.empty(*shape, dtype=dtype)
        rec.fn(t, **cfg, **({"generator": g} if "generator" in rec.fn.__code__.co_varnames else {}))
        out.append(np.asarray(t.array, dtype=np.float64).ravel())
    return np.concatenate(out)


@pytest.mark.parametrize("rec,shape,cfg", CASES, ids=[f"{r.name}-{s}-{c}" for r, s, c in CASES])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_distribution(rec, shape, cfg, dtype):
    x = _draw(rec, shape, cfg, getattr(lamina, dtype), seed=1234)
    if rec.cdf is not None:
        res = stats.kstest(x, lambda v: rec.cdf(v, shape, **cfg))
        assert res.pvalue > 1e-3, f"{rec.name}{cfg} on {shape}: KS statistic {res.statistic:.4g}, p={res.pvalue:.3g}"
    if rec.bounds is not None:
        lo, hi = rec.bounds(shape, **cfg)
        tol = 1e-6 * max(1.0, abs(lo), abs(hi))
        assert x.min() >= lo - tol and x.max() <= hi + tol, f"{rec.name}: samples outside [{lo}, {hi}]"
    if rec.moments is not None:
        mean, std = rec.moments(shape, **cfg)
        se = max(std, 1e-12) / math.sqrt(x.size)
        assert abs(x.mean() - mean) < 6 * se + 1e-7, f"{rec.name}: mean {x.mean()} vs {mean}"
        assert abs(x.std() - std) < 0.03 * std + 1e-7, f"{rec.name}: std {x.std()} vs {std}"


def test_ks_catches_a_wrong_distribution():
    """The KS harness can fail: normal samples are rejected against the uniform record's CDF."""
    uniform = next(r for r in records() if r.name == "uniform_")
    x = np.random.default_rng(0).standard_normal(N_KS)
    assert stats.kstest(x, lambda v: uniform.cdf(v, (10,))).pvalue < 1e-6


@pytest.mark.parametrize("a,b", [(-2.0, 2.0), (3.0, 5.0), (-6.0, -4.0), (0.5, 0.6), (-30.0, 30.0)])
def test_trunc_normal_exact_in_tails(a, b):
    t = lamina.empty(N_KS, dtype=lamina.float64)
    lamina.nn.init.trunc_normal_(t, a=a, b=b, generator=lamina.Generator().manual_seed(3))
    x = t.array
    assert x.min() >= a and x.max() <= b
    assert stats.kstest(x, stats.truncnorm(a, b).cdf).pvalue > 1e-3
