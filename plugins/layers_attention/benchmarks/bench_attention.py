"""lamina vs PyTorch CPU, one thread, same run: a training step (forward + backward) of
MultiheadAttention(256, 8) and TransformerEncoderLayer(256, 8, 1024) on (16, 64, 256), batch_first.

Run: python plugins/layers_attention/benchmarks/bench_attention.py   (prints the lamina/torch ratio)
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import time  # noqa: E402

import lamina  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def _median_ms(step, n: int = 10) -> float:
    step()
    step()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)) * 1e3


def _step(module, call, x):
    def run():
        for p in module.parameters():
            p.grad = None
        call(module, x).sum().backward()
    return run


def main() -> None:
    torch.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal((16, 64, 256)).astype(np.float32)
    cases = {
        "MultiheadAttention(256, 8)": (lambda nn: nn.MultiheadAttention(256, 8, batch_first=True),
                                       lambda m, a: m(a, a, a)[0]),
        "TransformerEncoderLayer(256, 8, 1024)": (lambda nn: nn.TransformerEncoderLayer(256, 8, 1024, batch_first=True),
                                                  lambda m, a: m(a)),
    }
    for name, (build, call) in cases.items():
        lam = _median_ms(_step(build(lamina.nn), call, lamina.tensor(x, requires_grad=True)))
        tor = _median_ms(_step(build(torch.nn), call, torch.tensor(x, requires_grad=True)))
        print(f"{name:40s} lamina {lam:7.1f} ms   torch {tor:7.1f} ms   ratio {lam / tor:.2f}x")


if __name__ == "__main__":
    main()
