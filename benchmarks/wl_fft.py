"""lamina-fft's workloads: rfft of 2^20 float32 samples (forward; issue target <= 1.5x PyTorch), the
same with its backward, and an stft + istft round trip with gradients.

Registered in ``workloads.WORKLOADS`` (``run.py --only fft``, ``--only stft``) as::

    Workload("rfft 2^20 float32 samples (fwd)", "ms/call", wl_fft.rfft_forward, 1.5, ("fft.rfft",)),
    Workload("rfft 2^20 float32 fwd+bwd (|X|.sum())", "ms/step", wl_fft.rfft_train, None, ("fft.rfft",)),
    Workload("stft+istft 2^16 samples, n_fft 512, hann, fwd+bwd", "ms/step", wl_fft.stft_roundtrip, None,
             ("stft", "istft", "hann_window")),

Run on its own (holding the lock; the thread variables must be set before NumPy is imported)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 flock /tmp/bench.lock \
        python benchmarks/wl_fft.py --threads 1
"""

from __future__ import annotations

import os
import sys

from _bench_util import Bench, framework, inputs, to_numpy, to_tensor

N_RFFT = 1 << 20


def rfft_forward(fw: str, n: int = N_RFFT) -> Bench:
    """One rfft of n float32 samples -> n // 2 + 1 complex64 bins."""
    lib = framework(fw)
    x, _ = inputs(7, (n,))
    t = to_tensor(lib, x)

    def step() -> None:
        lib.fft.rfft(t)

    def probe():
        return to_numpy(lib.fft.rfft(t)[:64].abs())

    return Bench(step, probe)


def rfft_train(fw: str, n: int = N_RFFT) -> Bench:
    """rfft of n samples, |X|.sum(), backward (the backward is an irfft with the middle bins halved)."""
    lib = framework(fw)
    x, _ = inputs(8, (n,))
    t = to_tensor(lib, x, requires_grad=True)

    def step() -> None:
        t.grad = None
        lib.fft.rfft(t).abs().sum().backward()

    def probe():
        t.grad = None
        lib.fft.rfft(t).abs().sum().backward()
        return to_numpy(t.grad[:64])

    return Bench(step, probe)


def stft_roundtrip(fw: str, n: int = 1 << 16, n_fft: int = 512) -> Bench:
    """stft (hop n_fft / 4, hann window) then istft of 4 signals of n samples, loss sum of squares, backward."""
    lib = framework(fw)
    x, _ = inputs(9, (4, n))
    t = to_tensor(lib, x, requires_grad=True)
    w = lib.hann_window(n_fft)

    def run():
        t.grad = None
        spec = lib.stft(t, n_fft, window=w, return_complex=True)
        y = lib.istft(spec, n_fft, window=w, length=n)
        (y * y).sum().backward()
        return y

    def step() -> None:
        run()

    def probe():
        run()
        return to_numpy(t.grad[:, :64])

    return Bench(step, probe)


def _main(argv: list[str]) -> int:
    """Time lamina against torch on these workloads, interleaved, at one thread count (a fresh process)."""
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=15)
    args = p.parse_args(argv)
    import time

    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    import lamina

    lamina.set_num_threads(args.threads)
    for name, build in (("rfft 2^20 fwd", rfft_forward), ("rfft 2^20 fwd+bwd", rfft_train),
                        ("stft+istft fwd+bwd", stft_roundtrip)):
        benches = {fw: build(fw) for fw in ("lamina", "torch")}
        a, b = benches["lamina"].probe(), benches["torch"].probe()
        agree = np.allclose(a, b, rtol=1e-3, atol=1e-3 * float(np.abs(b).max()))
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
        print(f"{name:24} threads={args.threads} lamina {ml:8.3f} ms  torch {mt:8.3f} ms  ratio {ml / mt:5.2f}  "
              f"outputs agree: {agree}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(_main(sys.argv[1:]))
