"""Tensor layouts: ``lamina.strided`` (dense tensors) and the sparse ones a plugin may serve."""

from __future__ import annotations

from . import REPR_PREFIX


class layout:  # noqa: N801  (torch.layout)
    """A memory layout; printed as ``lamina.strided``."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"{REPR_PREFIX[0]}.{self.name}"

    def __reduce__(self) -> str:
        return self.name  # pickled by reference to the module attribute


strided = layout("strided")
sparse_coo = layout("sparse_coo")
sparse_csr = layout("sparse_csr")
sparse_csc = layout("sparse_csc")
sparse_bsr = layout("sparse_bsr")
sparse_bsc = layout("sparse_bsc")
jagged = layout("jagged")
