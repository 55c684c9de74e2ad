"""The conformance kit over every component of lamina-losses, in strict mode (a registered component
without an info record fails): one item per component, device, dtype and check."""

from __future__ import annotations

import pytest
from lamina.testing import parametrize_plugin, run_check

# NLLLoss2d is a deprecated alias that warns at construction, as in PyTorch (tested in test_losses_adaptive_softmax.py)
pytestmark = pytest.mark.filterwarnings("ignore:`NLLLoss2d` has been deprecated:FutureWarning")


@parametrize_plugin("lamina-losses")
def test_kit(case, check):
    run_check(case, check)
