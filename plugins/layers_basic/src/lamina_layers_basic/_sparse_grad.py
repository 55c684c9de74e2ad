"""The sparse weight gradient of an embedding lookup (``sparse=True``): torch's COO layout.

One entry per looked-up row, in lookup order and uncoalesced (repeated rows stay repeated);
rows equal to ``padding_idx`` are left out. indices (1, K) int64, values (K, D), size (V, D).
The values keep the memory layout of the output gradient's (K, D) view, as torch's reshape does:
torch's sparse sums merge contiguous values and concatenate the others.
The tensor is made with the public ``lamina.sparse_coo_tensor`` (lamina-sparse provides it).
"""

from __future__ import annotations

from typing import Any

import lamina
from lamina import Tensor

__lamina_plugin_api__ = "1.0"

FREQ_ERROR = "embedding_backward: scale_grad_by_freq not supported with sparse gradients"


def sparse_rows_grad(device: Any, g: Any, rows: Any, shape: tuple[int, int], padding_idx: int | None) -> Tensor:
    """COO gradient of weight (V, D) from row gradients ``g`` (K, D) (an array, or a Tensor under
    create_graph) of looked-up rows ``rows`` (K,) int."""
    xp = device.backend.xp
    if padding_idx is not None:  # (always a gather, as torch's: its rows are then contiguous)
        keep = xp.flatnonzero(rows != padding_idx)
        rows = rows[keep]
        g = g[lamina.as_tensor(keep, device=device)] if isinstance(g, Tensor) else g[keep]
    if not isinstance(g, Tensor):  # a copy (``dy`` may be shared) in its layout: the engine's sums read contiguity
        g = lamina.as_tensor(g.copy(order="K"), device=device)
    indices = lamina.as_tensor(rows.reshape(1, -1).astype(xp.int64), device=device)
    return lamina.sparse_coo_tensor(indices, g, tuple(shape))
