"""``lamina.amp``: automatic mixed precision (torch.amp): ``autocast``, ``GradScaler`` and the hook ops declare.

A plugin marks its op with ``@lamina.amp.autocast_op("lower_precision_fp" | "fp32" | "promote")``
(see ``lamina.autograd.autocast_state``); nothing else is needed for it to follow ``lamina.autocast``.
"""

from __future__ import annotations

from ..autograd.autocast_state import POLICIES, autocast_op, cast_inputs
from .autocast_mode import autocast, custom_bwd, custom_fwd, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["POLICIES", "GradScaler", "autocast", "autocast_op", "cast_inputs", "custom_bwd", "custom_fwd",
           "is_autocast_available"]
