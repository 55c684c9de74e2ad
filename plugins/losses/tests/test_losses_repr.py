"""What the kit cannot express about lamina-losses (the kit runs every record in test_losses_kit.py):
a loss built with its defaults prints as PyTorch's does, ``Name()``, with no hyperparameters."""

from __future__ import annotations

import re

import pytest
from lamina_losses.testing import records

RECORDS = records()


@pytest.mark.parametrize("rec", RECORDS, ids=[r.name for r in RECORDS])
def test_a_default_loss_prints_its_bare_name(rec):
    assert re.fullmatch(rf"{rec.cls.__name__}\(\)", repr(rec.cls()))
