"""The conformance kit over every lamina-fft record, in strict mode (a registered component without
an info record fails): one item per record, device, dtype and check."""

from __future__ import annotations

import pytest
from lamina.testing import parametrize_plugin, run_check

# the kit's stft samples use the deprecated real-pairs output (return_complex=False) so that its real
# comparisons and gradchecks apply; the deprecation warning itself is tested in test_fft_stft.py
pytestmark = pytest.mark.filterwarnings("ignore:stft with return_complex=False is deprecated:UserWarning")


@parametrize_plugin("lamina-fft")
def test_kit(case, check):
    run_check(case, check)
