"""The op families: each file holds one family's ``Function`` classes (forward and backward side by
side), the functions built on them, and a methods mixin; ``tensor.Tensor`` assembles the mixins.
"""

from __future__ import annotations

from .tensor import Tensor

__all__ = ["Tensor"]
