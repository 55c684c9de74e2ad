"""``lamina.cpu.amp``: torch.cpu.amp's deprecated ``autocast`` and ``GradScaler`` (use ``lamina.amp.*('cpu')``)."""

from __future__ import annotations

from ..amp.autocast_mode import cpu_autocast as autocast
from ..amp.grad_scaler import cpu_GradScaler as GradScaler

__all__ = ["GradScaler", "autocast"]
