"""The kit's machinery: cases, checks, results, and helpers shared by the check families."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .records import BackendInfo, ErrorInput, FunctionInfo, InitInfo, KernelInfo, LossInfo, ModuleInfo, OptimizerInfo

#: tolerances (rtol, atol) from TESTKIT.md
TOL_ELEMENTWISE = {"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}
TOL_REDUCTION = {"float64": (1e-7, 1e-7), "float32": (1e-4, 1e-5)}
# records of integer or boolean components (one_hot, bucketize) compare exactly
for _tols in (TOL_ELEMENTWISE, TOL_REDUCTION):
    _tols.update({d: (0.0, 0.0) for d in ("bool", "int8", "uint8", "int16", "int32", "int64")})


class CheckFailure(AssertionError):
    """A conformance check failed; the message reads well outside pytest."""


class CheckSkip(Exception):
    """A check does not apply to this case (the reason is reported)."""


@dataclass
class Case:
    """One component on one device with one dtype."""

    dist: str
    record: Any
    device: str = "cpu"
    dtype: str = "float32"

    @property
    def name(self) -> str:
        return record_name(self.record)

    @property
    def id(self) -> str:
        return f"{self.dist}::{self.name}[{self.device}-{self.dtype}]"


@dataclass
class Check:
    name: str
    kinds: tuple[type, ...]
    fn: Callable[[Case], None]
    #: "each": every dtype of the record; "float64": float64 only; "once": once per record and device
    dtypes: str = "each"
    tag: str | None = None
    doc: str = ""
    #: static applicability ``when(record, device) -> bool``: cases where it is False are not generated
    #: at all (rather than reported as skipped), so no test item is skipped forever
    when: Callable[[Any, str], bool] | None = None

    def __call__(self, case: Case) -> None:
        self.fn(case)


@dataclass
class Result:
    case: Case
    check: str
    status: str  # passed | failed | skipped | xfailed | xpassed
    message: str = ""

    @property
    def id(self) -> str:
        return f"{self.case.id}::{self.check}"


def check(name: str, kinds: tuple[type, ...], *, dtypes: str = "each", tag: str | None = None,
          when: Callable[[Any, str], bool] | None = None) -> Callable[[Callable[[Case], None]], Check]:
    """Make the decorated function a :class:`Check` for records of the given kinds (``when``: static
    applicability). Nothing is registered: a family module lists its checks in ``CHECKS`` and
    ``_catalog.FAMILIES`` lists the families."""

    def deco(fn: Callable[[Case], None]) -> Check:
        return Check(name, kinds, fn, dtypes, tag, (fn.__doc__ or "").strip(), when)

    return deco


def off_cpu(record: Any, device: str) -> bool:
    """Device-parity checks compare another backend with the CPU one."""
    return device != "cpu"


def has(field_name: str) -> Callable[[Any, str], bool]:
    """The record declares ``field_name`` (a reference, error inputs, bounds, ...)."""
    def when(record: Any, device: str) -> bool:
        return bool(getattr(record, field_name, None))
    return when


def record_name(record: Any) -> str:
    if record.name:
        return record.name
    comp = getattr(record, "cls", None) or getattr(record, "fn", None) or getattr(record, "impl", None)
    return getattr(comp, "__name__", type(record).__name__)


def fail(msg: str) -> None:
    raise CheckFailure(msg)


def skip(msg: str) -> None:
    raise CheckSkip(msg)


# --- inputs -----------------------------------------------------------------------------------

def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def samples(case: Case, dtype: str | None = None, seed: int = 0) -> list:
    import lamina

    rec = case.record
    if rec.sample_inputs is None:
        skip("the record declares no sample_inputs")
    dev = lamina.device(case.device)
    xp = dev.backend.xp
    return list(rec.sample_inputs(xp, np.dtype(dtype or case.dtype), rng(seed)))


def to_tensors(case: Case, sample, requires_grad: bool = False) -> tuple[tuple, dict]:
    """Wrap a sample's arrays into tensors on the case's device (floating ones optionally requiring grad)."""
    import lamina

    dev = lamina.device(case.device)

    def wrap(a, grad: bool):
        if hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, lamina.Tensor):
            t = lamina.as_tensor(_host_copy(a), device=dev)
            if grad and t.is_floating_point():
                t.requires_grad_(True)
            return t
        if isinstance(a, tuple) and not hasattr(a, "_fields"):  # e.g. an LSTM's (h0, c0)
            return tuple(wrap(x, grad) for x in a)
        return a

    def wants(i: int) -> bool:
        return requires_grad and (sample.grad_args is None or i in sample.grad_args)

    args = tuple(wrap(a, wants(i)) for i, a in enumerate(sample.args))
    kwargs = {k: wrap(v, False) for k, v in sample.kwargs.items()}  # keyword arrays (targets, masks): no grad
    return args, kwargs


def _host_copy(a) -> np.ndarray:
    if isinstance(a, np.ndarray):
        return a.copy()
    get = getattr(a, "get", None)  # CuPy arrays
    return np.array(get() if get is not None else a)


def host(x: Any) -> Any:
    """Tensors (and nested tuples of them) as float64-free NumPy copies."""
    import lamina

    if isinstance(x, lamina.Tensor):
        return np.array(x.device.backend.to_host(x.detach().array))
    if isinstance(x, (tuple, list)):
        return type(x)(host(v) for v in x) if not hasattr(x, "_fields") else tuple(host(v) for v in x)
    return x


def np64(sample) -> tuple[tuple, dict]:
    """A sample's arrays as float64 NumPy arrays (integers kept) for references."""
    def conv(a):
        if hasattr(a, "shape") and hasattr(a, "dtype"):
            h = _host_copy(a)
            return h.astype(np.float64) if h.dtype.kind == "f" else h
        if isinstance(a, tuple) and not hasattr(a, "_fields"):
            return tuple(conv(x) for x in a)
        return a

    return tuple(conv(a) for a in sample.args), {k: conv(v) for k, v in sample.kwargs.items()}


def outputs(y: Any) -> list:
    """Flatten a forward result into a list of tensors."""
    import lamina

    if isinstance(y, lamina.Tensor):
        return [y]
    if isinstance(y, (tuple, list)):
        out = []
        for v in y:
            out.extend(outputs(v))
        return out
    return []


def agrees_with_cpu(case: Case, on_device: Callable, on_cpu: Callable) -> None:
    """Run the first CPU sample through ``on_cpu`` and, moved to the case's device, ``on_device``; every
    output must agree within reduction tolerance."""
    import lamina

    cpu = Case(case.dist, case.record, "cpu", case.dtype)
    a, k = to_tensors(cpu, samples(cpu)[0])
    ad = tuple(x.to(case.device) if isinstance(x, lamina.Tensor) else x for x in a)
    kd = {n: v.to(case.device) if isinstance(v, lamina.Tensor) else v for n, v in k.items()}
    for i, (u, v) in enumerate(zip(outputs(on_device(*ad, **kd)), outputs(on_cpu(*a, **k)))):
        close(host(u.cpu()), host(v), 1e-4, 1e-5, f"{case.name}: output {i} on {case.device} vs cpu")


def close(actual: np.ndarray, expected: np.ndarray, rtol: float, atol: float, what: str) -> None:
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        fail(f"{what}: shape {actual.shape} differs from the expected {expected.shape}")
    if actual.dtype.kind in "biu" or expected.dtype.kind in "biu":
        if not np.array_equal(actual, expected):
            fail(f"{what}: values differ from the expected ones")
        return
    a64, e64 = actual.astype(np.float64), expected.astype(np.float64)
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        bad = np.argwhere(~ok)[0]
        idx = tuple(int(i) for i in bad)
        err = np.abs(a64 - e64)[~ok].max()
        fail(f"{what}: {int((~ok).sum())} of {ok.size} values differ beyond rtol={rtol}, atol={atol} "
             f"(max abs error {err:.3g}); first at {idx}: got {a64[idx]!r}, expected {e64[idx]!r}")


def error_inputs(case: Case) -> list[ErrorInput]:
    ei = case.record.error_inputs
    if callable(ei):
        import lamina

        dev = lamina.device(case.device)
        return list(ei(dev.backend.xp, np.dtype(case.dtype), rng(0)))
    return list(ei)


def expect_error(fn: Callable[[], Any], err: ErrorInput, what: str) -> None:
    try:
        fn()
    except err.error_type as e:
        if not re.search(err.match, str(e)):
            fail(f"{what}: raised {type(e).__name__} as declared, but the message {str(e)!r} does not match "
                 f"{err.match!r}")
        return
    except Exception as e:  # noqa: BLE001
        fail(f"{what}: expected {err.error_type.__name__} matching {err.match!r}, got {type(e).__name__}: {e}")
    fail(f"{what}: expected {err.error_type.__name__} matching {err.match!r}, but nothing was raised")


KINDS_LAYER = (ModuleInfo,)
KINDS_LOSS = (LossInfo,)
KINDS_FUNCTION = (FunctionInfo,)
KINDS_INIT = (InitInfo,)
KINDS_OPTIM = (OptimizerInfo,)
KINDS_BACKEND = (BackendInfo,)
KINDS_KERNEL = (KernelInfo,)
ALL_KINDS = (ModuleInfo, FunctionInfo, InitInfo, OptimizerInfo, BackendInfo, KernelInfo)
