"""Dense workloads: per-op overhead and the MLP 784-128-64-10 (training step and inference)."""

from __future__ import annotations

from typing import Any

from _bench_util import Bench, framework, infer_bench, inputs, load_weights, to_numpy, to_tensor, train_bench

MLP_SIZES = (784, 128, 64, 10)


def op_overhead(fw: str, iters: int = 1000) -> Bench:
    """``iters`` x (a*b+c).relu().sum() + backward on 8x8: Python overhead per op, nothing else."""
    lib = framework(fw)
    x, _ = inputs(0, (3, 8, 8))
    a, b, c = (to_tensor(lib, x[i], requires_grad=True) for i in range(3))

    def step() -> None:
        for _ in range(iters):
            (a * b + c).relu().sum().backward()

    def probe():
        return to_numpy((a * b + c).relu())

    return Bench(step, probe)


def mlp(lib: Any) -> Any:
    nn = lib.nn
    s = MLP_SIZES
    return nn.Sequential(nn.Linear(s[0], s[1]), nn.ReLU(), nn.Linear(s[1], s[2]), nn.ReLU(), nn.Linear(s[2], s[3]))


def mlp_weights() -> int:
    """Number of weight-matrix entries (the GEMM work per sample is 2x this forward, 4x backward)."""
    return sum(a * b for a, b in zip(MLP_SIZES, MLP_SIZES[1:]))


def mlp_train(fw: str, batch: int) -> Bench:
    lib = framework(fw)
    model = mlp(lib)
    load_weights(lib, model, 1)
    xa, ya = inputs(2, (batch, MLP_SIZES[0]), classes=MLP_SIZES[-1])
    x, y = to_tensor(lib, xa), to_tensor(lib, ya)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    ce = lib.nn.CrossEntropyLoss()
    return train_bench(lib, model, model, lambda out: ce(out, y), opt, x)


def mlp_infer(fw: str, batch: int) -> Bench:
    lib = framework(fw)
    model = mlp(lib)
    load_weights(lib, model, 1)
    xa, _ = inputs(2, (batch, MLP_SIZES[0]))
    return infer_bench(lib, model, to_tensor(lib, xa))
