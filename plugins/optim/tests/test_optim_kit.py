"""The conformance kit over every record of lamina-optim."""

from __future__ import annotations

from lamina.testing import parametrize_with_checks, run_check
from lamina_optim.testing import records


@parametrize_with_checks(records(), dist="lamina-optim")
def test_kit(case, check):
    run_check(case, check)
