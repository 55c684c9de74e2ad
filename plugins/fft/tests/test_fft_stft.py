"""stft and istft against torch: values, dtypes, shapes and the gradients of the signal, the
spectrogram and the window over the options (n_fft odd/even, hop, win_length, center and pad modes,
normalized, onesided, return_complex, align_to_window, length, batched, complex inputs and windows);
warnings, errors (torch's messages), the round trip, gradcheck/gradgradcheck, lamina.stft and
Tensor.stft/istft."""

from __future__ import annotations

import warnings

import lamina
import numpy as np
import pytest
from _fft_parity import compare, host, random, torch_error
from lamina.testing import gradcheck, gradgradcheck
from lamina_fft._framing import AsRealPairs, FromRealPairs

torch = pytest.importorskip("torch")


def _quiet(fn):
    """torch's own warnings (rectangular window, deprecations) are not under test here."""
    def call(*a):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*a)
    return call


STFT = [
    dict(n_fft=16),
    dict(n_fft=16, hop_length=3),
    dict(n_fft=15, hop_length=4, win_length=11),
    dict(n_fft=16, win_length=10, center=False),
    dict(n_fft=16, win_length=9, center=False, align_to_window=True),
    dict(n_fft=16, win_length=9, center=False, align_to_window=False),
    dict(n_fft=12, pad_mode="constant"),
    dict(n_fft=12, pad_mode="replicate", normalized=True),
    dict(n_fft=12, pad_mode="circular", onesided=False),
    dict(n_fft=8, hop_length=8, normalized=True, onesided=False),
    dict(n_fft=9, hop_length=2, center=False),
]


@pytest.mark.parametrize("kw", STFT, ids=[",".join(f"{k}={v}" for k, v in kw.items()) for kw in STFT])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batched", [False, True])
def test_stft_matches_torch_with_signal_and_window_gradients(kw, dtype, batched):
    rng = np.random.default_rng(len(kw))
    x = random(rng, (2, 50) if batched else (50,), dtype)
    w = random(rng, (kw.get("win_length", kw["n_fft"]),), dtype)
    compare(lambda a, b: lamina.stft(a, window=b, return_complex=True, **kw),
            lambda a, b: torch.stft(a, window=b, return_complex=True, **kw), [x, w], rng, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stft_of_complex_signals_and_windows_is_two_sided(dtype):
    rng = np.random.default_rng(2)
    x, w = random(rng, (40,), dtype, True), random(rng, (12,), dtype)
    compare(lambda a, b: lamina.stft(a, 12, 3, window=b), lambda a, b: torch.stft(a, 12, 3, window=b), [x, w], rng,
            dtype)
    x, w = random(rng, (2, 40), dtype), random(rng, (12,), dtype, True)
    compare(lambda a, b: lamina.stft(a, 12, window=b), lambda a, b: torch.stft(a, 12, window=b), [x, w], rng, dtype)


def test_stft_without_window_warns_and_uses_ones():
    rng = np.random.default_rng(3)
    x = random(rng, (40,), "float64")
    with pytest.warns(UserWarning, match="A window was not provided. A rectangular window will be applied"):
        got = lamina.stft(lamina.tensor(x), 8, return_complex=True)
    exp = _quiet(lambda: torch.stft(torch.tensor(x), 8, return_complex=True))()
    np.testing.assert_allclose(host(got), host(exp), atol=1e-12)


def test_stft_real_pairs_output_is_deprecated_as_in_torch():
    rng = np.random.default_rng(4)
    x, w = random(rng, (40,), "float32"), random(rng, (8,), "float32")
    with pytest.warns(UserWarning, match="stft with return_complex=False is deprecated"):
        got = lamina.stft(lamina.tensor(x), 8, window=lamina.tensor(w), return_complex=False)
    exp = _quiet(lambda: torch.stft(torch.tensor(x), 8, window=torch.tensor(w), return_complex=False))()
    assert got.dtype == lamina.float32 and tuple(got.shape) == tuple(exp.shape)
    np.testing.assert_allclose(host(got), host(exp), rtol=1e-5, atol=1e-5)


def _spec(rng, n_fft, hop, window, onesided=True, batch=None, center=True):
    x = rng.standard_normal((batch, 60) if batch else (60,))
    return host(torch.stft(torch.tensor(x), n_fft, hop, window=torch.tensor(window), return_complex=True,
                           onesided=onesided, center=center))


ISTFT = [
    dict(n_fft=16), dict(n_fft=16, length=50), dict(n_fft=16, hop_length=3), dict(n_fft=16, center=False),
    dict(n_fft=16, normalized=True), dict(n_fft=16, onesided=False, two_sided=True),
    dict(n_fft=16, return_complex=True, two_sided=True), dict(n_fft=15, hop_length=5, win_length=12),
    dict(n_fft=16, batch=3),
]


@pytest.mark.parametrize("kw", ISTFT, ids=[",".join(f"{k}={v}" for k, v in kw.items()) for kw in ISTFT])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_istft_matches_torch_with_spectrogram_and_window_gradients(kw, dtype):
    kw = dict(kw)
    two_sided, batch = kw.pop("two_sided", False), kw.pop("batch", None)
    rng = np.random.default_rng(7)
    win = kw.get("win_length", kw["n_fft"])
    w = (np.hanning(win) + 0.1).astype(dtype)
    full = np.zeros(kw["n_fft"])
    left = (kw["n_fft"] - win) // 2
    full[left:left + win] = w
    spec = _spec(rng, kw["n_fft"], kw.get("hop_length", kw["n_fft"] // 4), full, not two_sided, batch,
                 kw.get("center", True))
    if not kw.get("center", True):
        # uncentred frames leave the signal's first and last samples without window overlap: a nonzero window
        w = w + 0.5
    spec = spec.astype(np.complex64 if dtype == "float32" else np.complex128)
    compare(lambda a, b: lamina.istft(a, window=b, **kw), lambda a, b: torch.istft(a, window=b, **kw), [spec, w],
            rng, dtype)


def test_istft_length_beyond_the_signal_pads_with_torchs_warning():
    rng = np.random.default_rng(8)
    w = np.hanning(16) + 0.1
    spec = _spec(rng, 16, 4, w)
    with pytest.warns(UserWarning, match="The length of signal is shorter than the length parameter"):
        got = lamina.istft(lamina.tensor(spec), 16, window=lamina.tensor(w), length=80)
    exp = _quiet(lambda: torch.istft(torch.tensor(spec), 16, window=torch.tensor(w), length=80))()
    np.testing.assert_allclose(host(got), host(exp), atol=1e-12)
    with pytest.warns(UserWarning, match="A window was not provided"):
        lamina.istft(lamina.tensor(spec), 16)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_round_trip_reconstructs_the_signal(dtype):
    rng = np.random.default_rng(9)
    x = lamina.tensor(random(rng, (2, 100), dtype))
    w = lamina.hann_window(32, dtype=getattr(lamina, dtype))
    y = x.stft(32, 8, window=w, return_complex=True).istft(32, 8, window=w, length=100)
    assert y.dtype == x.dtype
    np.testing.assert_allclose(host(y), host(x), atol=1e-5 if dtype == "float32" else 1e-12)


def test_stft_gradcheck_and_gradgradcheck_in_float64():
    rng = np.random.default_rng(10)
    x = lamina.tensor(rng.standard_normal(30), requires_grad=True)
    w = lamina.tensor(rng.standard_normal(8), requires_grad=True)

    def fn(a, b):
        return AsRealPairs.apply(lamina.stft(a, 8, 3, window=b, return_complex=True, pad_mode="reflect"))
    assert gradcheck(fn, (x, w))
    assert gradgradcheck(fn, (x, w))


def test_istft_gradcheck_and_gradgradcheck_in_float64():
    rng = np.random.default_rng(11)
    w0 = np.hanning(8) + 0.3
    spec = lamina.tensor(AsRealPairs.apply(lamina.tensor(_spec(rng, 8, 2, w0)[:, :12])).numpy(), requires_grad=True)
    w = lamina.tensor(w0, requires_grad=True)

    def fn(s, b):
        return lamina.istft(FromRealPairs.apply(s), 8, 2, window=b)
    assert gradcheck(fn, (spec, w))
    assert gradgradcheck(fn, (spec, w), fast_mode=True)


STFT_ERRORS = [
    (lambda m, x, w: m.stft(x, 16)),
    (lambda m, x, w: m.stft(x, 0, window=w, return_complex=True)),
    (lambda m, x, w: m.stft(x, 200, window=w, return_complex=True)),
    (lambda m, x, w: m.stft(x, 200, window=w, center=False, return_complex=True)),
    (lambda m, x, w: m.stft(x, 16, hop_length=0, window=w, return_complex=True)),
    (lambda m, x, w: m.stft(x, 16, win_length=20, return_complex=True, window=w)),
    (lambda m, x, w: m.stft(x, 16, window=w[:10], return_complex=True)),
    (lambda m, x, w: m.stft(x.reshape(2, 5, 10), 4, window=w[:4], return_complex=True)),
    (lambda m, x, w: m.stft(x[:5], 16, window=w, return_complex=True)),
    (lambda m, x, w: m.stft(x, 16, window=w, onesided=True, return_complex=True, pad_mode="constant") if False
     else m.stft(x.to(m.complex64), 16, window=w, onesided=True)),
    (lambda m, x, w: m.stft(x, 16, window=w, pad_mode="bad", return_complex=True)),
    (lambda m, x, w: m.stft(x, 16, window=w, align_to_window=True, return_complex=True)),
    (lambda m, x, w: m.stft((x * 0).long(), 16, window=w, return_complex=True)),
    (lambda m, x, w: m.stft(x.reshape(1, 100)[:0], 16, window=w, return_complex=True)),  # a zero batch, reflect
]


@pytest.mark.parametrize("call", STFT_ERRORS, ids=[str(i) for i in range(len(STFT_ERRORS))])
def test_stft_errors_match_torch(call):
    x, w = np.random.default_rng(12).standard_normal(100).astype(np.float32), np.ones(16, dtype=np.float32)
    etype, msg = _quiet(lambda: torch_error(lambda: call(torch, torch.tensor(x), torch.tensor(w))))()
    with pytest.raises(etype) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        call(lamina, lamina.tensor(x), lamina.tensor(w))
    got = str(info.value).splitlines()[0]
    assert got.split(" : ")[-1] == msg.split(" : ")[-1], (got, msg)


ISTFT_ERRORS = [
    (lambda m, s, w: m.istft(s.real, 16, window=w)),
    (lambda m, s, w: m.istft(s, 16, window=w, return_complex=True)),
    (lambda m, s, w: m.istft(s, 16, window=w, onesided=False)),
    (lambda m, s, w: m.istft(s, 15, window=w[:15])),
    (lambda m, s, w: m.istft(s, 16, window=w, center=False)),
    (lambda m, s, w: m.istft(s[None, None], 16, window=w)),
    (lambda m, s, w: m.istft(s, 16, hop_length=20, window=w)),
    (lambda m, s, w: m.istft(s, 16, win_length=20, window=w)),
    (lambda m, s, w: m.istft(s, 16, window=w[:8])),
    (lambda m, s, w: m.istft(s, 16, window=w, length=0)),
]


@pytest.mark.parametrize("call", ISTFT_ERRORS, ids=[str(i) for i in range(len(ISTFT_ERRORS))])
def test_istft_errors_match_torch(call):
    w = torch.hann_window(16)
    spec = host(torch.stft(torch.randn(100, generator=torch.Generator().manual_seed(0)), 16, window=w,
                           return_complex=True))
    etype, msg = _quiet(lambda: torch_error(lambda: call(torch, torch.tensor(spec), w)))()
    with pytest.raises(etype) as info:
        call(lamina, lamina.tensor(spec), lamina.tensor(host(w)))
    got = str(info.value).splitlines()[0]
    if "window overlap add min" in msg:
        assert "window overlap add min" in got
    else:
        assert got.split(" : ")[-1] == msg.split(" : ")[-1], (got, msg)


def test_served_as_lamina_functions_and_tensor_methods():
    from lamina_fft import spectral

    assert lamina.stft is spectral.stft and lamina.istft is spectral.istft
    x = lamina.randn(64)
    w = lamina.hann_window(16)
    s = x.stft(16, window=w, return_complex=True)
    np.testing.assert_array_equal(host(s), host(lamina.stft(x, 16, window=w, return_complex=True)))
    np.testing.assert_allclose(host(s.istft(16, window=w, length=64)), host(x), atol=1e-5)
