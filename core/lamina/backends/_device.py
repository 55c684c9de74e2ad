"""Devices and backend selection (DESIGN.md §4).

A backend (``_protocol.Backend``) is found through the entry-point group
``lamina.backends.<device_type>`` by the plugin index, probed, and loaded once per device type.
Devices are strings (``"cpu"``, ``"cuda"``, ``"cuda:1"``) interned as :class:`device` objects.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from .. import plugins
from .._base.errors import BackendUnavailableError
from . import kernels
from ._protocol import SEED, Backend, num_threads

__all__ = ["Backend", "device", "set_default_device", "get_default_device", "set_backend", "get_backend"]


_lock = threading.RLock()
_backends: dict[str, Backend] = {}  # device_type -> instantiated backend
_choice: dict[str, str] = {}  # device_type -> backend name chosen by set_backend / LAMINA_BACKENDS
_unavailable: dict[str, str] = {}

_INSTALL_HINT = {
    "cpu": "install the CPU backend: pip install lamina-backend-cpu "
           "(in a checkout: pip install -e plugins/backend_cpu)",
    "cuda": "install the CUDA backend: pip install 'lamina-backend-cuda[cuda12]' (needs an NVIDIA GPU and driver)",
}


def _env_choices() -> dict[str, str]:
    spec = os.environ.get("LAMINA_BACKENDS", "")
    out = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        if "=" not in part:
            raise ValueError(f"LAMINA_BACKENDS: expected entries 'device_type=name', got {part!r}")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def _load(device_type: str) -> Backend:
    wanted = _choice.get(device_type) or _env_choices().get(device_type)
    reasons = []
    candidates = []
    for name, cls in plugins.load_backend_classes(device_type):
        if isinstance(cls, BaseException):
            reasons.append(f"{name}: failed to load ({type(cls).__name__}: {cls})")
            continue
        if wanted is not None and name != wanted:
            continue
        candidates.append((name, cls))
    if wanted is not None and not candidates:
        raise BackendUnavailableError(
            f"backend {wanted!r} for device type {device_type!r} was requested but is not installed"
            + (f" ({'; '.join(reasons)})" if reasons else ""))
    candidates.sort(key=lambda nc: -getattr(nc[1], "priority", 0))
    for name, cls in candidates:
        try:
            ok, why = cls.probe()
        except Exception as e:  # a probe must never raise; treat it as unusable
            ok, why = False, f"probe() raised {type(e).__name__}: {e}"
        if not ok:
            reasons.append(f"{name}: {why}")
            continue
        backend = cls()
        backend.register_kernels(kernels.registry)
        for register in plugins.kernel_packs(device_type):
            register(kernels.registry)
        return backend
    hint = _INSTALL_HINT.get(device_type,
                             f"install a package providing entry points in 'lamina.backends.{device_type}'")
    why = "; ".join(reasons) if reasons else "no backend is installed"
    raise BackendUnavailableError(f"no usable backend for device type {device_type!r}: {why}. To fix: {hint}")


def get_backend(device_type: str) -> Backend:
    """The backend serving ``device_type`` (loaded on first use; raises BackendUnavailableError)."""
    b = _backends.get(device_type)
    if b is not None:
        return b
    with _lock:
        b = _backends.get(device_type)
        if b is None:
            b = _load(device_type)
            _backends[device_type] = b
            if SEED[0] is not None:
                b.reseed(SEED[0])
            if num_threads(explicit=True) is not None:
                b.set_num_threads(num_threads(explicit=True))  # type: ignore[arg-type]
        return b


def backend_available(device_type: str) -> tuple[bool, str]:
    """(available, reason) without raising."""
    try:
        get_backend(device_type)
        return True, ""
    except BackendUnavailableError as e:
        return False, str(e)


def set_backend(device_type: str, name: str | None) -> None:
    """Choose which named backend serves ``device_type`` (e.g. ``set_backend("cpu", "numpy")``).

    ``None`` forgets the choice (``LAMINA_BACKENDS``, then priority, decide again). Takes effect for
    tensors created afterwards; existing tensors keep their arrays. The device type's default random
    generator belongs to the old backend and is dropped (reseeded from ``manual_seed`` if one was set).
    """
    with _lock:
        if name is None:
            _choice.pop(device_type, None)
        else:
            _choice[device_type] = name
        _backends.pop(device_type, None)
        for d in _DEVICES.values():
            if d.type == device_type:
                d._backend = None


class device:  # noqa: N801  (mirrors torch.device)
    """A device: ``lamina.device("cuda:1")``; also a context manager setting the default device."""

    __slots__ = ("type", "index", "_backend", "_prev")

    def __new__(cls, spec: Any = "cpu", index: int | None = None) -> device:
        if isinstance(spec, device) and index is None:
            return spec
        key = _parse(spec, index)
        d = _DEVICES.get(key)
        if d is None:
            d = object.__new__(cls)
            d.type, d.index = key
            d._backend = None
            d._prev = []
            _DEVICES[key] = d
        return d

    @property
    def backend(self) -> Backend:
        b = self._backend
        if b is None:
            b = self._backend = get_backend(self.type)
        return b

    @property
    def xp(self):
        return self.backend.xp

    def concrete(self) -> device:
        """The device a tensor lands on: ``cuda`` means the current CUDA device (``cuda:0``), as in PyTorch.

        The CPU has no index. Tensors always carry a concrete device, so ``cuda`` and ``cuda:0`` never mix.
        """
        if self.index is not None or self.type == "cpu":
            return self
        current = getattr(self.backend, "current_device", None)
        return device(self.type, current() if current is not None else 0)

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        return self is other

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self) -> device:
        self._prev.append(_default[0])
        _default[0] = self
        return self

    def __exit__(self, *exc) -> bool:
        _default[0] = self._prev.pop()
        return False


_DEVICES: dict[tuple[str, int | None], device] = {}


def _parse(spec: Any, index: int | None) -> tuple[str, int | None]:
    if isinstance(spec, device):
        return spec.type, index
    if isinstance(spec, int) and not isinstance(spec, bool):
        return "cuda", spec
    if not isinstance(spec, str):
        raise TypeError(f"device: expected a string like 'cpu' or 'cuda:0', got {type(spec).__name__}")
    s = spec.strip()
    if ":" in s:
        t, _, i = s.partition(":")
        if not i.isdigit() or index is not None:
            raise ValueError(f"device: expected 'type' or 'type:index' (e.g. 'cuda:1'), got {spec!r}")
        return t, int(i)
    if not s.isidentifier():
        raise ValueError(f"device: expected a device type such as 'cpu' or 'cuda', got {spec!r}")
    return s, index


_default: list[device | None] = [None]


def get_default_device() -> device:
    """The device new tensors go to: ``set_default_device``, else ``LAMINA_DEFAULT_DEVICE``, else cpu."""
    d = _default[0]
    if d is None:
        d = _default[0] = device(os.environ.get("LAMINA_DEFAULT_DEVICE", "cpu") or "cpu")
    return d


def set_default_device(d: Any) -> None:
    """Set the device that factory functions use when no ``device=`` is given."""
    _default[0] = None if d is None else device(d)


def explain(op: Any, *args: Any, device: Any = None, **kwargs: Any) -> str:
    """Say which implementation of ``op`` runs for these arguments, and why."""
    op = kernels._resolve(op)
    dev = None
    arrays = []
    for a in args:
        if isinstance(getattr(a, "device", None), _device_type):  # a Tensor (defined a layer above)
            dev = dev or a.device
            arrays.append(a.array)
        else:
            arrays.append(a)
    dev = _device_type(device) if device is not None else (dev or get_default_device())
    _ = dev.backend  # make sure the backend (and its kernels) are loaded
    lines = [f"op {op.__name__} on {dev.type}:"]
    chosen = None
    for k in kernels.candidates(op, dev.type):
        ok = k.supports is None or bool(k.supports(arrays, kwargs))
        lines.append(f"  kernel {k.name} (priority {k.priority}): {'supports' if ok else 'does not support'} "
                     "these inputs")
        if ok and chosen is None:
            chosen = k.name
    lines.append(f"  -> {chosen or 'reference implementation ' + op.__name__}")
    return "\n".join(lines)


_device_type = device
