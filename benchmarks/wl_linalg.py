"""lamina-linalg's workloads: linalg.solve, inv, cholesky and svd of one 256 x 256 float32 matrix (forward;
the issue's target is <= 1.2x PyTorch), and solve with its backward.

Registered in ``workloads.WORKLOADS`` (``run.py --only linalg``) as::

    Workload("linalg.solve 256x256 float32, 256 right-hand sides", "ms/call", wl_linalg.solve, 1.2, ("linalg.solve",)),
    Workload("linalg.inv 256x256 float32", "ms/call", wl_linalg.inv, 1.2, ("linalg.inv",)),
    Workload("linalg.cholesky 256x256 float32 (SPD)", "ms/call", wl_linalg.cholesky, 1.2, ("linalg.cholesky",)),
    Workload("linalg.svd 256x256 float32 (full_matrices=False)", "ms/call", wl_linalg.svd, 1.2, ("linalg.svd",)),
    Workload("linalg.solve 256x256 float32 fwd+bwd", "ms/step", wl_linalg.solve_train, None, ("linalg.solve",)),

Run with ``python benchmarks/run.py --only <row>``.
"""

from __future__ import annotations

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
