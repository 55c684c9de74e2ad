"""CSR under the names the rest of the plugin (and its users) know: the compressed layouts' CSR form."""

from __future__ import annotations

import lamina
from lamina import Tensor

from .compressed import SparseCsrTensor
from .compressed_convert import sparse_csr_tensor, to_compressed

__all__ = ["SparseCsrTensor", "coo_to_csr", "sparse_csr_tensor", "to_sparse_csr"]


def to_sparse_csr(self: Tensor, dense_dim: int | None = None) -> Tensor:
    """The CSR form of a 2-D dense, COO or compressed tensor."""
    return to_compressed(self, lamina.sparse_csr, None, dense_dim, "to_sparse_csr")


coo_to_csr = to_sparse_csr
