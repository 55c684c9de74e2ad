"""``lamina.distributions``: torch.distributions: every distribution, transform and constraint, kl_divergence and its registry."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"
