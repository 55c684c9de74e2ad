"""Seed-tutorial acceptance tests: every test starts from the same lamina and NumPy seeds."""

from __future__ import annotations

import lamina
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _seeded():
    lamina.manual_seed(0)
    np.random.seed(0)
    yield
