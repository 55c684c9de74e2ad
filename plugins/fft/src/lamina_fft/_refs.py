"""NumPy float64 references for the kit records: stft, istft and the windows, written from their
definitions (the transforms' references are ``numpy.fft`` itself)."""

from __future__ import annotations

import numpy as np

_NP_PAD = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pairs(z: np.ndarray) -> np.ndarray:
    return np.stack((z.real, z.imag), axis=-1)


def centred(window: np.ndarray | None, win_length: int, n_fft: int) -> np.ndarray:
    w = np.ones(win_length) if window is None else np.asarray(window)
    left = (n_fft - win_length) // 2
    out = np.zeros(n_fft, dtype=w.dtype)
    out[left:left + win_length] = w
    return out


def stft_ref(x, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode="reflect",
             normalized=False, onesided=None, return_complex=None, align_to_window=None):
    """X[..., f, t] = sum_k w[k] x[t hop + k] exp(-2 pi i f k / n_fft), frames of the padded signal."""
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    x = np.asarray(x)
    if center:
        pad = n_fft // 2
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode=_NP_PAD[pad_mode])
    w = centred(window, win, n_fft)
    count = 1 + (x.shape[-1] - n_fft) // hop
    frames = np.stack([x[..., t * hop:t * hop + n_fft] for t in range(count)], axis=-2) * w
    cplx = np.iscomplexobj(x) or np.iscomplexobj(w)
    one = (not cplx) if onesided is None else onesided
    spec = np.fft.rfft(frames, axis=-1) if one else np.fft.fft(frames, axis=-1)
    if normalized:
        spec = spec / np.sqrt(n_fft)
    spec = np.swapaxes(spec, -1, -2)
    return spec if (return_complex or (return_complex is None and cplx)) else pairs(spec)


def istft_ref(spec, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
              onesided=None, length=None, return_complex=False):
    """Overlap-add of the windowed inverse DFTs of the frames, divided by the overlap-added squared window."""
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    spec = np.asarray(spec)
    frames = np.swapaxes(spec, -1, -2)
    if normalized:
        frames = frames * np.sqrt(n_fft)
    if return_complex:
        frames = np.fft.ifft(frames, n_fft, axis=-1)
    else:  # a full spectrum is cut to its one-sided half first, as torch does
        frames = np.fft.irfft(frames[..., :n_fft // 2 + 1], n_fft, axis=-1)
    w = centred(window, win, n_fft)
    count = frames.shape[-2]
    total = n_fft + hop * (count - 1)
    y = np.zeros(frames.shape[:-2] + (total,), dtype=frames.dtype)
    env = np.zeros(total, dtype=w.dtype)
    for t in range(count):
        y[..., t * hop:t * hop + n_fft] += frames[..., t, :] * w
        env[t * hop:t * hop + n_fft] += w * w
    start = n_fft // 2 if center else 0
    end = start + length if length is not None else (total - n_fft // 2 if center else total)
    y = y[..., start:min(end, total)] / env[start:min(end, total)]
    if end > total:
        y = np.concatenate([y, np.zeros(y.shape[:-1] + (end - total,), dtype=y.dtype)], axis=-1)
    return y


def window_ref(kind: str, n: int, periodic: bool = True, *params: float, **_: object) -> np.ndarray:
    """The window functions' textbook formulas (independent of windows.py's cosine-sum helper)."""
    if n <= 1:
        return np.ones(n)
    m = n + 1 if periodic else n
    k = np.arange(m)
    x = 2 * np.pi * k / (m - 1)
    if kind == "hann":
        w = 0.5 * (1 - np.cos(x))
    elif kind == "hamming":
        alpha, beta = (list(params) + [0.54, 0.46][len(params):])[:2]
        w = alpha - beta * np.cos(x)
    elif kind == "blackman":
        w = 0.42 - 0.5 * np.cos(x) + 0.08 * np.cos(2 * x)
    elif kind == "bartlett":
        w = np.where(k <= (m - 1) / 2, 2 * k / (m - 1), 2 - 2 * k / (m - 1))
    else:
        beta = params[0] if params else 12.0
        w = np.i0(beta * np.sqrt(1 - ((k - (m - 1) / 2) / ((m - 1) / 2)) ** 2)) / np.i0(beta)
    return w[:n]
