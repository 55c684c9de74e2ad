"""torch's top-level linear-algebra names (``lamina.det``, ``lamina.svd``, ...) and their ``Tensor`` methods,
served through the ``lamina.functions`` / ``lamina.tensor_methods`` entry points. Each is the linalg
function or torch's older form of it (``svd`` returns V, ``qr`` takes ``some``, ``lu`` returns packed LU)."""

from __future__ import annotations

from lamina import Tensor
from lamina.amp import autocast_op

from .cholesky import cholesky_inverse, cholesky_solve
from .cholesky import top_cholesky as cholesky
from .det import det as _det
from .det import logdet
from .det import top_slogdet as slogdet
from .legacy import eig, lstsq, matrix_rank, solve, symeig, triangular_solve
from .lobpcg import lobpcg
from .lowrank import pca_lowrank, svd_lowrank
from .lu import lu_unpack
from .lu import top_lu as lu
from .lu import top_lu_solve as lu_solve
from .norms import frobenius_norm, nuclear_norm
from .products import chain_matmul
from .products import matrix_exp as _matrix_exp
from .products import matrix_power as _matrix_power
from .products import top_cross as cross
from .qr import geqrf, orgqr, ormqr
from .qr import top_qr as qr
from .solve import inv
from .svd import pinverse
from .svd import top_svd as svd


def det(input: Tensor) -> Tensor:
    """torch.det: linalg.det. Shape: (*, n, n) -> (*)"""
    return _det(input)


@autocast_op("fp32")
def inverse(input: Tensor, *, out: None = None) -> Tensor:
    """torch.inverse: linalg.inv. Shape: (*, n, n) -> (*, n, n)"""
    return inv(input, out=out)


def matrix_power(input: Tensor, n: int) -> Tensor:
    """torch.matrix_power: linalg.matrix_power."""
    return _matrix_power(input, n)


def matrix_exp(input: Tensor) -> Tensor:
    """torch.matrix_exp: linalg.matrix_exp."""
    return _matrix_exp(input)


__all__ = [
    "chain_matmul", "cholesky", "cholesky_inverse", "cholesky_solve", "cross", "det", "eig", "frobenius_norm",
    "geqrf", "inverse", "lobpcg", "logdet", "lstsq", "lu", "lu_solve", "lu_unpack", "matrix_exp", "matrix_power",
    "matrix_rank", "nuclear_norm", "orgqr", "ormqr", "pca_lowrank", "pinverse", "qr", "slogdet", "solve",
    "svd", "svd_lowrank", "symeig", "triangular_solve",
]
