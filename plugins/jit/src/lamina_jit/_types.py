"""torch.jit's runtime types, as plain Python: ``Error``, the tracer's warning and check error, ``Future``
(what ``fork`` returns) and ``isinstance`` (a check against typing containers such as ``list[int]`` or
``dict[str, Tensor]``, as ``torch.jit.isinstance`` does in eager mode)."""

from __future__ import annotations

import builtins
import types
import typing
import warnings
from collections.abc import Callable
from typing import Any

import lamina

__all__ = ["Error", "Future", "TracerWarning", "TracingCheckError", "isinstance"]


class Error(Exception):
    """torch.jit.Error: what TorchScript's ``raise`` raises. Nothing in lamina raises it; it exists so that
    ``except lamina.jit.Error`` works."""


class TracerWarning(Warning):
    """A traced program may not be what the Python code does (a list output, ...)."""


class TracingCheckError(Exception):
    """torch's trace check failed; lamina runs the function itself, so this is never raised."""

    def __init__(self, graph_diff_error: Any = None, tensor_compare_error: Any = None, extra_msg: Any = None):
        super().__init__("\n".join(str(m) for m in (extra_msg, graph_diff_error, tensor_compare_error) if m))


class Future:
    """The result of :func:`lamina.jit.fork`: already complete, since fork runs its function at once."""

    def __init__(self) -> None:
        self._done = False
        self._value: Any = None
        self._callbacks: list[Callable[[Future], Any]] = []

    def set_result(self, result: Any) -> None:
        if self._done:
            raise RuntimeError("Future can only be marked completed once")
        self._value, self._done = result, True
        for callback in self._callbacks:
            callback(self)

    def done(self) -> bool:
        return self._done

    def wait(self) -> Any:
        if not self._done:
            raise RuntimeError("Future.wait: the future has no result (set_result was never called)")
        return self._value

    def value(self) -> Any:
        return self.wait()

    def then(self, callback: Callable[[Future], Any]) -> Future:
        """A new Future holding ``callback(self)`` once this one completes."""
        out = Future()
        self.add_done_callback(lambda fut: out.set_result(callback(fut)))
        return out

    def add_done_callback(self, callback: Callable[[Future], Any]) -> None:
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)

    def __repr__(self) -> str:
        return f"Future(done={self._done})"


def _matches(obj: Any, target: Any) -> bool:
    origin = typing.get_origin(target)
    if origin is None:
        if target is Any:
            return True
        if target is None or target is type(None):
            return obj is None
        if target is float:
            return builtins.isinstance(obj, float)
        if not builtins.isinstance(target, type):
            raise RuntimeError("The second argument to `lamina.jit.isinstance` must be a type or a tuple of types")
        return builtins.isinstance(obj, target)
    args = typing.get_args(target)
    if args and origin in (list, dict, tuple) and builtins.isinstance(obj, (list, dict, tuple)) and not obj:
        warnings.warn("lamina.jit.isinstance: the inner type of an empty container cannot be checked, so it matches "
                      f"{target} whatever its inner types (as in torch's eager mode)", stacklevel=3)
    if origin in (typing.Union, types.UnionType):  # Optional[T] is Union[T, None]
        return any(_matches(obj, a) for a in args)
    if origin is list:
        return type(obj) is list and (not args or all(_matches(x, args[0]) for x in obj))
    if origin is dict:
        return type(obj) is dict and (not args or all(_matches(k, args[0]) and _matches(v, args[1])
                                                      for k, v in obj.items()))
    if origin is tuple:
        if not builtins.isinstance(obj, tuple):
            return False
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(x, args[0]) for x in obj)
        return len(obj) == len(args) and all(_matches(x, a) for x, a in zip(obj, args))
    return builtins.isinstance(obj, origin)


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001 - torch's name
    """Whether ``obj`` is of ``target_type``, a class or a typing container (``list[int]``, ``dict[str,
    Tensor]``, ``tuple[int, str]``, ``Optional[Tensor]``) checked element by element; a tuple of such types
    matches any of them."""
    if type(target_type) is tuple:
        return any(_matches(obj, t) for t in target_type)
    if target_type is lamina.Tensor:
        return lamina.is_tensor(obj)
    return _matches(obj, target_type)
