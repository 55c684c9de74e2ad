"""``lamina.nn``: Module, Parameter and the containers from the core; every layer and loss from plugins.

Plugin names (group ``lamina.layers`` and ``lamina.losses``) are resolved on first use through
PEP 562 ``__getattr__``; importing this package reads no entry points and imports no plugin.
"""

from __future__ import annotations

from .. import plugins as _plugins
from . import _reduction, functional, init, utils  # noqa: F401  (_reduction: torch.nn._reduction)
from ._containers_params import ParameterDict, ParameterList
from ._module_state import _IncompatibleKeys
from .containers import Identity, ModuleDict, ModuleList, Sequential
from .module import Module
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter

__getattr__, __dir__ = _plugins.namespace(("lamina.layers", "lamina.losses"), __name__)

__all__ = ["Module", "Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "Sequential",
           "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Identity", "functional", "init", "utils"]
