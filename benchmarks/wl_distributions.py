"""lamina-distributions' workload: ``distributions.Normal(loc, scale).log_prob(x)`` on 10^6 float32
elements (construction, with the default argument validation, and log_prob with its sample check; issue
#20's target <= 1.2x PyTorch).

For ``workloads.WORKLOADS``::

    Workload("distributions.Normal(loc, scale).log_prob(x), 10^6 float32", "ms/call",
             wl_distributions.normal_log_prob, 1.2, ("distributions.Normal",)),

Run on its own (holding the lock; the thread variables must be set before NumPy is imported)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 flock /tmp/bench.lock \\
        python benchmarks/wl_distributions.py --threads 1
"""

from __future__ import annotations

import os
import sys

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


def _main(argv: list[str]) -> int:
    import argparse
    import time

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=15)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    import lamina

    lamina.set_num_threads(args.threads)
    benches = {fw: normal_log_prob(fw) for fw in ("lamina", "torch")}
    a, b = benches["lamina"].probe(), benches["torch"].probe()
    agree = np.allclose(a, b, rtol=1e-5, atol=1e-5)
    times: dict[str, list[float]] = {"lamina": [], "torch": []}
    for fw in ("lamina", "torch"):
        for _ in range(2):
            benches[fw].step()
    for _ in range(args.repeats):
        for fw in ("lamina", "torch"):
            t0 = time.perf_counter()
            benches[fw].step()
            times[fw].append(time.perf_counter() - t0)
    ml, mt = (float(np.median(times[fw])) * 1e3 for fw in ("lamina", "torch"))
    print(f"Normal.log_prob 10^6 threads={args.threads} lamina {ml:8.3f} ms  torch {mt:8.3f} ms  "
          f"ratio {ml / mt:5.2f}  outputs agree: {agree}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(_main(sys.argv[1:]))
