"""``lamina check <distribution> [--backend B] [--strict]``: the conformance kit from the command line
(the entry point ``check`` of group ``lamina.cli``)."""

from __future__ import annotations

import argparse

from lamina.cli import Command

__lamina_plugin_api__ = "1.0"


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("distribution", help="an installed plugin distribution, e.g. lamina-layers-basic")
    p.add_argument("--backend", default=None, help="device type to check on (default: every available one)")
    p.add_argument("--strict", action="store_true", help="warnings (components without records) and "
                   "expected failures that pass count as failures")
    p.add_argument("--only", action="append", default=None, help="run only this check (repeatable)")
    p.add_argument("--quiet", "-q", action="store_true", help="print failures and the verdict only")


def _run(args: argparse.Namespace) -> int:
    import warnings

    from .runner import NoRecordWarning, check_plugin

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoRecordWarning)
        report = check_plugin(args.distribution, backend=args.backend, strict=args.strict,
                              raise_on_failure=False, only=args.only)
    if args.quiet:
        for r in report.failures:
            print(f"FAILED {r.id}: {r.message}")
        print(report.table().splitlines()[-1])
    else:
        print(report.table())
    return 0 if report.ok else 1


command = Command("check", help="run the conformance kit on an installed plugin distribution",
                  configure=_configure, run=_run)
