"""The conformance kit over the CPU backend's records."""

from __future__ import annotations

from lamina.testing import parametrize_with_checks, run_check
from lamina_backend_cpu.testing import records


@parametrize_with_checks(records(), dist="lamina-backend-cpu")
def test_kit(case, check):
    run_check(case, check)
