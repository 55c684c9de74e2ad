"""Exception types raised by lamina.

User mistakes raise these (never ``assert``); each message names the op or layer, what it
expected and what it got.
"""

from __future__ import annotations


class LaminaError(Exception):
    """Base of every lamina-specific error."""


class ShapeError(LaminaError, ValueError, RuntimeError):
    """An input has the wrong shape.

    A ValueError (STYLE.md), and also a RuntimeError so that code written for PyTorch, which raises
    RuntimeError for shape mismatches, still catches it.
    """


class DTypeError(LaminaError, TypeError, RuntimeError):
    """An input has the wrong dtype (a TypeError, and a RuntimeError as PyTorch raises)."""


class DeviceMismatchError(LaminaError, RuntimeError):
    """Inputs of one op live on different devices."""


class BackendUnavailableError(LaminaError, RuntimeError):
    """A device was requested whose backend is missing or unusable; carries the reason."""


class OutOfMemoryError(LaminaError, MemoryError):
    """A backend could not allocate memory."""


class PluginError(LaminaError, RuntimeError):
    """Base of the plugin-system errors."""


class PluginNotFoundError(PluginError, AttributeError):
    """A name that no installed plugin provides."""


class PluginConflictError(PluginError):
    """Two distributions offer one name and no preference was stated."""


class PluginLoadError(PluginError):
    """A plugin failed to import or load; the original error is chained."""


class PluginVersionError(PluginError):
    """A plugin was built for an incompatible plugin-API major version."""


class PluginConfigError(PluginError, ValueError):
    """A plugin control (environment variable or API argument) has an invalid value."""


class NamespaceNotFoundError(ModuleNotFoundError, PluginError):
    """``import lamina.<namespace>`` for a namespace that no installed (or allowed) plugin provides."""


class CheckpointError(LaminaError, ValueError):
    """A checkpoint file is malformed, truncated or in another format; names the file."""


class CheckpointFormatError(CheckpointError):
    """The file is not a safetensors/lamina checkpoint (a pickle, a torch.save zip, a .npy, random bytes)."""


class CheckpointTruncatedError(CheckpointError):
    """The file ends before the header length, the header or the data buffer it declares."""


class CheckpointHeaderError(CheckpointError):
    """The JSON header (or the lamina structure in its metadata) is malformed or inconsistent."""


__all__ = [
    "LaminaError",
    "ShapeError",
    "DTypeError",
    "DeviceMismatchError",
    "BackendUnavailableError",
    "OutOfMemoryError",
    "PluginError",
    "PluginNotFoundError",
    "PluginConflictError",
    "PluginLoadError",
    "PluginVersionError",
    "PluginConfigError",
    "NamespaceNotFoundError",
    "CheckpointError",
    "CheckpointFormatError",
    "CheckpointTruncatedError",
    "CheckpointHeaderError",
]


def broadcast_error(shapes: list) -> ShapeError:
    """torch's error for operand shapes that do not broadcast (NumPy's ValueError names neither size)."""
    shapes = [tuple(sh) for sh in shapes]
    for i in range(len(shapes)):
        for j in range(i + 1, len(shapes)):
            a, b = shapes[i], shapes[j]
            n = max(len(a), len(b))
            pa, pb = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
            for d in range(n - 1, -1, -1):
                if pa[d] != pb[d] and pa[d] != 1 and pb[d] != 1:
                    return ShapeError(f"The size of tensor a ({pa[d]}) must match the size of tensor b ({pb[d]}) at "
                                      f"non-singleton dimension {d}")
    return ShapeError(f"operand shapes {shapes} do not broadcast")
