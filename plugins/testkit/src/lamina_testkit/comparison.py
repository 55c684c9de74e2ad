"""``lamina.testing.assert_close`` / ``assert_allclose``: torch.testing's comparison rules and messages.

Inputs are matched up recursively: sequences (not ``str``) item by item, mappings key by key; each
leaf pair is then compared as None, booleans, Python/NumPy numbers, or tensor-likes (lamina tensors
and NumPy arrays, converted with ``lamina.as_tensor``; the two must be instances of one another's
type). The first failing leaf raises, with the path of keys/indices appended to the message. The
values are compared with ``lamina.isclose``: ``|actual - expected| <= atol + rtol * |expected|``.
"""

from __future__ import annotations

import cmath
import collections.abc
import warnings
from collections.abc import Callable
from typing import Any

import lamina
import numpy as np

# {dtype name: (rtol, atol)}; every other dtype (integers, bool) compares exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "bfloat16": (1.6e-2, 1e-5), "float32": (1.3e-6, 1e-5),
               "float64": (1e-7, 1e-7), "complex32": (1e-3, 1e-5), "complex64": (1.3e-6, 1e-5),
               "complex128": (1e-7, 1e-7)}
_ALLCLOSE_TOLERANCES = {"float16": (1e-3, 1e-3), "float32": (1e-4, 1e-5), "float64": (1e-5, 1e-8)}
_NUMBER_DTYPES = {int: "int64", float: "float64", complex: "complex128"}


class _Failure(Exception):
    """A comparison failure: the exception type to raise, its message and the path of the failing item."""

    def __init__(self, kind: type[Exception], msg: str, path: tuple = ()) -> None:
        super().__init__(msg)
        self.kind, self.msg, self.path = kind, msg, path

    def error(self, msg: str | Callable[[str], str] | None) -> Exception:
        if isinstance(msg, str):
            return self.kind(msg)
        text = self.msg + (f"\n\nThe failure occurred for item {''.join(str([p]) for p in self.path)}"
                           if self.path else "")
        return self.kind(msg(text) if callable(msg) else text)


class _Unsupported(Exception):
    pass


def default_tolerances(*dtypes: Any, table: dict | None = None) -> tuple[float, float]:
    """The loosest (rtol, atol) over the inputs' dtypes (tensors or dtypes)."""
    names = [(d.dtype if isinstance(d, lamina.Tensor) else d).name for d in dtypes]
    rtols, atols = zip(*[(table or _TOLERANCES).get(n, (0.0, 0.0)) for n in names])
    return max(rtols), max(atols)


def _tolerances(dtypes: list, rtol: float | None, atol: float | None, path: tuple) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        raise _Failure(ValueError, "Both 'rtol' and 'atol' must be either specified or omitted, but got no "
                       f"{'rtol' if rtol is None else 'atol'}.", path)
    return (rtol, atol) if rtol is not None else default_tolerances(*dtypes)


def _mismatch_msg(what: str, extra: str, abs_diff: Any, abs_at: Any, atol: float, rel_diff: Any, rel_at: Any,
                  rtol: float) -> str:
    exact = rtol == 0 and atol == 0
    lines = [f"{what} are not {'equal' if exact else 'close'}!", "", extra]
    for kind, diff, at, tol in (("absolute", abs_diff, abs_at, atol), ("relative", rel_diff, rel_at, rtol)):
        line = (f"{kind.title()} difference: {diff}" if at is None
                else f"Greatest {kind} difference: {diff} at index {at}")
        lines.append(line if exact else f"{line} (up to {tol} allowed)")
    return "\n".join(lines)


def _scalar_msg(actual: Any, expected: Any, rtol: float, atol: float) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    return _mismatch_msg("Scalars", f"Expected {expected} but got {actual}.", abs_diff, None, atol, rel_diff, None,
                         rtol)


# --- leaf pairs ---------------------------------------------------------------------------------------
def _compare_none(actual: Any, expected: Any, path: tuple, **_: Any) -> None:
    if actual is not None and expected is not None:
        raise _Unsupported
    if not (actual is None and expected is None):
        raise _Failure(AssertionError, f"None mismatch: {actual} is not {expected}", path)


def _compare_bool(actual: Any, expected: Any, path: tuple, **_: Any) -> None:
    if not all(isinstance(x, (bool, np.bool_)) for x in (actual, expected)):
        raise _Unsupported
    actual, expected = bool(actual), bool(expected)
    if actual is not expected:
        raise _Failure(AssertionError, f"Booleans mismatch: {actual} is not {expected}", path)


def _compare_number(actual: Any, expected: Any, path: tuple, *, rtol: Any, atol: Any, equal_nan: bool,
                    check_dtype: bool, **_: Any) -> None:
    if not all(isinstance(x, (int, float, complex, np.number)) and not isinstance(x, bool)
               for x in (actual, expected)):
        raise _Unsupported
    actual, expected = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
    dtypes = [getattr(lamina, _NUMBER_DTYPES[t]) for t in (type(actual), type(expected)) if t in _NUMBER_DTYPES]
    rtol, atol = _tolerances(dtypes or [lamina.float64], rtol, atol, path)
    if check_dtype and type(actual) is not type(expected):
        raise _Failure(AssertionError, f"The (d)types do not match: {type(actual)} != {type(expected)}.", path)
    if actual == expected or (equal_nan and cmath.isnan(actual) and cmath.isnan(expected)):
        return
    diff = abs(actual - expected)
    if cmath.isfinite(diff) and diff <= atol + rtol * abs(expected):
        return
    raise _Failure(AssertionError, _scalar_msg(actual, expected, rtol, atol), path)


def _compare_tensor(actual: Any, expected: Any, path: tuple, *, allow_subclasses: bool, rtol: Any, atol: Any,
                    equal_nan: bool, check_device: bool, check_dtype: bool, check_layout: bool, check_stride: bool,
                    **_: Any) -> None:
    if not (isinstance(actual, type(expected)) or isinstance(expected, type(actual))):
        raise _Unsupported
    if not allow_subclasses and type(actual) is not type(expected):
        raise _Unsupported
    try:
        actual, expected = (x if isinstance(x, lamina.Tensor) else lamina.as_tensor(x) for x in (actual, expected))
    except Exception:
        raise _Unsupported from None
    rtol, atol = _tolerances([actual, expected], rtol, atol, path)

    def mismatch(attribute: str, a: Any, e: Any) -> _Failure:
        return _Failure(AssertionError, f"The values for attribute '{attribute}' do not match: {a} != {e}.", path)

    if actual.shape != expected.shape:
        raise mismatch("shape", actual.shape, expected.shape)
    if actual.layout != expected.layout:
        if check_layout:
            raise mismatch("layout", actual.layout, expected.layout)
    elif actual.layout == lamina.strided and check_stride and actual.stride() != expected.stride():
        raise mismatch("stride()", actual.stride(), expected.stride())
    if check_device and actual.device != expected.device:
        raise mismatch("device", actual.device, expected.device)
    if check_dtype and actual.dtype != expected.dtype:
        raise mismatch("dtype", actual.dtype, expected.dtype)
    if "meta" in (actual.device.type, expected.device.type):
        return
    actual, expected = (x.to_dense() if x.layout != lamina.strided else x for x in (actual, expected))
    if actual.device != expected.device:
        actual, expected = actual.cpu(), expected.cpu()
    if actual.dtype != expected.dtype:
        wide = [lamina.int64 if d.name in ("uint16", "uint32", "uint64") else d for d in (actual.dtype, expected.dtype)]
        common = lamina.promote_types(*wide)
        actual, expected = actual.to(common), expected.to(common)
    actual, expected = actual.detach(), expected.detach()
    matches = lamina.isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if bool(matches.all()):
        return
    if actual.dim() == 0:
        raise _Failure(AssertionError, _scalar_msg(actual.item(), expected.item(), rtol, atol), path)
    raise _Failure(AssertionError, _tensor_msg(actual, expected, matches, rtol, atol), path)


def _tensor_msg(actual: Any, expected: Any, matches: Any, rtol: float, atol: float) -> str:
    total = matches.numel()
    bad = total - int(matches.sum())
    a, e, ok = actual.flatten(), expected.flatten(), matches.flatten()
    if not (a.dtype.is_floating_point or a.dtype.is_complex):
        a, e = a.to(lamina.int64), e.to(lamina.int64)  # differences of narrow integers must not wrap
    abs_diff = (a - e).abs()
    abs_diff[ok] = 0  # the greatest differences are taken over the mismatches only
    with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 is inf or nan here, as intended
        rel_diff = abs_diff / e.abs()
    rel_diff[ok] = 0

    def greatest(diff: Any) -> tuple[Any, tuple]:
        value, flat = diff.max(0)
        return value.item(), tuple(int(i) for i in np.unravel_index(int(flat), tuple(matches.shape)))

    (abs_value, abs_at), (rel_value, rel_at) = greatest(abs_diff), greatest(rel_diff)
    return _mismatch_msg("Tensor-likes", f"Mismatched elements: {bad} / {total} ({bad / total:.1%})",
                         abs_value, abs_at, atol, rel_value, rel_at, rtol)


_LEAVES = (_compare_none, _compare_bool, _compare_number, _compare_tensor)


def _compare(actual: Any, expected: Any, path: tuple, options: dict) -> None:
    seq = collections.abc.Sequence
    if isinstance(actual, seq) and isinstance(expected, seq) and not isinstance(actual, str) \
            and not isinstance(expected, str):
        if len(actual) != len(expected):
            raise _Failure(AssertionError, f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                           path)
        for i in range(len(actual)):
            _compare(actual[i], expected[i], (*path, i), options)
        return
    if isinstance(actual, collections.abc.Mapping) and isinstance(expected, collections.abc.Mapping):
        keys, other = set(actual.keys()), set(expected.keys())
        if keys != other:
            raise _Failure(AssertionError, "The keys of the mappings do not match:\n"
                           f"Missing keys in the actual mapping: {sorted(other - keys)}\n"
                           f"Additional keys in the actual mapping: {sorted(keys - other)}", path)
        try:
            ordered = sorted(keys)
        except Exception:
            ordered = list(keys)
        for k in ordered:
            _compare(actual[k], expected[k], (*path, k), options)
        return
    for leaf in _LEAVES:
        try:
            return leaf(actual, expected, path, **options)
        except _Unsupported:
            continue
    raise _Failure(TypeError, f"No comparison pair was able to handle inputs of type {type(actual)} and "
                   f"{type(expected)}.", path)


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` are close (torch.testing.assert_close).

    Default tolerances by dtype (rtol, atol): float16 (1e-3, 1e-5), bfloat16 (1.6e-2, 1e-5), float32
    and complex64 (1.3e-6, 1e-5), float64 and complex128 (1e-7, 1e-7), others (0, 0); with
    ``check_dtype=False`` the looser of the two dtypes'.
    """
    __tracebackhide__ = True
    options = {"allow_subclasses": allow_subclasses, "rtol": rtol, "atol": atol, "equal_nan": equal_nan,
               "check_device": check_device, "check_dtype": check_dtype, "check_layout": check_layout,
               "check_stride": check_stride}
    try:
        _compare(actual, expected, (), options)
    except _Failure as failure:
        raise failure.error(msg) from None


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """Deprecated (as in torch since 1.12): use :func:`assert_close`. Looser defaults, dtypes not checked."""
    __tracebackhide__ = True
    warnings.warn("`lamina.testing.assert_allclose()` is deprecated; use `lamina.testing.assert_close()` "
                  "instead (it checks dtypes and uses tighter default tolerances).", FutureWarning, stacklevel=2)
    if not isinstance(actual, lamina.Tensor):
        actual = lamina.tensor(actual)
    if not isinstance(expected, lamina.Tensor):
        expected = lamina.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        rtol, atol = default_tolerances(actual, expected, table=_ALLCLOSE_TOLERANCES)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True, check_dtype=False,
                 check_stride=False, msg=msg or None)
