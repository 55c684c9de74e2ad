"""Opt-in whole-object pickling: ``lamina.save(obj, f, pickle=True)`` / ``lamina.load(f, weights_only=False)``.

Unpickling runs code named by the file, so it happens only when the caller asks for it, and both
directions warn with :class:`PickleWarning`. Tensors inside the pickle are placed by
``map_location`` through the unpickler (the rebuild functions of Tensor, Parameter and Buffer
are wrapped), so a pickled CUDA model loads on a CPU-only machine with ``map_location="cpu"``.
"""

from __future__ import annotations

import pickle
import warnings
from collections.abc import Callable
from typing import IO, Any

from .._base.errors import CheckpointFormatError


class PickleWarning(UserWarning):
    """Pickled checkpoints execute code when loaded; prefer ``lamina.save(model.state_dict(), ...)``."""


PROTOCOL = 4

# (module, name) of the functions that tensors' __reduce_ex__ return; the device string is args[2]
_REBUILDERS = {("lamina._tensor", "_rebuild"), ("lamina._tensor.base", "_rebuild"),
               ("lamina.nn.parameter", "_rebuild_parameter"),
               ("lamina.nn.parameter", "_rebuild_buffer")}


def warn_dump() -> None:
    warnings.warn("lamina.save(..., pickle=True) writes a pickle: loading it executes code from the file and "
                  "needs lamina.load(..., weights_only=False). Prefer lamina.save(model.state_dict(), path).",
                  PickleWarning, stacklevel=3)


def dump(obj: Any, f: IO[bytes]) -> None:
    pickle.dump(obj, f, protocol=PROTOCOL)


def load(f: IO[bytes], name: str, place: Callable[[Any, str], Any]) -> Any:
    """Unpickle from ``f``; ``place(cpu_tensor, saved_location)`` returns the tensor where it belongs."""
    warnings.warn(f"lamina.load: unpickling {name} because weights_only=False; this executes code from the file. "
                  "Only do this for files you trust.", PickleWarning, stacklevel=4)
    try:
        return _Unpickler(f, place).load()
    except (pickle.UnpicklingError, EOFError) as e:
        raise CheckpointFormatError(f"lamina.load: {name} could not be unpickled ({type(e).__name__}: {e}); "
                                    "it is truncated, corrupt or not a pickle") from e


class _Unpickler(pickle.Unpickler):
    def __init__(self, f: IO[bytes], place: Callable[[Any, str], Any]) -> None:
        super().__init__(f)
        self._place = place

    def find_class(self, module: str, name: str) -> Any:
        fn = super().find_class(module, name)
        if (module, name) not in _REBUILDERS:
            return fn
        place = self._place

        def rebuild(cls: type, host: Any, dev: str, *rest: Any) -> Any:
            return place(fn(cls, host, "cpu", *rest), dev)

        return rebuild
