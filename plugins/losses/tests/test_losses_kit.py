"""The conformance kit over every component of lamina-losses, in strict mode (a registered component
without an info record fails): one item per component, device, dtype and check."""

from __future__ import annotations

from lamina.testing import parametrize_plugin, run_check


@parametrize_plugin("lamina-losses")
def test_kit(case, check):
    run_check(case, check)
