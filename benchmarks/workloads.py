"""Benchmark workloads, each written once for lamina and once for PyTorch.

A workload is a name plus two builders that return a zero-argument ``step`` callable; one call of
``step`` is one measured unit (e.g. 1,000 iterations or one training step). Add workloads here as
plugins land (MLP, ConvNet, LSTM, Transformer: see benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    name: str
    unit: str
    lamina: Callable[[], Callable[[], None]]
    torch: Callable[[], Callable[[], None]]
    target: float | None = None  # the ratio lamina/torch to stay under


def _op_overhead(lib, iters: int = 1000):
    def build():
        lib.manual_seed(0)
        a = lib.randn(8, 8, requires_grad=True)
        b = lib.randn(8, 8, requires_grad=True)
        c = lib.randn(8, 8, requires_grad=True)

        def step():
            for _ in range(iters):
                (a * b + c).relu().sum().backward()

        return step

    return build


def _lamina():
    import lamina

    return lamina


def _torch():
    import torch

    return torch


WORKLOADS = [
    Workload("op overhead: 1000x (a*b+c).relu().sum().backward() 8x8", "ms/1000 it",
             lambda: _op_overhead(_lamina())(), lambda: _op_overhead(_torch())(), target=1.5),
]
