"""torch's older top-level linear-algebra forms: triangular_solve, and the names torch 2.x keeps only to
raise a removal error (eig, symeig, solve, lstsq, matrix_rank), with torch's messages."""

from __future__ import annotations

from lamina import Tensor
from lamina.amp import autocast_op

from . import _ops as O
from ._common import check_cpu, check_float, check_matrix, check_square, no_out, result_type, warn_once

_REMOVED = "This function was deprecated since version 1.9 and is now removed. "

_MESSAGES = {
    "eig": _REMOVED + "`torch.linalg.eig` returns complex tensors of dtype `cfloat` or `cdouble` rather than real "
    "tensors mimicking complex tensors.\n\nL, _ = torch.eig(A) should be replaced with:\nL_complex = "
    "torch.linalg.eigvals(A)\n\nand\n\nL, V = torch.eig(A, eigenvectors=True) should be replaced with:\n"
    "L_complex, V_complex = torch.linalg.eig(A)",
    "symeig": _REMOVED + "The default behavior has changed from using the upper triangular portion of the matrix by "
    "default to using the lower triangular portion.\n\nL, _ = torch.symeig(A, upper=upper) should be replaced "
    "with:\nL = torch.linalg.eigvalsh(A, UPLO='U' if upper else 'L')\n\nand\n\nL, V = torch.symeig(A, "
    "eigenvectors=True) should be replaced with:\nL, V = torch.linalg.eigh(A, UPLO='U' if upper else 'L')",
    "solve": _REMOVED + "`torch.solve` is deprecated in favor of `torch.linalg.solve`. `torch.linalg.solve` has its "
    "arguments reversed and does not return the LU factorization.\n\nTo get the LU factorization see `torch.lu`, "
    "which can be used with `torch.lu_solve` or `torch.lu_unpack`.\nX = torch.solve(B, A).solution should be "
    "replaced with:\nX = torch.linalg.solve(A, B)",
    "lstsq": _REMOVED + "`torch.lstsq` is deprecated in favor of `torch.linalg.lstsq`.\n`torch.linalg.lstsq` has "
    "reversed arguments and does not return the QR decomposition in the returned tuple (although it returns other "
    "information about the problem).\n\nTo get the QR decomposition consider using `torch.linalg.qr`.\n\nThe "
    "returned solution in `torch.lstsq` stored the residuals of the solution in the last m - n columns of the "
    "returned value whenever m > n. In torch.linalg.lstsq, the residuals are in the field 'residuals' of the "
    "returned named tuple.\n\nThe unpacking of the solution, as in\nX, _ = torch.lstsq(B, A).solution[:A.size(1)]"
    "\nshould be replaced with:\nX = torch.linalg.lstsq(A, B).solution",
    "matrix_rank": _REMOVED.rstrip() + "\nPlease use the `torch.linalg.matrix_rank` function instead. The parameter "
    "'symmetric' was renamed in `torch.linalg.matrix_rank()` to 'hermitian'.",
}


def eig(*args, **kwargs):
    """Removed in torch 1.9: raises, pointing to linalg.eig / linalg.eigvals."""
    raise RuntimeError(_MESSAGES["eig"])


def symeig(*args, **kwargs):
    """Removed in torch 1.9: raises, pointing to linalg.eigh / linalg.eigvalsh."""
    raise RuntimeError(_MESSAGES["symeig"])


def solve(*args, **kwargs):
    """Removed in torch 1.9: raises, pointing to linalg.solve."""
    raise RuntimeError(_MESSAGES["solve"])


def lstsq(*args, **kwargs):
    """Removed in torch 1.9: raises, pointing to linalg.lstsq."""
    raise RuntimeError(_MESSAGES["lstsq"])


def matrix_rank(*args, **kwargs):
    """Removed in torch 1.9: raises, pointing to linalg.matrix_rank."""
    raise RuntimeError(_MESSAGES["matrix_rank"])


@autocast_op("fp32")
def triangular_solve(b: Tensor, A: Tensor, upper: bool = True, transpose: bool = False,
                     unitriangular: bool = False, *, out: None = None):
    """torch.triangular_solve (deprecated): (solution of op(A) X = b, a copy of A), op(A) = A or A^T.

    Shape: b (*, n, k), A (*, n, n) -> solution (*, n, k), cloned_coefficient (*, n, n) (batch broadcast)
    """
    warn_once("triangular_solve",
              "torch.triangular_solve is deprecated in favor of torch.linalg.solve_triangularand will be removed "
                  "in a future PyTorch release.\ntorch.linalg.solve_triangular has its arguments reversed and does "
                  "not return a copy of one of the inputs.\nX = torch.triangular_solve(B, A).solution\nshould be "
                  "replaced with\nX = torch.linalg.solve_triangular(A, B).")
    no_out("triangular_solve", out)
    check_cpu("triangular_solve", b, A)
    check_matrix("triangular_solve", b, "b")
    check_square("triangular_solve", A)
    check_float("triangular_solve", b)
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"triangular_solve: Incompatible matrix sizes for triangular_solve: each A matrix is "
                           f"{A.shape[-1]} by {A.shape[-1]} but each b matrix is {b.shape[-2]} by {b.shape[-1]}")
    M = A.mT if transpose else A
    X = O.solve_tri(M, b, upper=bool(upper) != bool(transpose), unitriangular=bool(unitriangular))
    return result_type("triangular_solve", ("solution", "cloned_coefficient"))(X, A.clone())
