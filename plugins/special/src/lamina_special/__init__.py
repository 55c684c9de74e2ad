"""``lamina.special``: torch.special and the top-level erf/erfinv/lgamma/digamma/polygamma/i0/... on scipy.special, with gradients."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"
