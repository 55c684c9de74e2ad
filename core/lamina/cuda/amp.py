"""``lamina.cuda.amp``: torch.cuda.amp's deprecated ``autocast`` (use ``lamina.amp.autocast('cuda')``)."""

from __future__ import annotations

from ..amp.autocast_mode import cuda_autocast as autocast

__all__ = ["autocast"]
