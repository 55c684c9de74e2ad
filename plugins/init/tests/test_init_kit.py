"""The conformance kit over every component of lamina-init, in strict mode (a registered component
without an info record fails): one item per component, device, dtype and check."""

from __future__ import annotations

import pytest
from lamina.testing import parametrize_plugin, run_check

# the deprecated aliases (nn.init.uniform, ...) warn on every call, as in PyTorch (tested in test_init_deprecated.py)
pytestmark = pytest.mark.filterwarnings("ignore:`nn.init.[a-z_]+` is now deprecated:FutureWarning")


@parametrize_plugin("lamina-init")
def test_kit(case, check):
    run_check(case, check)
