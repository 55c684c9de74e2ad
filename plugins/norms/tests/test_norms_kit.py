"""The conformance kit over every record of lamina-norms."""

from __future__ import annotations

from lamina.testing import parametrize_with_checks, run_check
from lamina_norms.testing import records


@parametrize_with_checks(records(), dist="lamina-norms")
def test_kit(case, check):
    run_check(case, check)
