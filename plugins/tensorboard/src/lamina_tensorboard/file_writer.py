"""``FileWriter``: one event file in one folder, written by tensorboard's own ``EventFileWriter``.

The event file is ``events.out.tfevents.<unix time>.<host>.<pid>.<n><filename_suffix>``; events are
queued and written by tensorboard's background thread, at the latest every ``flush_secs`` seconds,
when ``max_queue`` events are pending, or on :meth:`FileWriter.flush` / :meth:`FileWriter.close`.
"""

from __future__ import annotations

import os
import time

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.event_file_writer import EventFileWriter


class FileWriter:
    """Writes ``Event`` protobufs to an event file in ``log_dir`` (created if missing)."""

    def __init__(self, log_dir: str | os.PathLike, max_queue: int = 10, flush_secs: float = 120,
                 filename_suffix: str = "") -> None:
        self._log_dir = os.fspath(log_dir)
        self._options = (max_queue, flush_secs, filename_suffix)
        self.event_writer: EventFileWriter | None = EventFileWriter(self._log_dir, *self._options)

    def get_logdir(self) -> str:
        """The folder holding the event file."""
        return self._log_dir

    def add_event(self, event: Event, step: int | None = None, walltime: float | None = None) -> None:
        """Queue ``event`` with its wall time (now, unless given) and step (left unset when None)."""
        if self.event_writer is None:
            raise RuntimeError(f"FileWriter.add_event: the writer for {self._log_dir} is closed; call reopen() first")
        event.wall_time = time.time() if walltime is None else float(walltime)
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary: Summary, global_step: int | None = None, walltime: float | None = None) -> None:
        """Queue ``summary`` wrapped in an ``Event``."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def flush(self) -> None:
        """Write every pending event to disk."""
        if self.event_writer is not None:
            self.event_writer.flush()

    def close(self) -> None:
        """Flush and close the file (closing twice is harmless)."""
        if self.event_writer is not None:
            self.event_writer.close()
            self.event_writer = None

    def reopen(self) -> None:
        """After :meth:`close`, start a new event file in the same folder (no-op while open)."""
        if self.event_writer is None:
            self.event_writer = EventFileWriter(self._log_dir, *self._options)
