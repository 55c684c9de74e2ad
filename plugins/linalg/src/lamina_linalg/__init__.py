"""``lamina.linalg``: torch.linalg on LAPACK (NumPy/SciPy): det, inv, solve, cholesky, qr, svd, eig*, lstsq, lu*,
norms, with gradients (double backward where the backward is written with differentiable ops).

CPU tensors only (the numerics are NumPy/SciPy LAPACK). Families: ``solve`` (inv, solve, triangular),
``det``, ``cholesky``, ``qr`` (and Householder products), ``svd`` (and pinv, rank), ``eig``, ``lstsq``,
``lu`` (and LDL), ``norms``, ``products`` (matmul, multi_dot, cross, matrix_power, matrix_exp, ...).
"""

from __future__ import annotations

__lamina_plugin_api__ = "1.0"

from ._common import LinAlgError
from .cholesky import cholesky, cholesky_ex
from .det import det, slogdet
from .eig import eig, eigh, eigvals, eigvalsh
from .lstsq import lstsq
from .lu import ldl_factor, ldl_factor_ex, ldl_solve, lu, lu_factor, lu_factor_ex, lu_solve
from .norms import cond, matrix_norm, norm, vector_norm
from .products import cross, diagonal, matmul, matrix_exp, matrix_power, multi_dot, vander, vecdot
from .qr import householder_product, qr
from .solve import inv, inv_ex, solve, solve_ex, solve_triangular, tensorinv, tensorsolve
from .svd import matrix_rank, pinv, svd, svdvals

__all__ = [
    "LinAlgError", "cholesky", "cholesky_ex", "cond", "cross", "det", "diagonal", "eig", "eigh", "eigvals",
    "eigvalsh", "householder_product", "inv", "inv_ex", "ldl_factor", "ldl_factor_ex", "ldl_solve", "lstsq", "lu",
    "lu_factor", "lu_factor_ex", "lu_solve", "matmul", "matrix_exp", "matrix_norm", "matrix_power", "matrix_rank",
    "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "solve_ex", "solve_triangular", "svd", "svdvals",
    "tensorinv", "tensorsolve", "vander", "vecdot", "vector_norm",
]
