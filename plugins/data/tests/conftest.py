"""The ``no_orphans`` fixture of the DataLoader worker tests."""

from __future__ import annotations

import os

import pytest
from _dataloader_procs import child_pids, our_segments, wait_until


@pytest.fixture
def no_orphans():
    """Fails the test if it leaves a child process or a /dev/shm segment of this process behind."""
    if not os.path.isdir("/proc"):
        pytest.skip("counting child processes reads /proc")
    before = child_pids()
    yield
    assert wait_until(lambda: child_pids() <= before), f"orphan workers: {child_pids() - before}"
    assert our_segments() == []
