"""``lamina.stft`` and ``lamina.istft`` (torch's signatures, defaults, checks and warnings), composed
from differentiable pieces: padding and framing by index (``Gather``), the window product, a
one-sided or full DFT per frame, and for the inverse the overlap-add (``ScatterAdd``) divided by the
overlap-added squared window.

Shapes: stft: (B?, L) -> complex (B?, N, T), N = n_fft // 2 + 1 (onesided) or n_fft,
T = 1 + L // hop_length (center=True) or 1 + (L - n_fft) // hop_length; with return_complex=False
a real (B?, N, T, 2). istft: complex (B?, N, T) -> (B?, length or n_fft + hop_length (T - 1) - padding).
"""

from __future__ import annotations

import warnings

import lamina
import numpy as np
from lamina import Tensor
from lamina.amp import autocast_op

from ._args import torch_dtype_name
from ._framing import AsRealPairs, Frames, Gather, ScatterAdd, Windowed
from ._ops import C2C, C2R, R2C, Resize

__all__ = ["stft", "istft"]

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_index(length: int, pad: int, mode: str) -> np.ndarray:
    """Positions into x (with ``length`` standing for an appended zero) of x padded by ``pad`` each side."""
    k = np.arange(-pad, length + pad)
    if mode == "constant":
        return np.where((k >= 0) & (k < length), k, length)
    if mode == "reflect":
        period = 2 * (length - 1)
        k = np.abs(k) % period if period else np.zeros_like(k)
        return np.where(k < length, k, period - k)
    if mode == "replicate":
        return np.clip(k, 0, length - 1)
    return k % length


def _pad_signal(x: Tensor, pad: int, mode: str) -> Tensor:
    """F.pad(x, [pad, pad], mode) over the last dim, with torch's checks. x: (B, L) -> (B, L + 2 pad)"""
    length = x.shape[-1]
    if mode not in PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    shape3 = [1, 1, length] if x.shape[0] == 1 else [1] + list(x.shape)
    if mode == "reflect" and pad >= length:
        raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, but "
                           f"got: padding ({pad}, {pad}) at dimension 2 of input {shape3}")
    if mode == "circular" and pad > length:
        raise RuntimeError(f"Padding value causes wrapping around more than once (padding {pad}, input length "
                           f"{length})")
    if mode in ("reflect", "replicate") and (length == 0 or x.shape[0] == 0):
        raise RuntimeError(f"Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero "
                           f"dimensions for input, but got: {shape3}")
    if pad == 0:
        return x
    if mode == "constant":
        x = Resize.apply(x, (x.ndim - 1,), (length + 1,))
    return Gather.apply(x, _pad_index(length, pad, mode))


def _zero_pad(x: Tensor, before: int, after: int) -> Tensor:
    """x with zeros before and after along the last dim. x: (*, L) -> (*, before + L + after)"""
    length = x.shape[-1]
    idx = np.concatenate([np.full(before, length), np.arange(length), np.full(after, length)])
    return Gather.apply(Resize.apply(x, (x.ndim - 1,), (length + 1,)), idx)


def _centred_window(window: Tensor | None, win_length: int, n_fft: int, like: Tensor) -> Tensor:
    """The window zero-padded on both sides to n_fft (ones when None). Shape: (n_fft,)"""
    if window is None:
        window = lamina.ones(win_length, dtype=_real_dtype(like), device=like.device)
    if win_length == n_fft:
        return window
    left = (n_fft - win_length) // 2
    return _zero_pad(window, left, n_fft - win_length - left)


def _real_dtype(x: Tensor):
    return {"complex64": lamina.float32, "complex128": lamina.float64}.get(x.dtype.name, x.dtype)


def _frames(x: Tensor, n_fft: int, hop: int) -> Tensor:
    """Overlapping frames. x: (B, L) -> (B, T, n_fft), T = 1 + (L - n_fft) // hop"""
    return Gather.apply(x, Frames(1 + (x.shape[-1] - n_fft) // hop, n_fft, hop))


def _describe(x: Tensor) -> str:
    return f"torch.{torch_dtype_name(x)}Tensor{list(x.shape)}"


@autocast_op("fp32")
def stft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
         window: Tensor | None = None, center: bool = True, pad_mode: str = "reflect", normalized: bool = False,
         onesided: bool | None = None, return_complex: bool | None = None,
         align_to_window: bool | None = None) -> Tensor:
    """Short-time Fourier transform. Shape: (B?, L) -> complex (B?, N, T) (see the module docstring)"""
    if center and align_to_window is not None:
        raise RuntimeError("stft align_to_window should only be set when center = false")
    if not (input.is_floating_point() or input.is_complex()):
        raise RuntimeError(f"stft({_describe(input)}, n_fft={n_fft}) : expected a tensor of floating point or "
                           "complex values")
    cplx = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not cplx:
            raise RuntimeError("stft requires the return_complex parameter be given for real inputs, and will "
                               "further require that return_complex=True in a future PyTorch release.")
        return_complex = True
    if not return_complex:
        warnings.warn("stft with return_complex=False is deprecated. In a future pytorch release, stft will return "
                      "complex tensors for all inputs, and return_complex=False will raise an error.\nNote: you can "
                      "still call torch.view_as_real on the complex output to recover the old return format.",
                      UserWarning, stacklevel=2)
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied,which is known to cause "
                      "spectral leakage. Other windows such as torch.hann_window or torch.hamming_window are "
                      "recommended to reduce spectral leakage.To suppress this warning and use a rectangular window, "
                      "explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    if input.ndim not in (1, 2):
        raise RuntimeError(f"stft({_describe(input)}, n_fft={n_fft}) : expected a 1D or 2D tensor")
    x = input.reshape(1, -1) if input.ndim == 1 else input
    if center:
        x = _pad_signal(x, n_fft // 2, pad_mode)
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    length = x.shape[-1]
    where = (f"stft({_describe(x if input.ndim == 2 else x.reshape(-1))}, n_fft={n_fft}, hop_length={hop}, "
             f"win_length={win}, window={'None' if window is None else _describe(window)}, "
             f"normalized={int(normalized)}, onesided={onesided}, return_complex={int(return_complex)}, "
             f"align_to_window={align_to_window}) : ")
    if not 0 < n_fft <= length:
        raise RuntimeError(f"{where}expected 0 < n_fft < {length}, but got n_fft={n_fft}")
    if hop <= 0:
        raise RuntimeError(f"{where}expected hop_length > 0, but got hop_length={hop}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{where}expected 0 < win_length <= n_fft, but got win_length={win}")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        raise RuntimeError(f"{where}expected a 1D window tensor of size equal to win_length={win}, but got window "
                           f"with size {list(window.shape)}")
    if onesided is None:
        onesided = not cplx
    elif onesided and cplx:
        raise RuntimeError("Cannot have onesided output if window or input is complex")
    w = _centred_window(window, win, n_fft, x)
    if align_to_window:  # frames start where the window does, not where the n_fft frame does
        left = (n_fft - win) // 2
        x = _zero_pad(x, left, n_fft - win - left)
    frames = Windowed.apply(_frames(x, n_fft, hop), w)
    norm = "ortho" if normalized else "backward"
    if onesided:
        spec = R2C.apply(frames, (2,), norm, False)
    else:
        spec = C2C.apply(frames, (2,), True, norm)
    spec = spec.transpose(1, 2)
    if input.ndim == 1:
        spec = spec.reshape(spec.shape[1:])
    return spec if return_complex else AsRealPairs.apply(spec)


def istft(input: Tensor, n_fft: int, hop_length: int | None = None, win_length: int | None = None,
          window: Tensor | None = None, center: bool = True, normalized: bool = False, onesided: bool | None = None,
          length: int | None = None, return_complex: bool = False) -> Tensor:
    """Inverse short-time Fourier transform (least-squares, NOLA checked). Shape: complex (B?, N, T) -> (B?, L)"""
    if not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor matching the output from stft with "
                           "return_complex=True.")
    hop = n_fft // 4 if hop_length is None else hop_length
    win = n_fft if win_length is None else win_length
    where = (f"istft({_describe(input)}, n_fft={n_fft}, hop_length={hop}, win_length={win}, "
             f"window={'None' if window is None else _describe(window)}, center={int(center)}, "
             f"normalized={int(normalized)}, onesided={onesided}, length={length}, "
             f"return_complex={int(return_complex)}) : ")
    if window is None:
        warnings.warn("A window was not provided. A rectangular window will be applied.Please provide the same window "
                      "used by stft to make the inversion lossless.To suppress this warning and use a rectangular "
                      "window, explicitly set `window=torch.ones(n_fft, device=<device>)`.", UserWarning, stacklevel=2)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{where}expected a tensor with 3 or 4 dimensions, but got {input.ndim + 1}")
    if not 0 < win <= n_fft:
        raise RuntimeError(f"{where}expected 0 < win_length <= n_fft")
    if not 0 < hop <= win:
        raise RuntimeError(f"{where}expected 0 < hop_length <= win_length")
    if window is not None and (window.ndim != 1 or window.shape[0] != win):
        raise RuntimeError(f"{where}Invalid window shape. window has to be 1D and length of `win_length`")
    spec = input.reshape((1,) + tuple(input.shape)) if input.ndim == 2 else input
    fft_size, count = spec.shape[1], spec.shape[2]
    if onesided is None:
        onesided = fft_size != n_fft
    if onesided and fft_size != n_fft // 2 + 1:
        raise RuntimeError(f"{where}expected the frequency dimension (3rd to the last) of the input tensor to match "
                           f"n_fft / 2 + 1 when onesided=True, but got {fft_size}")
    if not onesided and fft_size != n_fft:
        raise RuntimeError(f"{where}expected the frequency dimension (3rd to the last) of the input tensor to match "
                           f"n_fft when onesided=False, but got {fft_size}")
    w = _centred_window(window, win, n_fft, spec)
    frames = spec.transpose(1, 2)  # (B, T, N)
    norm = "ortho" if normalized else "backward"
    if return_complex:
        if onesided:
            raise RuntimeError("Cannot have onesided output if window or input is complex")
        frames = C2C.apply(frames, (2,), False, norm)
    else:
        if window is not None and window.is_complex():
            raise RuntimeError("Complex windows are incompatible with return_complex=False")
        if not onesided:
            frames = Resize.apply(frames, (2,), (n_fft // 2 + 1,))
        frames = C2R.apply(frames, (2,), (n_fft,), norm, False)
    idx = Frames(count, n_fft, hop)
    expected = idx.span
    y = ScatterAdd.apply(Windowed.apply(frames, w), idx, expected)
    envelope = ScatterAdd.apply((w * w).reshape(1, n_fft).expand(count, n_fft), idx, expected)
    start = n_fft // 2 if center else 0
    if length is not None:
        end = start + length
    else:
        end = expected - n_fft // 2 if center else expected
    stop = min(end, expected)
    y, envelope = y[:, start:stop], envelope[start:stop]
    if envelope.numel() == 0:  # torch's envelope check fails on an empty signal (length=0)
        raise RuntimeError("min(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    if float(envelope.abs().min()) < 1e-11:
        raise RuntimeError(f"{where}window overlap add min: {float(envelope.abs().min()):g}")
    y = y / envelope
    if end > expected:
        warnings.warn("The length of signal is shorter than the length parameter. Result is being padded with zeros in "
                      "the tail. Please check your center and hop_length settings.", UserWarning, stacklevel=2)
        y = Resize.apply(y, (1,), (end - start,))
    return y.reshape(y.shape[1:]) if input.ndim == 2 else y
