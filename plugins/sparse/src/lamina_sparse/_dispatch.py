"""How the core's dense ops reach lamina-sparse: ``__lamina_function__`` (see ``lamina.ops.layouts``).

``lamina.mm`` / ``matmul`` / ``mv`` / ``addmm`` (and the dense Tensor's methods of those names) hand a call with
a sparse operand to its class's ``__lamina_function__``; this module answers with torch's semantics
(``torch.mm`` on a sparse leaf gives a dense gradient, unlike ``torch.sparse.mm``), or
``NotImplemented`` to let the core's dense body run (``addmm`` with a dense ``input``: its product
comes back here through ``mm``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lamina import Tensor

_LAYOUT_NAMES = {"sparse_coo": "Sparse", "sparse_csr": "SparseCsr", "sparse_csc": "SparseCsc",
                 "sparse_bsr": "SparseBsr", "sparse_bsc": "SparseBsc", "strided": "Strided"}


def layout_name(t: Any) -> str:
    """torch's short layout name in messages: Strided, Sparse, SparseCsr, ..."""
    return _LAYOUT_NAMES.get(str(getattr(t, "layout", "strided")).split(".")[-1], "Strided")


def _is_layout(x: Any) -> bool:
    return isinstance(x, Tensor) and str(x.layout) != "lamina.strided"


def _mm(input: Tensor, mat2: Tensor) -> Tensor:
    from .products import mm

    return mm(input, mat2)


def _matmul(input: Tensor, other: Tensor) -> Tensor:
    from .products import matmul

    return matmul(input, other)


def _mv(input: Tensor, vec: Tensor) -> Tensor:
    from .products import mv

    return mv(input, vec)


def _addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Any:
    if any(str(getattr(t, "layout", "")).endswith("sparse_coo") for t in (input, mat, vec)):
        raise NotImplementedError("Could not run 'aten::addmv' with arguments from the 'SparseCPU' backend: torch "
                                  "has no sparse COO addmv; use torch.mv(mat, vec) or a CSR matrix")
    return NotImplemented                   # the core's dense addmv; its mv(mat, vec) comes back to _mv


def _addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1, out: Any = None) -> Any:
    if _is_layout(input):
        raise RuntimeError("expand is unsupported for Sparse tensors")
    if _is_layout(mat2):                    # torch's sparse addmm takes a sparse mat1 and a strided mat2 only
        raise RuntimeError(f"addmm_sparse_dense: expected either 'mat1' to have sparse layout and 'mat2' to have "
                           f"strided layout, got 'mat1' with layout {layout_name(mat1)} and 'mat2' with layout "
                           f"{layout_name(mat2)}")
    return NotImplemented                   # the core's dense addmm; its mm(mat1, mat2) comes back to _mm


_HANDLERS: dict[str, Callable[..., Any]] = {"mm": _mm, "matmul": _matmul, "mv": _mv, "addmv": _addmv,
                                              "addmm": _addmm}


def lamina_function(cls: type, func: Callable, args: tuple, kwargs: dict) -> Any:
    """The core's ``func(*args, **kwargs)`` with a sparse operand; NotImplemented where lamina-sparse has none."""
    handler = _HANDLERS.get(getattr(func, "__name__", ""))
    if handler is None:
        return NotImplemented
    return handler(*args, **kwargs)


class ProductMethods:
    """``mm``, ``matmul``, ``mv`` and ``@`` (both sides) of every sparse layout, served by ``products``."""

    def mm(self, mat2: Tensor) -> Tensor:
        from .products import mm

        return mm(self, mat2)

    def matmul(self, other: Tensor) -> Tensor:
        from .products import matmul

        return matmul(self, other)

    def mv(self, vec: Tensor) -> Tensor:
        from .products import mv

        return mv(self, vec)

    __matmul__ = matmul

    def __rmatmul__(self, other: Tensor) -> Tensor:
        from .products import matmul

        return matmul(other, self)
