"""MPI datatypes and reductions for NumPy dtypes: MPI's own where it has them, else a user-defined op.

A (dtype, op) pair that MPI supports natively (float32 SUM, int8 BXOR, bool LOR, float16 with MPICH's
MPIX_C_FLOAT16, ...) runs MPI's own datatype and op: that is what makes a large all_reduce as fast as
mpi4py's ``Allreduce``. Support is probed once per pair on ``COMM_SELF`` (MPI checks the pair even on
one rank). Where MPI refuses, the buffer travels as a derived contiguous datatype of one element's
bytes, so MPI splits it only between whole elements, reduced by an ``MPI.Op`` that applies the NumPy
ufunc. Bool follows torch: SUM and MAX are a logical or, PRODUCT and MIN a logical and.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._comm import RedOpType

_NATIVE = {RedOpType.SUM: "SUM", RedOpType.PRODUCT: "PROD", RedOpType.MIN: "MIN", RedOpType.MAX: "MAX",
           RedOpType.BAND: "BAND", RedOpType.BOR: "BOR", RedOpType.BXOR: "BXOR"}
_NATIVE_BOOL = {RedOpType.SUM: "LOR", RedOpType.PRODUCT: "LAND", RedOpType.MIN: "LAND", RedOpType.MAX: "LOR",
                RedOpType.BAND: "LAND", RedOpType.BOR: "LOR", RedOpType.BXOR: "LXOR"}
_UFUNC = {RedOpType.SUM: np.add, RedOpType.PRODUCT: np.multiply, RedOpType.MIN: np.minimum,
          RedOpType.MAX: np.maximum, RedOpType.BAND: np.bitwise_and, RedOpType.BOR: np.bitwise_or,
          RedOpType.BXOR: np.bitwise_xor}
_UFUNC_BOOL = {RedOpType.SUM: np.logical_or, RedOpType.PRODUCT: np.logical_and, RedOpType.MIN: np.logical_and,
               RedOpType.MAX: np.logical_or, RedOpType.BAND: np.logical_and, RedOpType.BOR: np.logical_or,
               RedOpType.BXOR: np.logical_xor}

#: False forces the derived-datatype + user-op path for every reduction (the tests run both paths)
USE_NATIVE = True

_native_types: dict[np.dtype, Any] = {}
_byte_types: dict[int, Any] = {}
_reductions: dict[tuple[np.dtype, RedOpType, bool], tuple[Any, Any]] = {}


def native_type(MPI: Any, dtype: np.dtype) -> Any | None:  # noqa: N803  (the mpi4py module)
    """MPI's predefined datatype for ``dtype``, or None where MPI has none."""
    if dtype not in _native_types:
        from mpi4py.util import dtlib

        try:
            _native_types[dtype] = dtlib.from_numpy_dtype(dtype)
        except (KeyError, ValueError, TypeError):
            _native_types[dtype] = None
    return _native_types[dtype]


def element_type(MPI: Any, itemsize: int) -> Any:  # noqa: N803
    """A committed contiguous datatype of ``itemsize`` bytes: one element, never split by MPI."""
    dt = _byte_types.get(itemsize)
    if dt is None:
        dt = _byte_types[itemsize] = MPI.BYTE.Create_contiguous(itemsize).Commit()
    return dt


def datatype(MPI: Any, dtype: np.dtype) -> Any:  # noqa: N803
    """The datatype that moves arrays of ``dtype`` (no reduction): native, else whole-element bytes."""
    dt = native_type(MPI, dtype)
    return dt if dt is not None else element_type(MPI, dtype.itemsize)


def reduction(MPI: Any, dtype: np.dtype, op: RedOpType) -> tuple[Any, Any]:  # noqa: N803
    """(datatype, MPI.Op) reducing arrays of ``dtype`` with ``op`` (not AVG: a sum, then a division)."""
    key = (dtype, op, USE_NATIVE)
    found = _reductions.get(key)
    if found is None:
        found = _native_reduction(MPI, dtype, op) if USE_NATIVE else None
        if found is None:
            found = element_type(MPI, dtype.itemsize), _user_op(MPI, dtype, op)
        _reductions[key] = found
    return found


def _native_reduction(MPI: Any, dtype: np.dtype, op: RedOpType) -> tuple[Any, Any] | None:  # noqa: N803
    dt = native_type(MPI, dtype)
    if dt is None:
        return None
    mpi_op = getattr(MPI, (_NATIVE_BOOL if dtype.kind == "b" else _NATIVE)[op])
    probe, out = np.zeros(1, dtype), np.zeros(1, dtype)
    try:
        MPI.COMM_SELF.Allreduce([probe, dt], [out, dt], mpi_op)
    except MPI.Exception:
        return None
    return dt, mpi_op


def _user_op(MPI: Any, dtype: np.dtype, op: RedOpType) -> Any:  # noqa: N803
    ufunc = (_UFUNC_BOOL if dtype.kind == "b" else _UFUNC)[op]

    def apply(inbuf: Any, inoutbuf: Any, _datatype: Any) -> None:
        x = np.frombuffer(inbuf, dtype=dtype)
        y = np.frombuffer(inoutbuf, dtype=dtype)
        with np.errstate(all="ignore"):  # overflow wraps or goes to inf silently, as MPI's own ops do
            ufunc(x, y, out=y)

    return MPI.Op.Create(apply, commute=True)
