"""Helpers for the DataLoader worker tests: this process's children and its /dev/shm segments."""

from __future__ import annotations

import os
import threading
import time

from lamina_data import _shm


def child_pids() -> set[int]:
    """Processes whose parent is this one (zombies included), read from /proc/<pid>/stat."""
    me, found = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me:
            found.add(int(entry))
    return found


def our_segments() -> list[str]:
    prefix = f"lamina_dl_{os.getpid()}_"
    return [name for name in os.listdir(_shm.SHM_DIR) if name.startswith(prefix)]


def wait_until(condition, seconds: float = 10.0) -> bool:
    """Poll ``condition`` until it holds or the deadline passes (no fixed sleep: returns at once if true)."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(0.01)
    return True
