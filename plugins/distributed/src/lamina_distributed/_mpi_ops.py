"""MPI datatypes and reductions for NumPy dtypes: MPI's own where it has them, else a user-defined op.

A (dtype, op) pair that MPI supports natively (float32 SUM, int8 BXOR, bool LOR, float16 with MPICH's
MPIX_C_FLOAT16, ...) runs MPI's own datatype and op: that is what makes a large all_reduce as fast as
mpi4py's ``Allreduce``. Support is probed once per pair on ``COMM_SELF`` (MPI checks the pair even on
one rank). Where MPI refuses, the buffer travels as a derived contiguous datatype of one element's
bytes (one such datatype per NumPy dtype), so MPI splits it only between whole elements, reduced by a
user-defined ``MPI.Op`` that applies the NumPy ufunc. MPICH allows only 32 user ops per process, so
there is one op per reduction, which finds the element type from the datatype it is handed. Bool
follows torch: SUM and MAX are a logical or, PRODUCT and MIN a logical and.
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
_element_types: dict[np.dtype, Any] = {}
_dtype_of_handle: dict[int, np.dtype] = {}  # a derived datatype's handle -> its NumPy dtype
_user_ops: dict[RedOpType, Any] = {}
_reductions: dict[tuple[np.dtype, RedOpType, bool], tuple[Any, Any]] = {}


# MPI's predefined datatypes by NumPy dtype (predefined ones only: MPI's fast reduction paths are for
# those; mpi4py.util.dtlib.from_numpy_dtype makes a new derived datatype on every call)
_PREDEFINED = {"float16": "FLOAT16_T", "float32": "FLOAT", "float64": "DOUBLE", "complex64": "C_FLOAT_COMPLEX",
               "complex128": "C_DOUBLE_COMPLEX", "uint8": "UINT8_T", "int8": "INT8_T", "int16": "INT16_T",
               "int32": "INT32_T", "int64": "INT64_T", "bool": "C_BOOL"}


def native_type(MPI: Any, dtype: np.dtype) -> Any | None:  # noqa: N803  (the mpi4py module)
    """MPI's predefined datatype for ``dtype``, or None where this MPI has none (e.g. no float16)."""
    if dtype not in _native_types:
        dt = getattr(MPI, _PREDEFINED.get(dtype.name, ""), None)
        _native_types[dtype] = None if dt is None or dt == MPI.DATATYPE_NULL else dt
    return _native_types[dtype]


def element_type(MPI: Any, dtype: np.dtype) -> Any:  # noqa: N803
    """A committed contiguous datatype of one ``dtype`` element's bytes (never split by MPI), own to ``dtype``."""
    dt = _element_types.get(dtype)
    if dt is None:
        dt = _element_types[dtype] = MPI.BYTE.Create_contiguous(dtype.itemsize).Commit()
        _dtype_of_handle[dt.handle] = dtype
    return dt


def datatype(MPI: Any, dtype: np.dtype) -> Any:  # noqa: N803
    """The datatype that moves arrays of ``dtype`` (no reduction): native, else whole-element bytes."""
    dt = native_type(MPI, dtype)
    return dt if dt is not None else element_type(MPI, dtype)


def reduction(MPI: Any, dtype: np.dtype, op: RedOpType) -> tuple[Any, Any]:  # noqa: N803
    """(datatype, MPI.Op) reducing arrays of ``dtype`` with ``op`` (not AVG: a sum, then a division)."""
    key = (dtype, op, USE_NATIVE)
    found = _reductions.get(key)
    if found is None:
        found = _native_reduction(MPI, dtype, op) if USE_NATIVE else None
        if found is None:
            found = element_type(MPI, dtype), _user_op(MPI, op)
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


def _user_op(MPI: Any, op: RedOpType) -> Any:  # noqa: N803
    found = _user_ops.get(op)
    if found is not None:
        return found

    def apply(inbuf: Any, inoutbuf: Any, datatype: Any) -> None:
        dtype = _dtype_of_handle[datatype.handle]
        x = np.frombuffer(inbuf, dtype=dtype)
        y = np.frombuffer(inoutbuf, dtype=dtype)
        with np.errstate(all="ignore"):  # overflow wraps or goes to inf silently, as MPI's own ops do
            (_UFUNC_BOOL if dtype.kind == "b" else _UFUNC)[op](x, y, out=y)

    found = _user_ops[op] = MPI.Op.Create(apply, commute=True)
    return found
