"""``lamina.fft``: torch.fft (NumPy pocketfft), stft/istft and the window functions, with gradients.

The namespace holds torch.fft's 22 public functions; ``stft``, ``istft`` and the window functions
are top-level names (``lamina.stft``, ``lamina.hann_window``, ...) served from ``spectral`` and
``windows`` through the ``lamina.functions`` entry points.
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from .helpers import fftfreq, fftshift, ifftshift, rfftfreq  # noqa: E402
from .transforms import (  # noqa: E402
    fft,
    fft2,
    fftn,
    hfft,
    hfft2,
    hfftn,
    ifft,
    ifft2,
    ifftn,
    ihfft,
    ihfft2,
    ihfftn,
    irfft,
    irfft2,
    irfftn,
    rfft,
    rfft2,
    rfftn,
)

__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift",
           "ifftshift"]
