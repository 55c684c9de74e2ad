"""``lamina.sparse``: torch's sparse COO and 2-D compressed (CSR/CSC/BSR/BSC) tensors, and ``torch.sparse``.

``lamina.sparse_coo_tensor(indices, values, size)`` and ``Tensor.to_sparse()`` make a
:class:`SparseCooTensor` (a ``lamina.Tensor`` subclass: ``isinstance`` holds, as in torch) whose
values carry the autograd history. ``lamina.sparse.mm`` / ``addmm`` / ``sum`` / ``softmax`` /
``log_softmax`` are torch.sparse's; the top-level ``lamina.spmm``, ``smm``, ``hspmm``, ``hsmm``,
``sspaddmm``, ``saddmm``, ``dsmm`` are served through the ``lamina.functions`` entry points.
scipy.sparse computes sparse @ dense on NumPy arrays (other backends use an ``xp`` scatter).
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from ._coo import SparseCooTensor  # noqa: E402
from .compressed import (  # noqa: E402
           SparseBscTensor,
           SparseBsrTensor,
           SparseCompressedTensor,
           SparseCscTensor,
           SparseCsrTensor,
)
from .compressed_convert import (  # noqa: E402
           sparse_bsc_tensor,
           sparse_bsr_tensor,
           sparse_compressed_tensor,
           sparse_csc_tensor,
           sparse_csr_tensor,
)
from .creation import sparse_coo_tensor, sparse_mask, to_dense, to_sparse, to_sparse_coo  # noqa: E402
from .csr import to_sparse_csr  # noqa: E402
from .legacy import (  # noqa: E402
           BFloat16Tensor,
           ByteTensor,
           CharTensor,
           DoubleTensor,
           FloatTensor,
           HalfTensor,
           IntTensor,
           LongTensor,
           ShortTensor,
)
from .products import (  # noqa: E402
           addmm,
           dsmm,
           hsmm,
           hspmm,
           saddmm,
           smm,
           spmm,  # noqa: E402
           sspaddmm,
)
from .products import sparse_mm as mm  # noqa: E402
from .reductions import log_softmax, softmax, sum  # noqa: E402,A004

__all__ = ["SparseBscTensor", "SparseBsrTensor", "SparseCompressedTensor", "SparseCooTensor", "SparseCscTensor",
           "SparseCsrTensor", "addmm", "log_softmax", "mm", "softmax", "sum", "sparse_bsc_tensor", "sparse_bsr_tensor",
           "sparse_compressed_tensor", "sparse_coo_tensor", "sparse_csc_tensor", "sparse_csr_tensor"]
