"""The conformance kit over every component of lamina-layers-basic, in strict mode (a registered component
without an info record fails): one item per component, device, dtype and check."""

from __future__ import annotations

import pytest
from lamina.testing import parametrize_plugin, run_check

# F.upsample is a deprecated alias that warns on every call, as in PyTorch (tested on its own in
# test_layers_basic_upsample.py); here the kit only looks at its values
pytestmark = [pytest.mark.filterwarnings("ignore:nn.functional.upsample is deprecated:UserWarning"),
              pytest.mark.filterwarnings("ignore:`nn.functional.upsample_:UserWarning"),
              pytest.mark.filterwarnings("ignore:`nn.Container` is deprecated:FutureWarning")]


@parametrize_plugin("lamina-layers-basic")
def test_kit(case, check):
    run_check(case, check)
