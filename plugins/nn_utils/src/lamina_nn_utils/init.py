"""``lamina.nn.utils.init``: ``skip_init``, a module built without running its parameter initialisation."""

from __future__ import annotations

import inspect
from typing import Any

from lamina.nn import Module

__lamina_plugin_api__ = "1.0"


def skip_init(module_cls: type[Module], *args: Any, **kwargs: Any) -> Module:
    """``module_cls(*args, **kwargs)`` on ``kwargs['device']`` (default ``'cpu'``), its values unspecified.

    The class must accept a ``device`` keyword (RuntimeError otherwise, as torch). torch builds the module
    on the meta device and then allocates uninitialised storage; lamina has no meta device, so it builds
    the module on the final device directly: shapes, dtypes, devices, Parameter/buffer structure and
    ``requires_grad`` are those torch gives, and the values (which torch leaves uninitialised, so no program
    can rely on them) are whatever the constructor set.
    """
    if not issubclass(module_cls, Module):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    kwargs["device"] = kwargs.pop("device", "cpu")
    return module_cls(*args, **kwargs)


__all__ = ["skip_init"]
