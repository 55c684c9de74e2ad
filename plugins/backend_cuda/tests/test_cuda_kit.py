"""The conformance kit over the CUDA backend and its kernel pack, in strict mode, on any machine: probe
and import hygiene run everywhere, the backend checks that need a device skip with probe()'s reason,
and the kernel checks are generated (marked ``gpu``) only where a CUDA device is available."""

from __future__ import annotations

from lamina.testing import parametrize_plugin, run_check


@parametrize_plugin("lamina-backend-cuda")
def test_kit(case, check):
    run_check(case, check)
