"""The conformance kit over every record of lamina-distributed, in strict mode (a registered function without a
record fails): one item per record, device, dtype and check."""

from __future__ import annotations

from lamina.testing import parametrize_plugin, run_check


@parametrize_plugin("lamina-distributed")
def test_kit(case, check):
    run_check(case, check)
