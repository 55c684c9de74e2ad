"""lamina-fft's workloads: rfft of 2^20 float32 samples (forward; issue target <= 1.5x PyTorch), the
same with its backward, and an stft + istft round trip with gradients.

Registered in ``workloads.WORKLOADS`` (``run.py --only fft``, ``--only stft``) as::

    Workload("rfft 2^20 float32 samples (fwd)", "ms/call", wl_fft.rfft_forward, 1.5, ("fft.rfft",)),
    Workload("rfft 2^20 float32 fwd+bwd (|X|.sum())", "ms/step", wl_fft.rfft_train, None, ("fft.rfft",)),
    Workload("stft+istft 2^16 samples, n_fft 512, hann, fwd+bwd", "ms/step", wl_fft.stft_roundtrip, None,
             ("stft", "istft", "hann_window")),

Run with ``python benchmarks/run.py --only <row>``.
"""

from __future__ import annotations

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
