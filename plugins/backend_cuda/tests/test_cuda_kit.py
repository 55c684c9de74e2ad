"""The conformance kit over the CUDA backend's records, on any machine: probe and import hygiene
run everywhere; the checks that need a device skip with probe()'s reason (they run under -m gpu)."""

from __future__ import annotations

from lamina.testing import parametrize_with_checks, run_check
from lamina_backend_cuda.testing import records


@parametrize_with_checks(records()[:1], dist="lamina-backend-cuda")
def test_kit(case, check):
    run_check(case, check)
