"""Every test starts with torch's default argument validation on (``__debug__``), as lamina's is: loading
``torch._dynamo`` (torch.compile, some torch.func paths, in another test of the same process) switches torch's
off for the whole process."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _torch_validates_by_default():
    torch = pytest.importorskip("torch")
    before = torch.distributions.Distribution._validate_args
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
    torch.distributions.Distribution.set_default_validate_args(before)
