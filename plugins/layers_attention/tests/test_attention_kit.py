"""The conformance kit over every lamina-layers-attention info record (references, gradcheck, state, errors)."""

from __future__ import annotations

import lamina.testing
from lamina_layers_attention.testing import records


@lamina.testing.parametrize_with_checks(records(), dist="lamina-layers-attention")
def test_attention_kit(case, check):
    lamina.testing.run_check(case, check)
