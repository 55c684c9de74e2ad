"""``lamina.cuda.amp``: torch.cuda.amp's deprecated ``autocast`` and ``GradScaler`` (use ``lamina.amp.*('cuda')``)."""

from __future__ import annotations

from ..amp.autocast_mode import cuda_autocast as autocast
from ..amp.grad_scaler import cuda_GradScaler as GradScaler

__all__ = ["GradScaler", "autocast"]
