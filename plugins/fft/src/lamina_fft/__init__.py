"""``lamina.fft``: torch.fft (NumPy pocketfft), stft/istft and the window functions, with gradients."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"
