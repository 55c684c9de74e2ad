"""``lamina.cpu.amp``: torch.cpu.amp's deprecated ``autocast`` (use ``lamina.amp.autocast('cpu')``)."""

from __future__ import annotations

from ..amp.autocast_mode import cpu_autocast as autocast

__all__ = ["autocast"]
