"""The conformance kit over every record of lamina-profiler, in strict mode: one item per record, device, dtype
and check."""

from __future__ import annotations

from lamina.testing import parametrize_plugin, run_check


@parametrize_plugin("lamina-profiler")
def test_kit(case, check):
    run_check(case, check)
