"""What the kit cannot express about lamina-init (the kit runs every record, KS tests included, in
test_init_kit.py): trunc_normal_ stays exact far into the tails and in intervals away from zero."""

from __future__ import annotations

import lamina
import pytest
from scipy import stats

N_KS = 20000  # samples per KS test (>= 1e4)


@pytest.mark.parametrize("a,b", [(-2.0, 2.0), (3.0, 5.0), (-6.0, -4.0), (0.5, 0.6), (-30.0, 30.0)])
def test_trunc_normal_exact_in_tails(a, b):
    t = lamina.empty(N_KS, dtype=lamina.float64)
    lamina.nn.init.trunc_normal_(t, a=a, b=b, generator=lamina.Generator().manual_seed(3))
    x = t.array
    assert x.min() >= a and x.max() <= b
    assert stats.kstest(x, stats.truncnorm(a, b).cdf).pvalue > 1e-3
