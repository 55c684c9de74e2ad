"""The conformance kit over every lamina-layers-basic record (one test item per component, device,
dtype and check)."""

import pytest
from lamina.testing import parametrize_with_checks, run_check
from lamina_layers_basic.testing import records

# F.upsample is a deprecated alias that warns on every call, as in PyTorch (tested on its own in
# test_layers_basic_misc_a.py); here the kit only looks at its values
pytestmark = pytest.mark.filterwarnings("ignore:nn.functional.upsample is deprecated:UserWarning")


@parametrize_with_checks(records(), dist="lamina-layers-basic")
def test_kit(case, check):
    run_check(case, check)
