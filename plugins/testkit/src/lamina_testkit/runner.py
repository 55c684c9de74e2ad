"""Running the kit: ``check_plugin``, ``run_records`` and the structured report."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._core import Case, Check, CheckFailure, CheckSkip, Result, record_name
from .records import BackendInfo, FunctionInfo, InitInfo, KernelInfo, LossInfo, ModuleInfo, OptimizerInfo

#: groups whose entries are not components: a distribution offering only these has nothing to check
UNCHECKED_GROUPS = frozenset({"lamina.namespaces", "lamina.cli", "lamina.onnx.exporters", "lamina.aliases"})
COMPONENT_GROUPS = {"lamina.layers": ModuleInfo, "lamina.losses": LossInfo, "lamina.functional": FunctionInfo,
                    "lamina.functions": FunctionInfo, "lamina.init": InitInfo, "lamina.optim": OptimizerInfo}


class ConformanceError(AssertionError):
    """A plugin failed the conformance kit; the message lists every failed check."""


class NoRecordWarning(UserWarning):
    """A component a distribution registers has no info record (only generic checks run)."""


@dataclass
class Report:
    distribution: str
    results: list[Result] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    strict: bool = False
    #: why there is nothing to check (a distribution without any lamina entry point); not a warning
    nothing_to_check: str = ""

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def failures(self) -> list[Result]:
        bad = [r for r in self.results if r.status == "failed"]
        if self.strict:
            bad += [r for r in self.results if r.status == "xpassed"]
        return bad

    @property
    def ok(self) -> bool:
        return not self.failures and not (self.strict and self.warnings)

    def table(self) -> str:
        lines = [f"{'check':78} status"]
        for r in self.results:
            lines.append(f"{r.id:78} {r.status}" + (f"  {r.message.splitlines()[0][:160]}" if r.message and
                                                    r.status in ("failed", "xpassed", "xfailed") else ""))
        for w in self.warnings:
            lines.append(f"warning: {w}")
        verdict = "PASS" if self.ok else "FAIL"
        if self.nothing_to_check and not self.results and not self.warnings:
            lines.append(f"{self.distribution}: {verdict} — nothing to check ({self.nothing_to_check})")
            return "\n".join(lines)
        lines.append(f"{self.distribution}: {verdict} — {self.count('passed')} passed, {len(self.failures)} failed, "
                     f"{self.count('skipped')} skipped, {self.count('xfailed')} expected failures"
                     + (f", {len(self.warnings)} warnings" if self.warnings else ""))
        return "\n".join(lines)

    def raise_for_failures(self) -> None:
        if not self.ok:
            detail = "\n".join(f"- {r.id}: {r.message}" for r in self.failures)
            if self.strict and self.warnings:
                detail += "\n" + "\n".join(f"- warning (strict): {w}" for w in self.warnings)
            raise ConformanceError(f"{self.distribution} failed the conformance kit:\n{detail}")


def available_devices(backend: str | None = None) -> list[str]:
    """Device types with a usable backend (cpu always first); ``backend`` restricts to one."""
    from lamina import backends

    types = ["cpu", "cuda"]
    if backend is not None:
        types = [backend]
    return [t for t in types if backends.backend_available(t)[0]]


def dtypes_for(record: Any, mode: str) -> list[str]:
    if mode == "float64":
        return ["float64"] if "float64" in record.dtypes else []
    if mode == "once":
        return [record.dtypes[0]] if record.dtypes else ["float32"]
    return list(record.dtypes)


def cases(dist: str, records: Sequence[Any], devices: Sequence[str]) -> Iterable[tuple[Case, Any]]:
    """(case, check) pairs, in a stable order: record, device, check, dtype."""
    from ._catalog import checks_for  # the check families load with the first run, not with the package

    for rec in records:
        for dev in devices:
            for chk in checks_for(rec):
                if chk.tag and chk.tag not in rec.tags:
                    continue
                if chk.when is not None and not chk.when(rec, dev):
                    continue
                if isinstance(rec, BackendInfo) and rec.cls.device_type != dev and dev != "cpu":
                    continue
                if isinstance(rec, KernelInfo) and rec.device_type != dev:
                    continue
                for dt in dtypes_for(rec, chk.dtypes):
                    yield Case(dist, rec, dev, dt), chk


def run_case(case: Case, chk: Any) -> Result:
    xfail = case.record.expected_failures.get(chk.name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            chk.fn(case)
    except CheckSkip as e:
        return Result(case, chk.name, "skipped", str(e))
    except CheckFailure as e:
        if xfail:
            return Result(case, chk.name, "xfailed", f"{xfail} ({e})")
        return Result(case, chk.name, "failed", str(e))
    except Exception as e:  # noqa: BLE001  (any error inside a check is a failure of the component)
        if xfail:
            return Result(case, chk.name, "xfailed", f"{xfail} ({type(e).__name__}: {e})")
        return Result(case, chk.name, "failed", f"{type(e).__name__}: {e}")
    if xfail:
        return Result(case, chk.name, "xpassed", f"expected to fail ({xfail}) but passed")
    return Result(case, chk.name, "passed")


def run_records(dist: str, records: Sequence[Any], *, backend: str | None = None, strict: bool = False,
                only: Sequence[str] | None = None) -> Report:
    report = Report(dist, strict=strict)
    for case, chk in cases(dist, records, available_devices(backend)):
        if only and chk.name not in only:
            continue
        report.results.append(run_case(case, chk))
    return report


def _load_value(value: str) -> Any:
    module, _, attr = value.partition(":")
    obj = importlib.import_module(module.strip())
    for part in attr.split("[")[0].strip().split("."):
        if part:
            obj = getattr(obj, part)
    return obj


@dataclass
class Gap:
    """What strict mode fails: a registered component without an info record, a distribution that
    gives the kit nothing to run, or one that is not installed. ``check`` names the failing item."""

    name: str
    check: str
    message: str
    expected_failures: dict[str, str] = field(default_factory=dict)  # read like a record's by the runner


def _fail_gap(case: Case) -> None:
    raise CheckFailure(case.record.message)


#: the pytest item a Gap becomes under parametrize_plugin(strict=True)
GAP_CHECK = Check("info_record", (Gap,), _fail_gap, dtypes="once",
                  doc="strict mode: every registered component has an info record")


def _is_mixin(obj: Any, kind: type) -> bool:
    """A class served for subclassing (``LazyModuleMixin``) rather than a layer: not a Module itself."""
    from lamina.nn import Module

    return kind in (ModuleInfo, LossInfo) and isinstance(obj, type) and not issubclass(obj, Module)


def _survey(dist: str) -> tuple[list[Any], list[Gap], str]:
    """(records, gaps, why there is nothing to check): a distribution's records from its
    ``lamina.testing`` entries, plus a generic record for each registered component without one."""
    from lamina import plugins

    recs: list[Any] = []
    for e in plugins.entries("lamina.testing", distribution=dist):
        recs.extend(_load_value(e.value)())
    covered = {id(getattr(r, attr, None)) for r in recs for attr in ("cls", "fn", "functional")}
    covered |= {id(c) for r in recs for c in getattr(r, "covers", ())}
    gaps = []
    for group, kind in COMPONENT_GROUPS.items():
        for e in plugins.entries(group, distribution=dist):
            if e.name.startswith("_"):  # torch's private base classes (_ConvNd, _Loss): abstract, not components
                continue
            obj = plugins.resolve(group, e.name)
            if id(obj) in covered or _is_mixin(obj, kind):
                continue
            gaps.append(Gap(e.name, "info_record", f"{dist}: {group} entry {e.name!r} has no info record "
                                                   "(generic checks only)"))
            if kind in (ModuleInfo, LossInfo) and isinstance(obj, type):
                recs.append(kind(cls=obj, name=e.name))
    for e in plugins.entries(None, distribution=dist):
        if e.group.startswith("lamina.backends."):
            cls = _load_value(e.value)
            if id(cls) not in covered and not any(getattr(r, "cls", None) is cls for r in recs):
                gaps.append(Gap(e.name, "info_record", f"{dist}: backend {e.name!r} has no info record "
                                                       "(generic checks only)"))
                recs.append(BackendInfo(cls=cls, name=e.name))
    nothing = ""
    if not recs:
        groups = _lamina_groups(dist)
        if groups is None:
            gaps.append(Gap(dist, "installed", f"{dist}: not installed (no distribution of that name was found)"))
        elif not groups:
            nothing = "it registers no lamina entry points"
        elif groups <= UNCHECKED_GROUPS:
            nothing = f"it registers only {', '.join(sorted(groups))} entry points, which the kit has no checks for"
        else:
            gaps.append(Gap(dist, "components", f"{dist}: no components found (it declares lamina entry points "
                                                "but no components and no 'lamina.testing' records)"))
    return recs, gaps, nothing


def records_of(dist: str) -> tuple[list[Any], list[str]]:
    """The records a distribution exposes in ``lamina.testing``, plus warnings for unrecorded components."""
    recs, gaps, _ = _survey(dist)
    return recs, [g.message for g in gaps if g.check == "info_record"]


def _lamina_groups(distribution: str) -> set[str] | None:
    """The ``lamina.*`` entry-point groups the installed distribution declares; None if it is not installed."""
    import importlib.metadata as md

    try:
        eps = md.distribution(distribution).entry_points
    except md.PackageNotFoundError:
        return None
    return {ep.group for ep in eps if ep.group.startswith("lamina.")}


def check_plugin(distribution: str, *, backend: str | None = None, strict: bool = False,
                 raise_on_failure: bool = True, only: Sequence[str] | None = None) -> Report:
    """Run every check on every component of an installed distribution; raise ConformanceError on failure.

    An installed distribution that registers no lamina entry point at all (a data-set package) has
    nothing to check and passes, strict or not; one that declares lamina entry points but gives the
    kit nothing to run, or one that is not installed, gets a warning (a failure in strict mode).
    """
    recs, gaps, nothing = _survey(distribution)
    report = run_records(distribution, recs, backend=backend, strict=strict, only=only)
    report.nothing_to_check = nothing
    report.warnings.extend(g.message for g in gaps)
    for g in gaps:
        warnings.warn(g.message, NoRecordWarning, stacklevel=2)
    if raise_on_failure:
        report.raise_for_failures()
    return report


def _params(dist: str, records: Sequence[Any], backend: str | None, expected_failures: dict[str, str] | None,
            strict: bool) -> list:
    import pytest

    params = []
    for case, chk in cases(dist, records, available_devices(backend)):
        reason = (expected_failures or {}).get(chk.name) or case.record.expected_failures.get(chk.name)
        marks = [pytest.mark.xfail(reason=reason, strict=strict)] if reason else []
        if case.device != "cpu":
            marks.append(pytest.mark.gpu)
        params.append(pytest.param(case, chk, id=f"{case.id}::{chk.name}", marks=marks))
    return params


def parametrize_with_checks(records: Sequence[Any], *, dist: str = "<local>", backend: str | None = None,
                            expected_failures: dict[str, str] | None = None, strict: bool = True):
    """A pytest decorator: one test item per component, device, dtype and check of ``records``.

    The decorated test receives ``case`` and ``check``; call ``lamina.testing.run_check(case, check)``.
    Expected failures (``{check_name: reason}``, or per record) become ``xfail(strict=...)``. To run
    an installed distribution (and catch its components without a record) use parametrize_plugin.

    ``records`` may also hold component classes (``Module`` or loss subclasses): each stands for the
    records the installed distributions give for it, or, with none, a generic ``ModuleInfo``/``LossInfo``
    built from the class (the checks that need no sample inputs). Anything else is a TypeError, and a call
    that yields no test item is a ValueError (an empty parametrization would pass silently).
    """
    import pytest

    params = _params(dist, _as_records(records), backend, expected_failures, strict)
    if not params:
        raise ValueError(f"parametrize_with_checks: the {len(records)} record(s) given produce no test item "
                         "(no check applies on the available devices)")
    return pytest.mark.parametrize(("case", "check"), params)


_RECORD_TYPES = (ModuleInfo, LossInfo, FunctionInfo, InitInfo, OptimizerInfo, BackendInfo, KernelInfo)


def _as_records(items: Sequence[Any]) -> list[Any]:
    """Records as given; a component class replaced by its installed records, or by a generic record."""
    from lamina import plugins
    from lamina.nn import Module

    out: list[Any] = []
    installed: list[Any] | None = None
    for item in items:
        if isinstance(item, _RECORD_TYPES):
            out.append(item)
            continue
        if not (isinstance(item, type) and issubclass(item, Module)):
            kinds = ", ".join(t.__name__ for t in _RECORD_TYPES)
            raise TypeError(f"parametrize_with_checks: expected info records ({kinds}) or Module classes, got "
                            f"{item!r} ({type(item).__name__})")
        if installed is None:
            installed = [r for e in plugins.entries("lamina.testing") for r in _load_value(e.value)()]
        own = [r for r in installed if getattr(r, "cls", None) is item]
        if own:
            out.extend(own)
        else:
            kind = LossInfo if any(c.__name__ in ("_Loss", "_WeightedLoss") for c in item.__mro__) else ModuleInfo
            out.append(kind(cls=item, name=item.__name__))
    return out


def parametrize_plugin(distribution: str, *, backend: str | None = None, strict: bool = True):
    """A pytest decorator running the kit over an installed distribution, as ``lamina check`` does:
    one item per component, device, dtype and check, ids like
    ``lamina-layers-basic::Conv2d[cpu-float64]::gradcheck``.

    Strict (the default): an expected failure that passes fails, and every registered component
    without an info record (``<dist>::<name>::info_record``), a distribution that declares lamina
    entry points but gives the kit nothing to run, or one that is not installed is a failing item.
    Not strict, those items are skipped with the reason.
    """
    import pytest

    recs, gaps, _ = _survey(distribution)
    params = _params(distribution, recs, backend, None, strict)
    for g in gaps:
        marks = [] if strict else [pytest.mark.skip(reason=g.message)]
        params.append(pytest.param(Case(distribution, g), GAP_CHECK, id=f"{distribution}::{g.name}::{g.check}",
                                   marks=marks))
    return pytest.mark.parametrize(("case", "check"), params)


def run_check(case: Case, chk: Any) -> None:
    """Run one check inside pytest: failures raise AssertionError, non-applicable checks skip."""
    import pytest

    try:
        chk.fn(case)
    except CheckSkip as e:
        pytest.skip(str(e))


__all__ = ["check_plugin", "parametrize_plugin", "parametrize_with_checks", "run_check", "run_records", "Report",
           "ConformanceError", "Gap", "records_of", "record_name"]
