"""Helpers shared by the workloads: pick a framework by name, load identical weights and inputs.

Everything here imports only NumPy at module level, so a process measuring one framework's memory
never imports the other framework.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass
class Bench:
    """One built workload: ``step()`` is the measured unit; ``probe()`` returns an output to compare."""

    step: Callable[[], None]
    probe: Callable[[], np.ndarray] | None = None


def framework(fw: str) -> Any:
    """The top-level module of ``fw`` ("lamina" or "torch")."""
    if fw == "torch":
        import torch

        return torch
    if fw == "lamina":
        import lamina

        return lamina
    raise ValueError(f"framework must be 'lamina' or 'torch', got {fw!r}")


def to_tensor(lib: Any, arr: np.ndarray, requires_grad: bool = False) -> Any:
    t = lib.from_numpy(np.ascontiguousarray(arr))
    if requires_grad:
        t.requires_grad_(True)
    return t


def to_numpy(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy(), dtype=np.float64)


def load_weights(lib: Any, model: Any, seed: int) -> None:
    """Overwrite every parameter with values drawn from a seeded NumPy generator.

    Names are visited in sorted order, so a lamina model and a PyTorch model with the same
    state_dict keys get bitwise-identical weights without either process importing the other.
    Matrices and kernels get PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)); vectors named
    ``weight`` (norm scales) 1 + U(-0.1, 0.1); other vectors U(-0.1, 0.1).
    """
    rng = np.random.default_rng(seed)
    params = dict(model.named_parameters())
    with lib.no_grad():
        for name in sorted(params):
            p = params[name]
            shape = tuple(p.shape)
            if len(shape) >= 2:
                bound = 1.0 / math.sqrt(math.prod(shape[1:]))
                arr = rng.uniform(-bound, bound, shape)
            elif name.endswith("weight"):
                arr = 1.0 + rng.uniform(-0.1, 0.1, shape)
            else:
                arr = rng.uniform(-0.1, 0.1, shape)
            p.copy_(lib.from_numpy(arr.astype(np.float32)))


def inputs(seed: int, shape: tuple, classes: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """A float32 batch and (optionally) int64 class targets."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    y = rng.integers(0, classes, shape[0]).astype(np.int64) if classes else None
    return x, y


def train_bench(lib: Any, model: Any, forward: Callable[[Any], Any], loss_fn: Callable[[Any], Any],
                opt: Any, x: Any) -> Bench:
    """forward, loss, backward, optimizer step, zero_grad; ``probe`` runs forward in eval/no_grad."""

    def step() -> None:
        loss = loss_fn(forward(x))
        loss.backward()
        opt.step()
        opt.zero_grad()

    def probe() -> np.ndarray:
        model.eval()
        with lib.no_grad():
            out = forward(x)
        model.train()
        return to_numpy(out)

    return Bench(step, probe)


def infer_bench(lib: Any, model: Any, x: Any) -> Bench:
    """Inference: eval mode, no_grad, one forward."""
    model.eval()

    def step() -> None:
        with lib.no_grad():
            model(x)

    def probe() -> np.ndarray:
        with lib.no_grad():
            return to_numpy(model(x))

    return Bench(step, probe)
