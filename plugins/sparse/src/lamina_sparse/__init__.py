"""``lamina.sparse``: Sparse COO (and CSR) tensors: sparse_coo_tensor, to_sparse, torch.sparse.mm/addmm/sum/softmax, with gradients."""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"
