"""Shared fixtures for the core tests (kept small: helpers live in _oracle.py)."""

from __future__ import annotations

import lamina
import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _restore_global_modes():
    """Tests may change the default dtype, grad mode or anomaly mode; put them back."""
    from lamina.autograd import grad_mode

    dtype = lamina.get_default_dtype()
    state = (grad_mode.state.enabled, grad_mode.state.anomaly, grad_mode.state.anomaly_check_nan)
    yield
    lamina.set_default_dtype(dtype)
    grad_mode.state.enabled, grad_mode.state.anomaly, grad_mode.state.anomaly_check_nan = state


@pytest.fixture
def tagged():
    """Run on the test-only tagged backend (device type cpu); fail if any array escaped xp."""
    import _oracle

    restore = _oracle.use_tagged_backend()
    try:
        yield _oracle
    finally:
        restore()
    escapes = list(_oracle.ESCAPES)
    del _oracle.ESCAPES[:]
    assert not escapes, "plain numpy arrays passed to xp:\n" + "\n".join(f"{n}:\n{s}" for n, s in escapes[:3])
