"""lamina-distributions' workload: ``distributions.Normal(loc, scale).log_prob(x)`` on 10^6 float32
elements (construction, with the default argument validation, and log_prob with its sample check; issue
#20's target <= 1.2x PyTorch).

For ``workloads.WORKLOADS``::

    Workload("distributions.Normal(loc, scale).log_prob(x), 10^6 float32", "ms/call",
             wl_distributions.normal_log_prob, 1.2, ("distributions.Normal",)),

Run with ``python benchmarks/run.py --only <row>``.
"""

from __future__ import annotations

import numpy as np
from _bench_util import Bench, framework, to_numpy, to_tensor

N = 10 ** 6


def normal_log_prob(fw: str, n: int = N) -> Bench:
    """Normal(loc, scale).log_prob(x) with loc, scale and x of n float32 elements each (scale in [0.5, 2))."""
    lib = framework(fw)
    rng = np.random.default_rng(20)
    loc = to_tensor(lib, rng.standard_normal(n).astype(np.float32))
    scale = to_tensor(lib, rng.uniform(0.5, 2.0, n).astype(np.float32))
    x = to_tensor(lib, rng.standard_normal(n).astype(np.float32))

    def step() -> None:
        lib.distributions.Normal(loc, scale).log_prob(x)

    def probe():
        return to_numpy(lib.distributions.Normal(loc, scale).log_prob(x)[:4096])

    return Bench(step, probe)
