"""The conformance kit over every record of lamina-init."""

from __future__ import annotations

from lamina.testing import parametrize_with_checks, run_check
from lamina_init.testing import records


@parametrize_with_checks(records(), dist="lamina-init")
def test_kit(case, check):
    run_check(case, check)
