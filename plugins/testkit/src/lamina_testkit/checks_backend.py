"""Checks for backends (``BackendInfo``; TESTKIT.md "Backends")."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from ._core import KINDS_BACKEND, Case, check, close, fail, skip

#: every xp function the core and the first-party plugins call (keep in sync: grep 'xp\.' core plugins)
NAMESPACE = (
    "asarray zeros zeros_like ones ones_like empty full eye arange linspace where flip exp log log2 log10 log1p "
    "expm1 abs sqrt sign sin cos tan sinh cosh tanh arcsin arccos arctan arctan2 floor ceil trunc round "
    "isfinite isnan isinf isclose maximum minimum clip take take_along_axis put_along_axis stack concatenate "
    "broadcast_to ascontiguousarray argsort argmin argmax cumsum cumprod einsum roll moveaxis expand_dims "
    "transpose tile repeat nonzero meshgrid count_nonzero any all matmul tensordot"
).split()


def _backend(case: Case):
    cls = case.record.cls
    ok, why = cls.probe()
    if not ok:
        skip(f"backend unavailable here: {why}")
    return cls()


@check("backend_probe", KINDS_BACKEND, dtypes="once")
def probe(case: Case) -> None:
    """probe() is cheap, never raises, returns (bool, str) and gives a reason when unavailable."""
    cls = case.record.cls
    t = time.perf_counter()
    try:
        res = cls.probe()
    except Exception as e:  # noqa: BLE001
        fail(f"{case.name}: probe() raised {type(e).__name__}: {e}")
    dt = time.perf_counter() - t
    if not (isinstance(res, tuple) and len(res) == 2 and isinstance(res[0], bool) and isinstance(res[1], str)):
        fail(f"{case.name}: probe() must return (bool, str), got {res!r}")
    if not res[0] and not res[1].strip():
        fail(f"{case.name}: probe() says unavailable without a reason")
    if dt > 2.0:
        fail(f"{case.name}: probe() took {dt:.2f} s; it must be cheap")


@check("backend_import_lamina", KINDS_BACKEND, dtypes="once")
def import_lamina(case: Case) -> None:
    """`import lamina` works and imports no backend module (probe happens later, on demand)."""
    mod = case.record.cls.__module__
    code = f"import sys, lamina; print({mod!r} in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail(f"{case.name}: import lamina failed: {r.stderr.strip()[-300:]}")
    if r.stdout.strip() == "True":
        fail(f"{case.name}: import lamina imported the backend module {mod}")


@check("backend_namespace", KINDS_BACKEND, dtypes="once")
def namespace(case: Case) -> None:
    """The array namespace has every function the core and first-party plugins call."""
    b = _backend(case)
    missing = [n for n in NAMESPACE if not hasattr(b.xp, n)]
    if missing:
        fail(f"{case.name}: xp lacks {missing}")


def _arr(b, x):
    return b.from_host(np.asarray(x), None)


@check("backend_promotion", KINDS_BACKEND)
def promotion(case: Case) -> None:
    """Python scalars don't upcast float32; float32 with float32 stays float32."""
    b = _backend(case)
    x = _arr(b, np.ones(3, dtype=case.dtype))
    for what, y in (("x * 2.5", x * 2.5), ("x + 1", x + 1), ("x / 3", x / 3), ("exp(x)", b.xp.exp(x)),
                    ("x.sum()", b.xp.asarray(x.sum()))):
        if str(y.dtype) != case.dtype:
            fail(f"{case.name}: {what} on {case.dtype} gives {y.dtype}")


@check("backend_broadcasting", KINDS_BACKEND)
def broadcasting(case: Case) -> None:
    """Broadcasting incl. 0-size and 0-d operands."""
    b = _backend(case)
    for sa, sb in (((3, 1), (4,)), ((0, 3), (3,)), ((), (2, 2)), ((2, 0, 1), (1, 5))):
        a = np.arange(int(np.prod(sa)), dtype=case.dtype).reshape(sa)
        c = np.ones(sb, dtype=case.dtype)
        got = b.to_host(_arr(b, a) + _arr(b, c))
        close(got, a + c, 0, 0, f"{case.name}: {sa} + {sb}")


@check("backend_values", KINDS_BACKEND)
def values(case: Case) -> None:
    """Elementwise math matches NumPy float64, NaN and ±inf included."""
    b = _backend(case)
    x = np.array([-3.0, -0.5, 0.0, 0.5, 2.0, np.nan, np.inf, -np.inf], dtype=case.dtype)
    xp = b.xp
    tol = (1.3e-6, 1e-5) if case.dtype == "float32" else (1e-7, 1e-7)
    with np.errstate(all="ignore"):
        for name in ("exp", "tanh", "abs", "sign", "sin", "floor"):
            got = b.to_host(getattr(xp, name)(_arr(b, x)))
            close(got, getattr(np, name)(x.astype(np.float64)), *tol, f"{case.name}: {name}")
        pos = np.abs(x)
        for name in ("log", "sqrt"):
            got = b.to_host(getattr(xp, name)(_arr(b, pos)))
            close(got, getattr(np, name)(pos.astype(np.float64)), *tol, f"{case.name}: {name}")


@check("backend_views_inplace", KINDS_BACKEND, dtypes="once")
def views(case: Case) -> None:
    """Basic slices are views: writing through one changes the base."""
    b = _backend(case)
    a = _arr(b, np.zeros((3, 4), dtype="float32"))
    v = a[1]
    v[...] = 5
    a[:, 0] += 1
    got = b.to_host(a)
    want = np.zeros((3, 4), dtype="float32")
    want[1] = 5
    want[:, 0] += 1
    close(got, want, 0, 0, f"{case.name}: writes through views")


@check("backend_strides", KINDS_BACKEND, dtypes="once")
def strides(case: Case) -> None:
    """Non-contiguous and negative-stride arrays compute correctly."""
    b = _backend(case)
    base = np.arange(24, dtype="float64").reshape(4, 6)
    a = _arr(b, base)
    for what, y, w in (("transpose", a.T @ a, base.T @ base), ("flip", b.xp.flip(a, 1) * 2, base[:, ::-1] * 2),
                       ("step slice", a[::2, ::3] + 1, base[::2, ::3] + 1)):
        close(b.to_host(y), w, 1e-12, 0, f"{case.name}: {what}")


@check("backend_host_roundtrip", KINDS_BACKEND)
def roundtrip(case: Case) -> None:
    """Host -> device -> host is bitwise, for every dtype."""
    b = _backend(case)
    for dt in ("float16", "float32", "float64", "int64", "int32", "uint8", "bool"):
        x = (np.random.default_rng(0).standard_normal(17) * 100).astype(dt)
        y = np.asarray(b.to_host(b.from_host(x, None)))
        if y.dtype != x.dtype or not np.array_equal(x, y):
            fail(f"{case.name}: {dt} host round trip is not bitwise")


@check("backend_rng", KINDS_BACKEND, dtypes="once")
def rng_repro(case: Case) -> None:
    """Seeded generators reproduce their draws."""
    b = _backend(case)
    a = b.to_host(b.new_generator(7).standard_normal((5,), dtype=np.float32))
    c = b.to_host(b.new_generator(7).standard_normal((5,), dtype=np.float32))
    d = b.to_host(b.new_generator(8).standard_normal((5,), dtype=np.float32))
    if not np.array_equal(a, c):
        fail(f"{case.name}: two generators seeded 7 differ")
    if np.array_equal(a, d):
        fail(f"{case.name}: generators seeded 7 and 8 agree")


@check("backend_error_types", KINDS_BACKEND, dtypes="once")
def error_types(case: Case) -> None:
    """Shape errors raise ValueError and bad indices IndexError, as on the CPU backend."""
    b = _backend(case)
    a = _arr(b, np.ones((2, 3)))
    try:
        a @ a
    except ValueError:
        pass
    else:
        fail(f"{case.name}: (2,3) @ (2,3) did not raise ValueError")
    try:
        a[5]
    except IndexError:
        pass
    else:
        fail(f"{case.name}: indexing row 5 of 2 did not raise IndexError")


@check("backend_out_of_memory", KINDS_BACKEND, dtypes="once")
def out_of_memory(case: Case) -> None:
    """An impossible allocation surfaces as lamina.OutOfMemoryError naming the bytes requested."""
    import lamina

    _backend(case)
    dev = case.record.cls.device_type
    try:
        lamina.empty(2**40, 2**22, dtype=lamina.uint8, device=dev)
    except lamina.OutOfMemoryError as e:
        if "bytes" not in str(e):
            fail(f"{case.name}: OutOfMemoryError should give the bytes requested: {e}")
        return
    except MemoryError as e:
        fail(f"{case.name}: allocation failure surfaced as {type(e).__name__}, not lamina.OutOfMemoryError")
    fail(f"{case.name}: allocating 4 PiB did not fail")


#: this family's checks, in the order the runner generates them
CHECKS = (
    probe,
    import_lamina,
    namespace,
    promotion,
    broadcasting,
    values,
    views,
    strides,
    roundtrip,
    rng_repro,
    error_types,
    out_of_memory,
)
