"""torch is the oracle: its sparse constructors warn unless the invariant checks are chosen explicitly
(the suite turns warnings into errors), so the checks are opted out once here."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _torch_sparse_invariants_explicit():
    torch = pytest.importorskip("torch")
    torch.sparse.check_sparse_tensor_invariants.disable()
    yield
