"""lamina-linalg's workloads: linalg.solve, inv, cholesky and svd of one 256 x 256 float32 matrix (forward;
the issue's target is <= 1.2x PyTorch), and solve with its backward.

Registered in ``workloads.WORKLOADS`` (``run.py --only linalg``) as::

    Workload("linalg.solve 256x256 float32, 256 right-hand sides", "ms/call", wl_linalg.solve, 1.2, ("linalg.solve",)),
    Workload("linalg.inv 256x256 float32", "ms/call", wl_linalg.inv, 1.2, ("linalg.inv",)),
    Workload("linalg.cholesky 256x256 float32 (SPD)", "ms/call", wl_linalg.cholesky, 1.2, ("linalg.cholesky",)),
    Workload("linalg.svd 256x256 float32 (full_matrices=False)", "ms/call", wl_linalg.svd, 1.2, ("linalg.svd",)),
    Workload("linalg.solve 256x256 float32 fwd+bwd", "ms/step", wl_linalg.solve_train, None, ("linalg.solve",)),

Run on its own (holding the lock; the thread variables must be set before NumPy is imported)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 flock /tmp/bench.lock \\
        python benchmarks/wl_linalg.py --threads 1
"""

from __future__ import annotations

import os
import sys

import numpy as np
from _bench_util import Bench, framework, to_numpy, to_tensor

N = 256


def _matrices(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A well-conditioned (randn + sqrt(n) I) and an SPD (X X^T / n + I) float32 n x n matrix, and an n x n B."""
    rng = np.random.default_rng(seed)
    A = (rng.standard_normal((n, n)) + np.sqrt(n) * np.eye(n)).astype(np.float32)
    X = rng.standard_normal((n, n))
    S = (X @ X.T / n + np.eye(n)).astype(np.float32)
    B = rng.standard_normal((n, n)).astype(np.float32)
    return A, S, B


def _call(fw: str, fn, *arrays: np.ndarray) -> Bench:
    lib = framework(fw)
    ts = [to_tensor(lib, a) for a in arrays]

    def step() -> None:
        fn(lib, *ts)

    def probe():
        out = fn(lib, *ts)
        return to_numpy(out[:8, :8] if out.ndim == 2 else out[:8])

    return Bench(step, probe)


def solve(fw: str) -> Bench:
    """X = A^-1 B, A 256 x 256, B 256 x 256."""
    A, _, B = _matrices(1)
    return _call(fw, lambda lib, a, b: lib.linalg.solve(a, b), A, B)


def inv(fw: str) -> Bench:
    """A^-1 of a 256 x 256 matrix."""
    A, _, _ = _matrices(2)
    return _call(fw, lambda lib, a: lib.linalg.inv(a), A)


def cholesky(fw: str) -> Bench:
    """Lower Cholesky factor of a 256 x 256 SPD matrix."""
    _, S, _ = _matrices(3)
    return _call(fw, lambda lib, s: lib.linalg.cholesky(s), S)


def svd(fw: str) -> Bench:
    """Thin SVD of a 256 x 256 matrix; the probe compares the singular values (vectors have free signs)."""
    A, _, _ = _matrices(4)
    return _call(fw, lambda lib, a: lib.linalg.svd(a, full_matrices=False)[1], A)


def solve_train(fw: str) -> Bench:
    """X = A^-1 B, X.sum(), backward into A and B (one more solve with A^T and a GEMM)."""
    lib = framework(fw)
    A, _, B = _matrices(5)
    a, b = to_tensor(lib, A, requires_grad=True), to_tensor(lib, B, requires_grad=True)

    def run():
        a.grad = b.grad = None
        lib.linalg.solve(a, b).sum().backward()

    def probe():
        run()
        return to_numpy(a.grad[:8, :8])

    return Bench(run, probe)


WORKLOADS = (("linalg.solve 256x256", solve), ("linalg.inv 256x256", inv), ("linalg.cholesky 256x256", cholesky),
             ("linalg.svd 256x256", svd), ("linalg.solve fwd+bwd", solve_train))


def _main(argv: list[str]) -> int:
    """Time lamina against torch on these workloads, interleaved, at one thread count (a fresh process)."""
    import argparse
    import time

    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=31)
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    import lamina

    lamina.set_num_threads(args.threads)
    for name, build in WORKLOADS:
        benches = {fw: build(fw) for fw in ("lamina", "torch")}
        a, b = benches["lamina"].probe(), benches["torch"].probe()
        agree = np.allclose(a, b, rtol=1e-3, atol=1e-3 * float(np.abs(b).max()))
        times: dict[str, list[float]] = {"lamina": [], "torch": []}
        for fw in ("lamina", "torch"):
            for _ in range(3):
                benches[fw].step()
        for _ in range(args.repeats):
            for fw in ("lamina", "torch"):
                t0 = time.perf_counter()
                benches[fw].step()
                times[fw].append(time.perf_counter() - t0)
        ml, mt = (float(np.median(times[fw])) * 1e3 for fw in ("lamina", "torch"))
        mnl, mnt = (min(times[fw]) * 1e3 for fw in ("lamina", "torch"))
        print(f"{name:26} threads={args.threads} lamina {ml:8.3f} ms  torch {mt:8.3f} ms  ratio {ml / mt:5.2f}  "
              f"(min {mnl:.3f} / {mnt:.3f} = {mnl / mnt:5.2f})  outputs agree: {agree}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(_main(sys.argv[1:]))
