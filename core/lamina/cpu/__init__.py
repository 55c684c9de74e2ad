"""``lamina.cpu``: the device-query surface of ``torch.cpu``, for device-agnostic code.

CPU work is synchronous, so streams and events have nothing to order: a stream only records which
one is current (``stream(s)`` selects it), an event is always complete.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any


class Stream:
    """A CPU stream: every operation on it has finished when it returns."""

    def __init__(self, priority: int = -1) -> None:
        self.priority = priority

    def wait_stream(self, stream: Stream) -> None:
        """Nothing to wait for: CPU work is already done."""

    def wait_event(self, event: Event) -> None:
        """Nothing to wait for: CPU work is already done."""

    def record_event(self, event: Event | None = None) -> Event:
        return event if event is not None else Event()

    def query(self) -> bool:
        return True

    def synchronize(self) -> None:
        """Nothing pending on a CPU stream."""


class Event:
    """A CPU event: complete as soon as it is recorded."""

    def query(self) -> bool:
        return True

    def record(self, stream: Stream | None = None) -> None:
        """Recorded: the work before it has already run."""

    def synchronize(self) -> None:
        """Already complete."""

    def wait(self, stream: Stream | None = None) -> None:
        """Already complete."""


_default = Stream()
_current = [_default]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device: Any) -> None:
    """Only ``"cpu"`` (or a ``lamina.device('cpu')``) can be selected."""
    if str(device) != "cpu":
        raise ValueError(f"lamina.cpu.set_device: expected 'cpu', got {device!r}")


def synchronize(device: Any = None) -> None:
    """CPU ops run synchronously: nothing is pending."""


def current_stream(device: Any = None) -> Stream:
    return _current[-1]


class StreamContext(AbstractContextManager):
    """Select ``stream`` as the current CPU stream inside the block (None: leave it)."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream

    def __enter__(self) -> None:
        if self.stream is not None:
            _current.append(self.stream)

    def __exit__(self, *exc: Any) -> None:
        if self.stream is not None:
            _current.pop()


def stream(stream: Stream | None) -> StreamContext:
    return StreamContext(stream)


def __getattr__(name: str) -> Any:
    if name == "amp":  # lamina.cpu.amp: the deprecated device-bound autocast, loaded on first use
        import importlib

        return importlib.import_module(f"{__name__}.amp")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
