"""What the kit cannot express about lamina-losses (the kit runs every record in test_losses_kit.py):
a loss built with its defaults prints as PyTorch's does, ``Name()``, with no hyperparameters."""

from __future__ import annotations

import re

import pytest
from lamina_losses.testing import records

# AdaptiveLogSoftmaxWithLoss and LinearCrossEntropyLoss have required arguments and print their sub-modules
# (tested against PyTorch in test_losses_adaptive_softmax.py and test_losses_linear_cross_entropy.py)
RECORDS = [r for r in records() if getattr(r, "cls", None) is not None
           and r.cls.__name__ not in ("AdaptiveLogSoftmaxWithLoss", "LinearCrossEntropyLoss")]


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
@pytest.mark.filterwarnings("ignore:`NLLLoss2d` has been deprecated:FutureWarning")
def test_a_default_loss_prints_its_bare_name(rec):
    assert re.fullmatch(rf"{rec.cls.__name__}\(\)", repr(rec.cls()))
