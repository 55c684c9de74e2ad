"""Gradient-recording switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``inference_mode``."""

from __future__ import annotations

import functools
import threading


class _State(threading.local):
    def __init__(self) -> None:
        self.enabled = True
        self.anomaly = False
        self.anomaly_check_nan = True
        self.inference = False  # inside an enabled inference_mode (is_inference_mode_enabled)


state = _State()
anomaly_seen = False  # whether any thread ever turned anomaly mode on; until then ops skip the thread-local read


def is_grad_enabled() -> bool:
    return state.enabled


class _GradSwitch:
    """Context manager and decorator that sets gradient recording on entry and restores it on exit."""

    _value = True

    def __init__(self) -> None:
        self._prev: list[bool] = []

    def __enter__(self):
        self._prev.append(state.enabled)
        state.enabled = self._value
        return None

    def __exit__(self, *exc) -> bool:
        state.enabled = self._prev.pop()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradSwitch):  # noqa: N801
    """Disable graph recording (forward results have ``requires_grad=False``)."""

    _value = False


class enable_grad(_GradSwitch):  # noqa: N801
    """Enable graph recording inside a ``no_grad`` region."""

    _value = True


class inference_mode(_GradSwitch):  # noqa: N801
    """Like ``no_grad`` (lamina has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        super().__init__()
        self._value = not mode
        self._prev_inference: list[bool] = []

    def __enter__(self):
        self._prev_inference.append(state.inference)
        state.inference = not self._value
        return super().__enter__()

    def __exit__(self, *exc) -> bool:
        state.inference = self._prev_inference.pop()
        return super().__exit__(*exc)

    def __call__(self, fn):
        if not callable(fn):
            raise TypeError(f"inference_mode: expected a function to decorate, got {type(fn).__name__}")
        mode = not self._value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(mode):
                return fn(*args, **kwargs)

        return wrapper


class set_grad_enabled(_GradSwitch):  # noqa: N801
    """Set recording on or off; acts immediately as a function and restores on exit as a context."""

    def __init__(self, mode: bool) -> None:
        super().__init__()
        self._value = bool(mode)
        self._prev.append(state.enabled)
        state.enabled = self._value

    def __enter__(self):
        return None

    def __exit__(self, *exc) -> bool:
        state.enabled = self._prev.pop()
        return False

    def __call__(self, fn):
        state.enabled = self._prev.pop()
        value = self._value

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(value):
                return fn(*args, **kwargs)

        return wrapper


class detect_anomaly:  # noqa: N801
    """Anomaly mode: record forward stacks and name the op whose backward produced NaN."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._prev: list[tuple[bool, bool]] = []

    def __enter__(self):
        global anomaly_seen
        self._prev.append((state.anomaly, state.anomaly_check_nan))
        state.anomaly, state.anomaly_check_nan, anomaly_seen = True, self.check_nan, True
        return None

    def __exit__(self, *exc) -> bool:
        state.anomaly, state.anomaly_check_nan = self._prev.pop()
        return False


def set_detect_anomaly(mode: bool, check_nan: bool = True) -> None:
    global anomaly_seen
    state.anomaly, state.anomaly_check_nan = bool(mode), check_nan
    anomaly_seen = anomaly_seen or bool(mode)


def is_anomaly_enabled() -> bool:
    return state.anomaly


def is_anomaly_check_nan_enabled() -> bool:
    return state.anomaly_check_nan


def is_inference_mode_enabled() -> bool:
    return state.inference
