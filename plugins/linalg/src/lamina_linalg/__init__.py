"""``lamina.linalg``: torch.linalg on LAPACK (NumPy): det, inv, solve, cholesky, qr, svd, eig*, lstsq, lu*, norms, with gradients."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"
