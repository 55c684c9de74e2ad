"""dtypes: thin named wrappers over NumPy dtypes, printed like PyTorch's (``lamina.float32``)."""

from __future__ import annotations

import builtins

import numpy as np

from . import REPR_PREFIX

#: NumPy's dtype for bfloat16, from ml_dtypes, imported the first time bfloat16 is used (it takes about
#: half a second to import). NumPy gives it kind "V" (a user type); lamina treats it as floating ("f").
BF16: np.dtype | None = None


class dtype:  # noqa: N801  (mirrors torch.dtype)
    """A tensor element type. ``lamina.float32.np`` is the NumPy dtype behind it."""

    __slots__ = ("name", "np", "kind", "is_floating_point", "is_complex", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype: np.dtype | None, kind: str = "", itemsize: int = 0) -> None:
        self.name = name
        self.np = None if np_dtype is None else np.dtype(np_dtype)  # None: a dtype NumPy lacks (complex32)
        self.kind = kind_of(self.np) if self.np is not None else kind  # NumPy's kind letter (bfloat16: "f")
        self.is_floating_point = self.kind == "f"
        self.is_complex = self.kind == "c"
        self.is_signed = self.kind in "fic"
        self.itemsize = self.np.itemsize if self.np is not None else itemsize

    def __repr__(self) -> str:
        return f"{REPR_PREFIX[0]}.{self.name}"

    def to_real(self) -> dtype:
        """The real dtype of a complex one (``complex64 -> float32``); other dtypes are returned as they are."""
        return _REAL.get(self, self)

    def to_complex(self) -> dtype:
        """The complex dtype of a floating one (``float32 -> complex64``); complex dtypes are returned as they are."""
        if self.is_complex:
            return self
        if self not in _COMPLEX:
            raise RuntimeError(f"Unknown Complex ScalarType for {self.name}")
        return _COMPLEX[self]

    def __reduce__(self):
        return (_by_name, (self.name,))


def kind_of(np_dtype: np.dtype) -> str:
    """``np_dtype.kind``, except bfloat16, which NumPy calls "V" (a user type) and lamina "f"."""
    k = np_dtype.kind
    return "f" if k == "V" and np_dtype.name == "bfloat16" else k


def _load_bfloat16() -> np.dtype:
    """Import ml_dtypes and give ``lamina.bfloat16`` its NumPy dtype (once)."""
    global BF16
    if BF16 is None:
        import ml_dtypes

        BF16 = np.dtype(ml_dtypes.bfloat16)
        bfloat16.np = BF16
        _FROM_NP[BF16] = bfloat16
    return BF16


class _ByNumpyDtype(dict):
    """NumPy dtype -> lamina dtype; a bfloat16 array made outside lamina (ml_dtypes) loads bfloat16 on first sight."""

    def __missing__(self, key):
        if getattr(key, "name", None) == "bfloat16" and BF16 is None:
            _load_bfloat16()
            return self[key]
        raise KeyError(key)


def _by_name(name: str) -> dtype:
    return _NAMES[name]


float16 = dtype("float16", np.float16)
float32 = dtype("float32", np.float32)
float64 = dtype("float64", np.float64)
bfloat16 = dtype("bfloat16", None, "f", 2)  # its NumPy dtype is set by _load_bfloat16
complex64 = dtype("complex64", np.complex64)
complex128 = dtype("complex128", np.complex128)
uint8 = dtype("uint8", np.uint8)
uint16 = dtype("uint16", np.uint16)  # torch's "limited support" unsigned types: promotion only with floats
uint32 = dtype("uint32", np.uint32)
uint64 = dtype("uint64", np.uint64)
int8 = dtype("int8", np.int8)
int16 = dtype("int16", np.int16)
int32 = dtype("int32", np.int32)
int64 = dtype("int64", np.int64)
bool_ = dtype("bool", np.bool_)
complex32 = dtype("complex32", None, "c", 4)  # a name only: NumPy has no complex32, its tensors raise

_REAL = {complex32: float16, complex64: float32, complex128: float64}
_COMPLEX = {v: k for k, v in _REAL.items()}

half, float, double = float16, float32, float64  # noqa: A001  (torch aliases)
short, int, long = int16, int32, int64  # noqa: A001
cfloat, cdouble, chalf = complex64, complex128, complex32

ALL = (float16, bfloat16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool_, uint16,
       uint32, uint64)
_WIDE_UNSIGNED = frozenset(np.dtype(t) for t in (np.uint16, np.uint32, np.uint64))
_NAMES = {d.name: d for d in ALL}
_NAMES["complex32"] = complex32
_FROM_NP = _ByNumpyDtype((d.np, d) for d in ALL if d.np is not None)

_default_float = [float32]


def from_numpy_dtype(np_dtype) -> dtype:
    """The lamina dtype for a NumPy dtype; raises TypeError for unsupported ones."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _FROM_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(f"lamina: unsupported dtype {np_dtype!r}; supported: {sorted(_NAMES)}") from None


def to_np(d) -> np.dtype:
    """Accept a lamina dtype, a NumPy dtype/type or a Python type; return the NumPy dtype."""
    if type(d) is dtype:
        if d.np is None:
            if d is bfloat16:
                return _load_bfloat16()
            raise TypeError(f"lamina: {d.name} (chalf) tensors are not supported: NumPy has no {d.name} type; "
                            "use lamina.complex64")
        return d.np
    if d is builtins.bool:
        return np.dtype(np.bool_)
    if d is builtins.float:
        return _default_float[0].np
    if d is builtins.int:
        return np.dtype(np.int64)
    if d is builtins.complex:
        return np.dtype(np.complex128)
    if isinstance(d, str):
        if d in _NAMES:
            return to_np(_NAMES[d])
    return from_numpy_dtype(d).np


def get_default_dtype() -> dtype:
    """The dtype of floating tensors created from Python floats (``float32`` unless changed)."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (``float32``, ``float64`` or ``float16``)."""
    if type(d) is not dtype or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: expected a floating lamina dtype, got {d!r}")
    _default_float[0] = d


def get_default_complex_dtype() -> dtype:
    """The complex dtype matching the default floating dtype (``complex64`` for ``float32``)."""
    return _default_float[0].to_complex()


_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_SCALAR_NAMES = {"uint8": "Byte", "int8": "Char", "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool",
                 "uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"}


def _scalar_name(np_dtype: np.dtype) -> str:
    return _SCALAR_NAMES.get(np_dtype.name, np_dtype.name)


def promote_np(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's ``promote_types`` on NumPy dtypes: a floating or complex dtype beats any integer
    dtype whatever its size (``int64 + float16 -> float16``, ``int64 + complex64 -> complex64``)."""
    ka, kb = a.kind, b.kind
    if (a in _WIDE_UNSIGNED or b in _WIDE_UNSIGNED) and a != b and not (ka in "fcV" or kb in "fcV"):
        raise RuntimeError("Promotion for uint16, uint32, uint64 types is not supported, attempted to promote "
                           f"{_scalar_name(a)} and {_scalar_name(b)}")
    if (ka == "V") != (kb == "V"):  # one is bfloat16: NumPy would widen int + bfloat16 to float64, torch does not
        bf, other = (a, b) if ka == "V" else (b, a)
        if other.kind in "biu":
            return bf
        if other.kind == "c":
            return np.dtype(np.complex64) if other.itemsize <= 8 else other
        return np.promote_types(np.float32, other)  # float16 and float32 -> float32, float64 -> float64
    if ka != kb:
        hi, lo = (a, kb) if _RANK[ka] > _RANK[kb] else (b, ka)
        if lo in "biu" and hi.kind in "fc":
            return hi
    return np.promote_types(a, b)


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both ``type1`` and ``type2`` cast to, as ``torch.promote_types``."""
    return _FROM_NP[promote_np(to_np(type1), to_np(type2))]


def can_cast(from_: dtype, to: dtype) -> builtins.bool:
    """Whether PyTorch's casting rules allow ``from_ -> to`` in type promotion (no complex -> real,
    floating -> integral or non-bool -> bool)."""
    kf, kt = from_.kind, to.kind
    return not (kf == "c" and kt != "c" or kf in "fc" and kt in "biu" or kf != "b" and kt == "b")


class finfo:  # noqa: N801  (mirrors torch.finfo)
    """Machine limits of a floating dtype (a complex dtype gives its real part's): ``lamina.finfo(lamina.float32)``."""

    def __init__(self, type: dtype | None = None) -> None:  # noqa: A002
        d = get_default_dtype() if type is None else type
        if not isinstance(d, dtype) or d.kind not in "fc":
            raise TypeError("lamina.finfo() requires a floating point input type. Use lamina.iinfo to handle "
                            f"'lamina.finfo', got {d!r}")
        real = d.to_real()
        if real is bfloat16:
            import ml_dtypes

            info = ml_dtypes.finfo(to_np(real))
        else:
            info = np.finfo(real.np)
        self.bits, self.dtype = info.bits, real.name
        f = builtins.float
        self.eps, self.max, self.min = f(info.eps), f(info.max), f(info.min)
        self.tiny = self.smallest_normal = f(info.smallest_normal)
        self.resolution = 10.0 ** -info.precision

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:  # noqa: N801  (mirrors torch.iinfo)
    """Limits of an integer dtype: ``lamina.iinfo(lamina.int32).max``."""

    def __init__(self, type: dtype) -> None:  # noqa: A002
        if not isinstance(type, dtype) or type.kind not in "iu":
            raise TypeError("lamina.iinfo() requires an integer input type. Use lamina.finfo to handle "
                            f"'lamina.iinfo', got {type!r}")
        info = np.iinfo(type.np)
        self.bits, self.min, self.max, self.dtype = info.bits, builtins.int(info.min), builtins.int(info.max), type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
