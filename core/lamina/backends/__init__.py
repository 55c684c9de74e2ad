"""The backends layer: the backend protocol, devices, random generators and the kernel registry.

Sits on the base layer and the plugin index (backends are found through entry points); the tensor
layer and everything above build on it.
"""

from __future__ import annotations

from ._device import (
    backend_available,
    device,
    get_backend,
    get_default_device,
    set_backend,
    set_default_device,
)
from ._protocol import Backend
from .torch_flags import modules as _flag_modules

# torch.backends.cudnn / .cuda / .mps / .mkldnn / .openmp ...: flags read back as written (torch_flags' docstring)
globals().update(_flag_modules(__name__))

__all__ = ["Backend", "device", "set_default_device", "get_default_device", "set_backend", "get_backend",
           "backend_available"]
